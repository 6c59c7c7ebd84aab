//! The loaded results, and the questions the charts and text ask of them.

use std::path::Path;

use kvbench_results::{DatasetInfo, Metric, Record, ResultSet, RunInfo};

use crate::ReportError;

/// The value-length distribution of the default datasets; the charts so far
/// compare strategies on these (a value-size study will add its own).
pub const DEFAULT_VALUE_LEN: &str = "normal:30,5";

/// Keys of the base dataset of the load runs.
pub const BASE_KEYS: u64 = 1_000_000;

/// Connections of the base load (open loops run at this many).
pub const BASE_CONNECTIONS: u32 = 64;

/// Which harness produced a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `kvbench suite` / `kvbench bench micro`: per-process probes.
    Suite,
    /// `cargo bench --bench lookup`.
    Criterion,
    /// `kvbench bench macro`: servers under load (records carry a `load`).
    Macro,
}

/// Every result set found, tagged by source.
#[derive(Clone, Debug, Default)]
pub struct Data {
    sets: Vec<(Source, ResultSet)>,
}

impl Data {
    /// Reads every results file in `dir` (or the one file `dir` names).
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        if !dir.exists() {
            return Err(ReportError::NoResults { dir: dir.to_owned() });
        }
        let data = Data::from_sets(kvbench_results::io::read_all(dir)?);
        if data.sets.iter().all(|(_, s)| s.records.is_empty()) {
            return Err(ReportError::NoResults { dir: dir.to_owned() });
        }
        Ok(data)
    }

    /// Wraps result sets already in memory (tests, other tools).
    pub fn from_sets(sets: Vec<ResultSet>) -> Self {
        let tag = |s: &ResultSet| {
            if s.source.starts_with("criterion") {
                Source::Criterion
            } else if s.records.iter().any(|r| r.load.is_some()) {
                Source::Macro
            } else {
                Source::Suite
            }
        };
        Data { sets: sets.into_iter().map(|s| (tag(&s), s)).collect() }
    }

    /// Records from one source.
    pub fn records(&self, source: Source) -> impl Iterator<Item = &Record> {
        self.sets.iter().filter(move |(s, _)| *s == source).flat_map(|(_, set)| &set.records)
    }

    /// Load runs of `kvbench bench macro` on the base dataset (1M keys, default
    /// values): per server line (`strategy, threads`), `(x, value)` points of
    /// `metric` over `protocol`, with `x` the connections (closed loop) or the
    /// offered rate (open loop at [`crate::data::BASE_CONNECTIONS`] connections).
    pub fn load_lines(&self, protocol: &str, open_loop: bool, metric: Metric) -> Vec<(String, Vec<(f64, f64)>)> {
        let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for r in self.records(Source::Macro) {
            let Some(load) = &r.load else { continue };
            if r.metric != metric
                || load.client.is_some()
                || load.protocol != protocol
                || load.rate.is_some() != open_loop
                || r.dataset.keys != BASE_KEYS
                || r.dataset.value_len != DEFAULT_VALUE_LEN
                || (open_loop && load.connections != BASE_CONNECTIONS)
            {
                continue;
            }
            let name = format!(
                "{}, {} thread{}",
                r.strategy,
                load.server_threads,
                if load.server_threads == 1 { "" } else { "s" }
            );
            let x = load.rate.map_or(f64::from(load.connections), |rate| rate as f64);
            match lines.iter_mut().find(|(n, _)| *n == name) {
                Some((_, points)) => points.push((x, r.value)),
                None => lines.push((name, vec![(x, r.value)])),
            }
        }
        lines.retain(|(_, points)| points.len() > 1);
        for (_, points) in &mut lines {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        lines
    }

    /// The value of one measurement (on a dataset with the default value size).
    pub fn value(&self, source: Source, strategy: &str, keys: u64, workload: &str, metric: Metric) -> Option<f64> {
        self.records(source)
            .find(|r| {
                r.strategy == strategy
                    && r.dataset.keys == keys
                    && r.dataset.value_len == DEFAULT_VALUE_LEN
                    && r.workload == workload
                    && r.metric == metric
            })
            .map(|r| r.value)
    }

    /// Datasets with the default value size, smallest first.
    pub fn datasets(&self, source: Source) -> Vec<DatasetInfo> {
        let mut out: Vec<DatasetInfo> = Vec::new();
        for r in self.records(source).filter(|r| r.dataset.value_len == DEFAULT_VALUE_LEN) {
            if !out.contains(&r.dataset) {
                out.push(r.dataset.clone());
            }
        }
        out.sort_by_key(|d| (d.keys, d.value_len.clone()));
        out
    }

    /// The largest dataset of a source.
    pub fn largest(&self, source: Source) -> Option<DatasetInfo> {
        self.datasets(source).pop()
    }

    /// Strategies (case labels) with `metric` on `keys`, in the order first recorded.
    pub fn strategies(&self, source: Source, keys: u64, workload: &str, metric: Metric) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.records(source) {
            if r.dataset.keys == keys && r.workload == workload && r.metric == metric && !out.contains(&r.strategy) {
                out.push(r.strategy.clone());
            }
        }
        out
    }

    /// Where and when the runs happened, one line per source.
    pub fn provenance(&self) -> Vec<(Source, &str, &RunInfo)> {
        self.sets
            .iter()
            .filter_map(|(source, set)| set.records.first().map(|r| (*source, set.source.as_str(), &r.run)))
            .collect()
    }
}
