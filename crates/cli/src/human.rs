//! Numbers for people: durations and byte counts with sensible units.

/// `850 ns`, `12.3 µs`, `4.56 ms`, `1.23 s`.
pub fn nanos(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.0} ns"),
        n if n < 1e6 => format!("{:.3} µs", n / 1e3),
        n if n < 1e9 => format!("{:.3} ms", n / 1e6),
        n => format!("{:.3} s", n / 1e9),
    }
    .replace(".000 ", " ")
}

/// `512 B`, `1.5 KiB`, `68.2 MiB`, `1.20 GiB`.
pub fn bytes(b: u64) -> String {
    let b = b as f64;
    match b {
        n if n < 1024.0 => format!("{n:.0} B"),
        n if n < 1024.0 * 1024.0 => format!("{:.1} KiB", n / 1024.0),
        n if n < 1024.0 * 1024.0 * 1024.0 => format!("{:.1} MiB", n / 1024.0 / 1024.0),
        n => format!("{:.2} GiB", n / 1024.0 / 1024.0 / 1024.0),
    }
}

/// Left-aligned first column, right-aligned others, columns padded to fit.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let width = |col: usize| {
        rows.iter().map(|r| r.get(col).map_or(0, |c| c.chars().count())).chain([header[col].chars().count()]).max()
    };
    let widths: Vec<usize> = (0..header.len()).map(|c| width(c).unwrap_or(0)).collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| if i < 2 { format!("{cell:<w$}") } else { format!("{cell:>w$}") })
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(header.to_vec())];
    out.push(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
    out.extend(rows.iter().map(|r| line(r.iter().map(String::as_str).collect())));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(nanos(850.0), "850 ns");
        assert_eq!(nanos(12_345.0), "12.345 µs");
        assert_eq!(nanos(2e6), "2 ms");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 * 1024 * 1024 / 2), "1.5 MiB");
    }

    #[test]
    fn table_aligns() {
        let t = table(&["a", "b", "num"], &[vec!["x".into(), "yy".into(), "1".into()]]);
        assert_eq!(t, "a  b   num\n-  --  ---\nx  yy    1");
    }
}
