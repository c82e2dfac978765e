//! The bpfproof command line (contract: `CLI.md`).

mod bench;
mod cli;
mod corpus_run;
mod explain_log;
mod glob;
mod kernel_cmd;

fn main() {
    let code = cli::run();
    std::process::exit(code);
}
