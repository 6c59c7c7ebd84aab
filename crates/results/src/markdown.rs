//! Markdown tables, as the report and `kvbench compare --markdown` write them.

use std::fmt::Write;

/// A Markdown table: a header row, its rule, and one line per row (cells as given).
pub fn table(header: &[impl AsRef<str>], rows: &[Vec<String>]) -> String {
    let header: Vec<&str> = header.iter().map(AsRef::as_ref).collect();
    let mut out = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_has_a_header_a_rule_and_its_rows() {
        let t = table(&["a", "b"], &[vec!["1".into(), "2".into()], vec!["x".into(), "–".into()]]);
        assert_eq!(t, "| a | b |\n|---|---|\n| 1 | 2 |\n| x | – |\n");
    }
}
