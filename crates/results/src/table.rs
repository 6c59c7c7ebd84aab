//! A table of results, written as the terminal shows it ([`Table::text`]) or
//! as the report and `kvbench compare --markdown` write it ([`Table::markdown`]),
//! from the same header and rows.
//!
//! A cell knows where it has no figure ([`Cell::empty`]); the output chooses
//! the glyph ([`Format::empty`]): `-` in the terminal (plain ASCII, as every
//! terminal table has always shown it), `–` in Markdown (an en dash reads as
//! "none" in a rendered table, where a lone `-` could read as a minus sign).

use std::fmt::Write;

/// Where a table or a cell is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for the terminal.
    Text,
    /// A Markdown table.
    Markdown,
    /// Comma-separated values (RFC 4180), for spreadsheets and scripts.
    Csv,
}

impl Format {
    /// What an empty cell shows in this format.
    pub fn empty(self) -> &'static str {
        match self {
            Format::Text => "-",
            Format::Markdown => "–",
            Format::Csv => "",
        }
    }
}

/// One piece of a cell: text, or a figure that is missing.
#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Empty,
}

/// A table cell: text with, possibly, missing figures in it (`- -> 93%`,
/// `first: –`), each written as its format's [`Format::empty`] glyph.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    parts: Vec<Part>,
}

impl Cell {
    /// A cell with no figure.
    pub fn empty() -> Cell {
        Cell { parts: vec![Part::Empty] }
    }

    /// A cell of `text`.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell { parts: vec![Part::Text(text.into())] }
    }

    /// `value` written by `write`, or an empty cell.
    pub fn of<T>(value: Option<T>, write: impl FnOnce(T) -> String) -> Cell {
        value.map_or_else(Cell::empty, |v| Cell::text(write(v)))
    }

    /// This cell followed by `other`.
    pub fn then(mut self, other: impl Into<Cell>) -> Cell {
        self.parts.extend(other.into().parts);
        self
    }

    /// `cells` with `separator` between them: `1.2M / - / 200k`.
    pub fn join(cells: impl IntoIterator<Item = Cell>, separator: &str) -> Cell {
        let mut parts = Vec::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                parts.push(Part::Text(separator.to_owned()));
            }
            parts.extend(cell.parts);
        }
        Cell { parts }
    }

    /// Whether the cell has no figure at all.
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(|p| *p == Part::Empty)
    }

    /// The cell as `format` writes it.
    pub fn render(&self, format: Format) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                Part::Empty => format.empty(),
            })
            .collect()
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::text(text)
    }
}

impl From<Option<String>> for Cell {
    fn from(text: Option<String>) -> Cell {
        text.map_or_else(Cell::empty, Cell::text)
    }
}

/// A column: its title, and whether a narrow terminal table shows it.
#[derive(Clone, Debug)]
struct Column {
    title: String,
    narrow: bool,
}

/// A header and rows of cells, written as aligned text or as Markdown.
#[derive(Clone, Debug)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
    /// How many leading columns are left-aligned in text (the names); the others, figures, right-aligned.
    left: usize,
}

impl Table {
    /// An empty table under `header`; in text its first two columns left-aligned.
    pub fn new(header: &[impl AsRef<str>]) -> Table {
        let columns = header.iter().map(|t| Column { title: t.as_ref().to_owned(), narrow: true }).collect();
        Table { columns, rows: Vec::new(), left: 2 }
    }

    /// `header` over `rows` of plain text.
    pub fn of(header: &[impl AsRef<str>], rows: &[Vec<String>]) -> Table {
        Table::new(header).with_rows(rows.iter().map(|row| row.iter().cloned().map(Cell::text).collect()))
    }

    /// The same table with its first `left` columns left-aligned in text.
    pub fn left_aligned(mut self, left: usize) -> Table {
        self.left = left;
        self
    }

    /// The same table showing in narrow text only the columns `keep` marks
    /// (a column past `keep`'s end is kept); wide text and Markdown show every column.
    pub fn narrow(mut self, keep: &[bool]) -> Table {
        for (column, keep) in self.columns.iter_mut().zip(keep) {
            column.narrow = *keep;
        }
        self
    }

    /// The same table with `rows` added.
    pub fn with_rows(mut self, rows: impl IntoIterator<Item = Vec<Cell>>) -> Table {
        self.rows.extend(rows);
        self
    }

    /// Adds a row (one cell per column).
    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Aligned columns for the terminal: all of them when `wide`, else only
    /// those a narrow table keeps; no trailing newline.
    pub fn text(&self, wide: bool) -> String {
        let shown: Vec<usize> = (0..self.columns.len()).filter(|&c| wide || self.columns[c].narrow).collect();
        let cell = |row: &[Cell], c: usize| row.get(c).map_or_else(String::new, |cell| cell.render(Format::Text));
        let header: Vec<String> = shown.iter().map(|&c| self.columns[c].title.clone()).collect();
        let rows: Vec<Vec<String>> = self.rows.iter().map(|r| shown.iter().map(|&c| cell(r, c)).collect()).collect();
        let widths: Vec<usize> = (0..shown.len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0))
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, w))| if i < self.left { format!("{cell:<w$}") } else { format!("{cell:>w$}") })
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        let mut out = vec![line(&header)];
        out.push(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        out.extend(rows.iter().map(|r| line(r)));
        out.join("\n")
    }

    /// Comma-separated values (RFC 4180): the header, then one line per
    /// row; every column; a field with a comma, a quote or a line break quoted.
    pub fn csv(&self) -> String {
        let field = |text: &str| {
            if text.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", text.replace('"', "\"\""))
            } else {
                text.to_owned()
            }
        };
        let line = |cells: Vec<String>| cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",") + "\n";
        let mut out = line(self.columns.iter().map(|c| c.title.clone()).collect());
        for row in &self.rows {
            out.push_str(&line(row.iter().map(|c| c.render(Format::Csv)).collect()));
        }
        out
    }

    /// The table written as `format` says (text with every column).
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.text(true),
            Format::Markdown => self.markdown(),
            Format::Csv => self.csv(),
        }
    }

    /// A Markdown table: the header, its rule, one line per row; every column.
    pub fn markdown(&self) -> String {
        let header: Vec<&str> = self.columns.iter().map(|c| c.title.as_str()).collect();
        let mut out = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| c.render(Format::Markdown)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&["a", "b", "num", "extra"]).narrow(&[true, true, true, false]);
        t.push(vec!["x".into(), "yy".into(), "1".into(), "9".into()]);
        t.push(vec!["z".into(), Cell::empty(), Cell::text("2 -> ").then(Cell::empty()), Cell::empty()]);
        t
    }

    #[test]
    fn text_aligns_names_left_and_figures_right() {
        assert_eq!(sample().text(false), "a  b      num\n-  --  ------\nx  yy       1\nz  -   2 -> -");
        let wide = "a  b      num  extra\n-  --  ------  -----\nx  yy       1      9\nz  -   2 -> -      -";
        assert_eq!(sample().text(true), wide);
        let one = Table::of(&["a", "b"], &[vec!["x".into(), "1".into()]]).left_aligned(1);
        assert_eq!(one.text(false), "a  b\n-  -\nx  1");
    }

    #[test]
    fn markdown_has_a_header_a_rule_every_column_and_its_dash() {
        let md = "| a | b | num | extra |\n|---|---|---|---|\n| x | yy | 1 | 9 |\n| z | – | 2 -> – | – |\n";
        assert_eq!(sample().markdown(), md);
    }

    #[test]
    fn csv_quotes_what_needs_it_and_leaves_empty_fields_empty() {
        let mut t = Table::new(&["name", "value"]);
        t.push(vec![Cell::text("lru(0.1,mmap-index)"), Cell::text("say \"hi\"")]);
        t.push(vec![Cell::text("scan"), Cell::empty()]);
        assert_eq!(t.csv(), "name,value\n\"lru(0.1,mmap-index)\",\"say \"\"hi\"\"\"\nscan,\n");
        assert_eq!(t.render(Format::Csv), t.csv());
    }

    #[test]
    fn cells_join_and_know_when_empty() {
        let joined = Cell::join([Cell::text("1.2M"), Cell::empty(), Cell::of(Some(3), |n| n.to_string())], " / ");
        assert_eq!(joined.render(Format::Text), "1.2M / - / 3");
        assert_eq!(joined.render(Format::Markdown), "1.2M / – / 3");
        assert!(Cell::of(None::<f64>, |v| v.to_string()).is_empty());
        assert!(!joined.is_empty());
    }
}
