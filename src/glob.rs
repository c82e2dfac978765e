//! Shell-style glob matching for `-p/--program` (`*` and `?`).

/// True when `name` matches `pattern` (`*` any run, `?` any one character).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("xdp_*", "xdp_fw"));
        assert!(glob_match("*", ""));
        assert!(glob_match("x?p", "xdp"));
        assert!(!glob_match("xdp", "xdp_fw"));
        assert!(glob_match("*_fw", "xdp_fw"));
        assert!(!glob_match("tc_*", "xdp_fw"));
    }
}
