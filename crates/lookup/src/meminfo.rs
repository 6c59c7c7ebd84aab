//! The machine's memory, as Linux reports it in `/proc/meminfo`.

/// A field of `/proc/meminfo` in bytes, e.g. `MemTotal` (what the machine
/// has) or `MemAvailable` (what it could give a new process now without
/// swapping); `None` where the file or the field is missing.
pub fn meminfo_bytes(field: &str) -> Option<u64> {
    parse(&std::fs::read_to_string("/proc/meminfo").ok()?, field)
}

/// The field's value in `text`: a line `Field:   12345 kB`.
fn parse(text: &str, field: &str) -> Option<u64> {
    let line = text.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_field_in_bytes() {
        let text = "MemTotal:       24576000 kB\nMemFree:          100 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(parse(text, "MemTotal"), Some(24_576_000 * 1024));
        assert_eq!(parse(text, "MemAvailable"), Some(2048 * 1024));
        // A field is matched whole: `Mem` is not a prefix match of `MemTotal`.
        assert_eq!(parse(text, "Mem"), None);
        assert_eq!(parse(text, "SwapTotal"), None);
        assert_eq!(parse("MemTotal: lots kB\n", "MemTotal"), None);
    }

    #[test]
    fn this_machine_reports_its_memory() {
        assert!(meminfo_bytes("MemTotal").is_some_and(|b| b > 0));
    }
}
