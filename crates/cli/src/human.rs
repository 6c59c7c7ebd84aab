//! Numbers for people in the terminal: the units every table and the report
//! share ([`kvbench_results::units`]), the terminal's text table
//! ([`kvbench_results::table`]) and prose wrapped to the terminal's width.

use kvbench_results::table::Table;
use kvbench_results::units;

pub use kvbench_results::units::nanos;

/// A byte count, as [`units::bytes`] writes it (the CLI's counters are integers).
pub fn bytes(b: u64) -> String {
    units::bytes(b as f64)
}

/// Left-aligned first two columns, right-aligned others, columns padded to fit
/// ([`Table::text`], every column).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    Table::of(header, rows).text(true)
}

/// `text` with each line wrapped at `width` columns between words; a
/// wrapped `- ` bullet continues indented under its text.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let indent = if line.starts_with("- ") { "  " } else { "" };
        let mut current = String::new();
        for word in line.split(' ') {
            if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::replace(&mut current, indent.to_owned()));
            } else if !current.is_empty() && current != indent {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push(current);
    }
    out.join("\n")
}

/// `noun` or its plural for `n` of them: `1 line`, `2 lines`.
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 { noun.to_owned() } else { format!("{noun}s") }
}

/// An error and its causes on one line, `outer: inner: os error`, each cause
/// once: library errors name their cause in their own message (so they read
/// well alone), which `{:#}` would then print a second time.
pub fn error_chain(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns() {
        let t = table(&["a", "b", "num"], &[vec!["x".into(), "yy".into(), "1".into()]]);
        assert_eq!(t, "a  b   num\n-  --  ---\nx  yy    1");
    }

    #[test]
    fn prose_wraps_between_words() {
        let text = "- one two three four five six\nshort";
        assert_eq!(wrap(text, 12), "- one two\n  three four\n  five six\nshort");
        assert_eq!(wrap("unbreakable_word_longer_than_width", 5), "unbreakable_word_longer_than_width");
    }

    #[test]
    fn an_os_error_is_said_once() {
        // As thiserror writes `#[error("{path}: {source}")]` with a `source` field.
        #[derive(Debug)]
        struct Open {
            path: String,
            source: std::io::Error,
        }
        impl std::fmt::Display for Open {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}: {}", self.path, self.source)
            }
        }
        impl std::error::Error for Open {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.source)
            }
        }
        let io = std::io::Error::from_raw_os_error(2);
        let err = anyhow::Error::new(Open { path: "data.txt".into(), source: io }).context("cannot open the data");
        let os = std::io::Error::from_raw_os_error(2).to_string();
        assert_eq!(error_chain(&err), format!("cannot open the data: data.txt: {os}"));
        assert_eq!(error_chain(&anyhow::anyhow!("plain")), "plain");
    }
}
