//! Numbers for people in the terminal: the units every table and the report
//! share ([`kvbench_results::units`]), and the terminal's text table.

use kvbench_results::units;

pub use kvbench_results::units::nanos;

/// A byte count, as [`units::bytes`] writes it (the CLI's counters are integers).
pub fn bytes(b: u64) -> String {
    units::bytes(b as f64)
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
    fn table_aligns() {
        let t = table(&["a", "b", "num"], &[vec!["x".into(), "yy".into(), "1".into()]]);
        assert_eq!(t, "a  b   num\n-  --  ---\nx  yy    1");
    }
}
