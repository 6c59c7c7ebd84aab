//! The cells of the suite's figures, one rule for the terminal's tables and
//! the report's: a figure, a figure with its interval, a latency tail.

use crate::schema::{Record, SpreadKind};
use crate::table::Cell;
use crate::units::{nanos, percentile_or_max, relative_interval};

/// A record's value written by `write`; empty without a record.
pub fn figure(record: Option<&Record>, write: impl FnOnce(f64) -> String) -> Cell {
    Cell::of(record, |r| write(r.value))
}

/// A record's value written by `write` with its confidence interval as
/// percentages (`348 ns -5%/+16%`); empty without a record.
///
/// Only a median-of-runs interval ([`SpreadKind::MedianCi`]) is shown: the
/// min–max of one process's rounds (older files, `kvbench merge`) or
/// criterion's bootstrap interval of a mean is not an interval of the
/// figure the tables show, and a single run has none.
pub fn with_interval(record: Option<&Record>, write: impl FnOnce(f64) -> String) -> Cell {
    Cell::of(record, |r| match r.spread {
        Some(s) if r.value > 0.0 && s.kind == SpreadKind::MedianCi => {
            format!("{} {}", write(r.value), relative_interval(r.value, s.lower, s.upper))
        }
        _ => write(r.value),
    })
}

/// How a tail names the slowest lookup where too few were timed for the percentile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slowest {
    /// With how many were timed: `max of 194: 2.46 ms`.
    Counted,
    /// Short, for a narrow column: `max 2.46 ms`.
    Short,
}

/// A latency percentile of lookups timed alone, or the slowest of them
/// ([`Metric::LatencyMax`](crate::Metric::LatencyMax), whose samples say how
/// many were timed) where too few were timed for it; empty when neither was recorded.
pub fn tail(percentile: Option<&Record>, max: Option<&Record>, slowest: Slowest) -> Cell {
    match (percentile, max, slowest) {
        (None, Some(max), Slowest::Short) => Cell::text(format!("max {}", nanos(max.value))),
        _ => {
            let samples = max.and_then(|m| m.samples).unwrap_or(0);
            percentile_or_max(percentile.map(|r| r.value), max.map(|r| r.value), samples).into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Format;
    use crate::{DEFAULT_VALUE_LEN, DatasetInfo, Metric, RunInfo};

    fn record(value: f64) -> Record {
        let dataset = DatasetInfo::generated(1_000_000, DEFAULT_VALUE_LEN);
        Record::new(
            "hashmap",
            &dataset,
            Some(crate::Workload::UNIFORM),
            Metric::LookupMean,
            value,
            &RunInfo::detect(true),
        )
    }

    #[test]
    fn only_an_interval_of_runs_is_shown_as_one() {
        let record = record(348.0);
        let runs =
            Record::median_of_runs(&[331.0, 348.0, 402.0, 340.0, 351.0].map(|v| Record { value: v, ..record.clone() }));
        let text = |c: Cell| c.render(Format::Text);
        assert_eq!(text(with_interval(runs.as_ref(), nanos)), "348 ns -5%/+16%");
        // Older files: the min–max of one process's rounds is not a confidence interval.
        let rounds = record.clone().with_spread(300.0, 400.0, SpreadKind::MinMax);
        assert_eq!(text(with_interval(Some(&rounds), nanos)), "348 ns");
        assert!(with_interval(None, nanos).is_empty());
        assert_eq!(text(figure(runs.as_ref(), nanos)), "348 ns");
    }

    #[test]
    fn a_tail_falls_back_to_the_slowest() {
        let p99 = record(812.0);
        let max = Record { samples: Some(194), ..record(2.46e6) };
        let text = |c: Cell| c.render(Format::Text);
        assert_eq!(text(tail(Some(&p99), Some(&max), Slowest::Short)), "812 ns");
        assert_eq!(text(tail(None, Some(&max), Slowest::Counted)), "max of 194: 2.46 ms");
        assert_eq!(text(tail(None, Some(&max), Slowest::Short)), "max 2.46 ms");
        assert!(tail(None, None, Slowest::Counted).is_empty());
    }
}
