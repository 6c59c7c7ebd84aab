//! Numbers for people, written one way everywhere: the terminal's tables,
//! the report's tables, sentences and chart axes, and `kvbench compare`.
//!
//! Durations and byte counts keep three significant digits, trailing zeros
//! dropped: `850 ns`, `12.3 µs`, `1.29 ms`, `2 ms`, `1.5 KiB`, `191 MiB`.
//! Three digits tell strategies apart; a fourth would be noise on a shared
//! 2-core machine, and a figure must read the same in the terminal and in the
//! report, so there is one precision.
//!
//! Formatting depends on the data model, not the reverse: this module writes
//! values by their [`Unit`] and labels a [`DatasetInfo`], and
//! [`crate::schema`] imports nothing from here.

use crate::names::DEFAULT_VALUE_LEN;
use crate::schema::{DatasetInfo, Unit};

/// Nanoseconds per unit of time, smallest first.
const TIME: [(f64, &str); 4] = [(1.0, "ns"), (1e3, "µs"), (1e6, "ms"), (1e9, "s")];

/// Bytes per unit of size, smallest first (binary units, as `/proc` and `ls -h` count).
const SIZE: [(f64, &str); 4] =
    [(1.0, "B"), (1024.0, "KiB"), (1024.0 * 1024.0, "MiB"), (1024.0 * 1024.0 * 1024.0, "GiB")];

/// A duration in nanoseconds: `850 ns`, `12.3 µs`, `1.29 ms`, `1.23 s`.
pub fn nanos(ns: f64) -> String {
    scaled(ns, &TIME)
}

/// A byte count: `512 B`, `1.5 KiB`, `68.2 MiB`, `1.2 GiB`.
pub fn bytes(b: f64) -> String {
    scaled(b, &SIZE)
}

/// A key count as people say it: `10k`, `1M`, or the plain number when it is not round.
///
/// Dataset labels, file names of generated datasets and benchmark ids all
/// spell counts this way; [`parse_count`] reads it back.
pub fn count(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// Reads a count written as `10000`, `10_000`, `10k`, `1M` or `1G` (either case); `None` when it is not one.
pub fn parse_count(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    let (digits, scale) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1_000),
        Some((i, 'm' | 'M')) => (&s[..i], 1_000_000),
        Some((i, 'g' | 'G')) => (&s[..i], 1_000_000_000),
        _ => (&s[..], 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

/// A size in bytes as a person writes it: `100MiB`, `1.5 GiB`, `512k`, `2G`, `4096`.
///
/// `K`/`M`/`G`/`T`, with or without `iB`, are binary (as `ls -h`, `free` and
/// cgroups count); `kB`/`MB`/`GB`/`TB` are decimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        if number.is_empty() {
            return Err(format!("{s:?} is not a size such as 100MiB"));
        }
        let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "k" | "kib" => 1024.0,
            "m" | "mib" => 1024.0 * 1024.0,
            "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
            "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            "kb" => 1e3,
            "mb" => 1e6,
            "gb" => 1e9,
            "tb" => 1e12,
            other => {
                return Err(format!("{s:?}: unknown unit {other:?} (use B, KiB, MiB, GiB, TiB, or kB, MB, GB, TB)"));
            }
        };
        let number: f64 = number.parse().map_err(|_| format!("{s:?} is not a size such as 100MiB"))?;
        let bytes = number * scale;
        if !bytes.is_finite() || bytes < 1.0 || bytes >= u64::MAX as f64 {
            return Err(format!("{s:?}: a size must be at least 1 byte"));
        }
        Ok(ByteSize(bytes.round() as u64))
    }
}

/// A sample count, rounded for a table: `950`, `12.3k`, `1.2M`.
pub fn approx_count(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{}M", significant(n as f64 / 1e6)),
        n if n >= 10_000 => format!("{}k", significant(n as f64 / 1e3)),
        n => n.to_string(),
    }
}

/// An interval around `value` as percentages of it, asymmetric as it is:
/// `-5%/+15%` (empty when `value` is not positive, where no percentage means anything).
pub fn relative_interval(value: f64, lower: f64, upper: f64) -> String {
    if value <= 0.0 || !value.is_finite() {
        return String::new();
    }
    let percent = |v: f64| (v / value * 100.0).round().abs();
    format!("-{:.0}%/+{:.0}%", percent(value - lower), percent(upper - value))
}

/// A latency percentile, or, where too few lookups were timed for it, the
/// slowest of the `samples` timed: `812 ns`, `max of 12: 4.1 ms`; `None` when neither was recorded.
pub fn percentile_or_max(percentile: Option<f64>, max: Option<f64>, samples: u64) -> Option<String> {
    match (percentile, max) {
        (Some(p), _) => Some(nanos(p)),
        (None, Some(max)) => Some(format!("max of {}: {}", approx_count(samples), nanos(max))),
        (None, None) => None,
    }
}

/// A fraction as a percentage, `5.0 %`; two decimals under 0.1 % (`0.02 %`: an instruction count's
/// small step is real); `∞` when it is not finite (a change from nothing).
pub fn percent(fraction: f64) -> String {
    let percent = fraction * 100.0;
    if !percent.is_finite() {
        "∞".into()
    } else if percent != 0.0 && percent.abs() < 0.1 {
        format!("{percent:.2} %")
    } else {
        format!("{percent:.1} %")
    }
}

/// [`percent`] with its sign: `+5.0 %`, `-0.02 %`, `+0.0 %`.
pub fn signed_percent(fraction: f64) -> String {
    let sign = if fraction < 0.0 { "-" } else { "+" };
    format!("{sign}{}", percent(fraction.abs()))
}

/// A value in `unit`, as tables show it.
pub fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Ns => nanos(v),
        Unit::Bytes => bytes(v),
        Unit::Ratio => format!("{:.1} %", v * 100.0),
        Unit::PerSecond => format!("{v:.0}/s"),
        Unit::Percent => format!("{v:.0} %"),
        Unit::Count => format!("{v:.1}"),
    }
}

impl DatasetInfo {
    /// A short label: `10k`, `1M`, `1M fixed:300` for non-default values, or a file's name.
    pub fn label(&self) -> String {
        if let Some(file) = &self.file {
            return file.name.clone();
        }
        let keys = count(self.keys);
        if self.value_len == DEFAULT_VALUE_LEN { keys } else { format!("{keys} {}", self.value_len) }
    }
}

/// `v` in the largest of `units` in which it is at least 1 once rounded, to three significant digits.
fn scaled(v: f64, units: &[(f64, &str)]) -> String {
    let fits = |scale: f64| round3((v / scale).abs()) >= 1.0;
    let (scale, unit) = units.iter().rev().find(|u| fits(u.0)).or(units.first()).copied().unwrap_or((1.0, ""));
    format!("{} {unit}", significant(v / scale))
}

/// Decimals that leave three significant digits (none from 100 up; at most two below 10).
fn decimals(v: f64) -> usize {
    if v == 0.0 || !v.is_finite() {
        return 0;
    }
    (2 - v.abs().log10().floor() as i64).clamp(0, 2) as usize
}

/// `v` (positive) rounded to three significant digits, so that 999.6 ns reads as 1 µs, not 1000 ns.
fn round3(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let factor = 10f64.powi(2 - v.log10().floor() as i32);
    (v * factor).round() / factor
}

/// `v` with three significant digits, trailing zeros (and a trailing point) dropped.
fn significant(v: f64) -> String {
    let text = format!("{v:.*}", decimals(v));
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_keep_small_steps_visible() {
        assert_eq!(signed_percent(0.05), "+5.0 %");
        assert_eq!(signed_percent(-0.0002), "-0.02 %");
        assert_eq!(signed_percent(0.0), "+0.0 %");
        assert_eq!(percent(f64::INFINITY), "∞");
    }

    #[test]
    fn sample_counts_and_intervals() {
        assert_eq!([950, 12_345, 200_000, 1_234_567].map(approx_count), ["950", "12.3k", "200k", "1.23M"]);
        assert_eq!(relative_interval(348.0, 331.0, 402.0), "-5%/+16%");
        assert_eq!(relative_interval(100.0, 100.0, 100.0), "-0%/+0%");
        assert_eq!(relative_interval(0.0, 0.0, 1.0), "");
        assert_eq!(percentile_or_max(Some(812.0), Some(4e6), 12), Some("812 ns".into()));
        assert_eq!(percentile_or_max(None, Some(4.1e6), 12), Some("max of 12: 4.1 ms".into()));
        assert_eq!(percentile_or_max(None, None, 0), None);
    }

    #[test]
    fn durations_keep_three_significant_digits() {
        let cases = [
            (0.0, "0 ns"),
            (0.5, "0.5 ns"),
            (29.43, "29.4 ns"),
            (850.0, "850 ns"),
            (999.4, "999 ns"),
            (999.6, "1 µs"),
            (12_345.0, "12.3 µs"),
            (1_289_000.0, "1.29 ms"),
            (2e6, "2 ms"),
            (1.2e6, "1.2 ms"),
            (999_960.0, "1 ms"),
            (1.234e9, "1.23 s"),
            (4_321e9, "4321 s"),
            (-1_500.0, "-1.5 µs"),
        ];
        for (ns, text) in cases {
            assert_eq!(nanos(ns), text, "{ns}");
        }
    }

    #[test]
    fn sizes_keep_three_significant_digits() {
        let mib = 1024.0 * 1024.0;
        let cases = [
            (512.0, "512 B"),
            (1536.0, "1.5 KiB"),
            (68.2 * mib, "68.2 MiB"),
            (190.7 * mib, "191 MiB"),
            (1.2 * 1024.0 * mib, "1.2 GiB"),
            (-2.0 * mib, "-2 MiB"),
        ];
        for (b, text) in cases {
            assert_eq!(bytes(b), text, "{b}");
        }
    }

    #[test]
    fn counts_read_back_as_written() {
        for (n, text) in [(10_000, "10k"), (1_000_000, "1M"), (1234, "1234"), (1_500_000, "1500k"), (0, "0")] {
            assert_eq!(count(n), text);
            assert_eq!(parse_count(text), Some(n));
        }
        assert_eq!(parse_count("1_000"), Some(1000));
        assert_eq!(parse_count(" 2G "), Some(2_000_000_000));
        for bad in ["k", "-1", "1.5M", "99999999999G", ""] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
    }

    #[test]
    fn values_follow_their_unit() {
        assert_eq!(value(Unit::Ns, 1_289_000.0), nanos(1_289_000.0));
        assert_eq!(value(Unit::Bytes, 1536.0), "1.5 KiB");
        assert_eq!(value(Unit::Ratio, 0.725), "72.5 %");
        assert_eq!(value(Unit::PerSecond, 1234.4), "1234/s");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        let size = |s: &str| s.parse::<ByteSize>().map(|b| b.0);
        assert_eq!(size("100MiB"), Ok(100 << 20));
        assert_eq!(size("1.5 GiB"), Ok(3 << 29));
        assert_eq!(size("512k"), Ok(512 << 10));
        assert_eq!(size("2MB"), Ok(2_000_000));
        assert_eq!(size("4096"), Ok(4096));
        for bad in ["", "MiB", "0", "-1MiB", "10 parsecs", "1.2.3M"] {
            assert!(size(bad).is_err(), "{bad:?}");
        }
    }
}
