//! Simple timing of the hot transfer functions (no external harness):
//! prints nanoseconds per operation for add, and, refine and sync.

use std::hint::black_box;
use std::time::Instant;

use bpfproof_domains::{AluOp, JmpOp, Scalar, Tnum};

/// A small pool of varied, valid abstract scalars.
fn pool() -> Vec<Scalar> {
    let mut v = vec![
        Scalar::unknown(),
        Scalar::constant(7),
        Scalar::from_urange(0, 255),
        Scalar::from_srange(-100, 100),
        Scalar::from_urange(0x1_0000_0000, 0x1_ffff_ffff),
        Scalar::from_tnum(Tnum::new(0x10, 0xf0f)),
        Scalar::from_srange(i64::MIN / 3, 17),
        Scalar::from_urange(1, u32::MAX as u64),
    ];
    let extra: Vec<Scalar> = v.iter().map(|s| s.join(&Scalar::constant(3))).collect();
    v.extend(extra);
    v
}

fn bench<F: FnMut(usize) -> u64>(name: &str, iters: usize, mut f: F) {
    // warm-up
    let mut sink = 0u64;
    for i in 0..iters / 10 {
        sink = sink.wrapping_add(f(i));
    }
    let start = Instant::now();
    for i in 0..iters {
        sink = sink.wrapping_add(f(i));
    }
    let ns = start.elapsed().as_nanos() as f64 / iters as f64;
    black_box(sink);
    println!("{name:<24} {ns:>8.1} ns/op");
}

fn main() {
    let p = pool();
    let n = p.len();
    let iters = 2_000_000;
    bench("alu add (64-bit)", iters, |i| {
        let r = Scalar::alu(
            AluOp::Add,
            true,
            black_box(&p[i % n]),
            black_box(&p[(i / n) % n]),
        );
        r.umax
    });
    bench("alu add (32-bit)", iters, |i| {
        let r = Scalar::alu(
            AluOp::Add,
            false,
            black_box(&p[i % n]),
            black_box(&p[(i / n) % n]),
        );
        r.umax
    });
    bench("alu and (64-bit)", iters, |i| {
        let r = Scalar::alu(
            AluOp::And,
            true,
            black_box(&p[i % n]),
            black_box(&p[(i / n) % n]),
        );
        r.umax
    });
    bench("alu mul (64-bit)", iters, |i| {
        let r = Scalar::alu(
            AluOp::Mul,
            true,
            black_box(&p[i % n]),
            black_box(&p[(i / n) % n]),
        );
        r.umax
    });
    bench("refine jlt (both sides)", iters, |i| {
        let b = Scalar::reg_set_min_max(
            black_box(&p[i % n]),
            black_box(&p[(i / n) % n]),
            JmpOp::Jlt,
            false,
        );
        b.taken.map_or(0, |t| t.0.umax)
    });
    bench("refine jeq32 (both sides)", iters, |i| {
        let b = Scalar::reg_set_min_max(
            black_box(&p[i % n]),
            black_box(&p[(i / n) % n]),
            JmpOp::Jeq,
            true,
        );
        b.not_taken.map_or(0, |t| t.0.umax)
    });
    bench("sync (reg_bounds_sync)", iters, |i| {
        let mut s = *black_box(&p[i % n]);
        s.umax = s.umax.wrapping_sub(i as u64 & 0xff).max(s.umin);
        s.sync();
        s.umax
    });
}
