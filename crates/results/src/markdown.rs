//! Markdown tables of plain text cells, as `kvbench compare --markdown`, the
//! history and the report's other tables write them: a shorthand for [`Table::markdown`].

use crate::table::Table;

/// A Markdown table: a header row, its rule, and one line per row (cells as given).
pub fn table(header: &[impl AsRef<str>], rows: &[Vec<String>]) -> String {
    Table::of(header, rows).markdown()
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
