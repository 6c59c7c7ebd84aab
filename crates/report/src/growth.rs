//! How each strategy's costs grow with the key count, from the suite's
//! records on datasets of default values: the lines of the growth chart and
//! the factors the report states (e.g. p50 at 100M keys over p50 at 1M).

use kvbench_results::{BASE_KEYS, Metric, Workload};

use crate::data::{Cases, Data, Source, tail};

/// A cost that grows with the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// Median latency of a uniform lookup timed alone, in the steady case.
    P50,
    /// p99 (or the slowest, where too few were timed) of the same.
    P99,
    /// Time to open from nothing: the build case, or the only case of a strategy that keeps nothing.
    Build,
    /// Anonymous plus file-backed resident bytes per key, in the steady case.
    ResidentPerKey,
}

impl Cost {
    /// Every cost, in the chart's and table's order.
    pub const ALL: [Cost; 4] = [Cost::P50, Cost::P99, Cost::Build, Cost::ResidentPerKey];

    /// How tables and panels name it.
    pub fn title(self) -> &'static str {
        match self {
            Cost::P50 => "p50 latency, uniform",
            Cost::P99 => "p99 latency, uniform",
            Cost::Build => "open from nothing (build)",
            Cost::ResidentPerKey => "resident bytes per key",
        }
    }

    /// The metric it is read from (its unit sets the axis).
    pub fn metric(self) -> Metric {
        match self {
            Cost::P50 => Metric::LatencyP50,
            Cost::P99 => Metric::LatencyP99,
            Cost::Build => Metric::OpenTime,
            Cost::ResidentPerKey => Metric::ResidentBytesPerKey,
        }
    }

    /// Its value for `strategy` at `keys`, if measured.
    pub fn value(self, data: &Data, strategy: &str, keys: u64) -> Option<f64> {
        let cases = Cases::of(data, strategy, keys)?;
        let case = match self {
            Cost::Build => cases.build.as_ref()?,
            _ => cases.steady()?,
        };
        match self {
            Cost::P99 => tail(data, case, keys, Workload::UNIFORM),
            Cost::Build => data.value(Source::Suite, case, keys, None, Metric::OpenTime),
            Cost::P50 => data.value(Source::Suite, case, keys, Some(Workload::UNIFORM), Metric::LatencyP50),
            Cost::ResidentPerKey => data.value(Source::Suite, case, keys, None, Metric::ResidentBytesPerKey),
        }
    }
}

/// The strategies the suite measured (the names of its cases, however started; cold starts left out), in the order first recorded.
pub fn strategies(data: &Data) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in data.datasets(Source::Suite) {
        for case in data.warm_cases(Source::Suite, d.keys, None, Metric::OpenTime) {
            if !out.contains(&case.strategy) {
                out.push(case.strategy);
            }
        }
    }
    out
}

/// Per strategy with at least two datasets, `(keys, value)` of `cost`, fewest keys first.
pub fn lines(data: &Data, cost: Cost) -> Vec<(String, Vec<(f64, f64)>)> {
    let datasets = data.datasets(Source::Suite);
    strategies(data)
        .into_iter()
        .map(|s| {
            let points = datasets.iter().filter_map(|d| Some((d.keys as f64, cost.value(data, &s, d.keys)?))).collect();
            (s, points)
        })
        .filter(|(_, points): &(String, Vec<(f64, f64)>)| points.len() > 1)
        .collect()
}

/// The largest dataset past [`BASE_KEYS`] (1M) that the suite measured: where growth factors are read.
pub fn largest_past_base(data: &Data) -> Option<u64> {
    data.datasets(Source::Suite).iter().map(|d| d.keys).filter(|&k| k > BASE_KEYS).max()
}

/// How many times `cost` grew for `strategy` from 1M keys to `to` keys.
pub fn factor(data: &Data, strategy: &str, cost: Cost, to: u64) -> Option<f64> {
    let from = cost.value(data, strategy, BASE_KEYS)?;
    let to = cost.value(data, strategy, to)?;
    (from > 0.0).then(|| to / from)
}
