//! The loaded results, and the questions the charts and text ask of them.

use std::path::Path;

// The charts so far compare strategies on the default datasets (the scaling chart compares value sizes).
use kvbench_results::{
    BASE_CONNECTIONS, BASE_KEYS, CaseId, CaseStart, DEFAULT_VALUE_LEN, DatasetInfo, LoadInfo, Metric, Record,
    ResultSet, RunInfo, Skipped, Workload,
};

use crate::ReportError;

// The two lists below are the strategies of two families (`Family::Own` and
// `Family::Engine` in kvbench-lookup's facts), spelled again because this
// crate reads results, not strategies; `crates/cli/tests/report_names.rs`
// fails when they differ from the facts.

/// kvbench's own strategies that the engines are set beside, in table order.
pub const OWN: [&str; 3] = ["hashmap", "mmap-index", "phf-index"];

/// The embedded engines a user might pick instead of kvbench's own strategies,
/// spelt as the suite labels them (`StrategyKind::ENGINES` in kvbench-lookup).
pub const ENGINES: [&str; 6] = ["fst", "lmdb", "sqlite", "cdb", "redb", "rocksdb"];

/// Which harness produced a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `kvbench suite` / `kvbench bench micro`: per-process probes.
    Suite,
    /// `cargo bench --bench lookup`.
    Criterion,
    /// `kvbench bench macro`: servers under load (records carry a `load`).
    Macro,
    /// `kvbench bench baselines`: whole programs timed as processes.
    Baselines,
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
            } else if s.source == kvbench_results::BASELINES_SOURCE {
                Source::Baselines
            } else if s.records.iter().any(|r| r.load.is_some()) {
                Source::Macro
            } else {
                Source::Suite
            }
        };
        Data { sets: sets.into_iter().map(|s| (tag(&s), s)).collect() }
    }

    /// The memory budget the suite run recommended within, if it was given one.
    pub fn memory_budget(&self) -> Option<u64> {
        self.sets.iter().filter(|(s, _)| *s == Source::Suite).find_map(|(_, set)| set.memory_budget)
    }

    /// Records from one source, measured without a memory limit (those are [`Data::limited`]).
    pub fn records(&self, source: Source) -> impl Iterator<Item = &Record> {
        self.sets
            .iter()
            .filter(move |(s, _)| *s == source)
            .flat_map(|(_, set)| &set.records)
            .filter(|r| r.memory_limit.is_none())
    }

    /// Suite records measured under a memory limit (`kvbench suite --memory-limit`), kept
    /// apart: their figures answer another question than the same case's without one.
    pub fn limited(&self) -> impl Iterator<Item = &Record> {
        self.sets
            .iter()
            .filter(|(s, _)| *s == Source::Suite)
            .flat_map(|(_, set)| &set.records)
            .filter(|r| r.memory_limit.is_some())
    }

    /// Cases the suite skipped because they could not fit, with why.
    pub fn skipped(&self) -> impl Iterator<Item = &Skipped> {
        self.sets.iter().flat_map(|(_, set)| &set.skipped)
    }

    /// Records of `metric` from kvbench's own load runs (the wrk cross-check
    /// left out), with their load.
    pub fn loads(&self, metric: Metric) -> impl Iterator<Item = (&Record, &LoadInfo)> {
        self.records(Source::Macro)
            .filter(move |r| r.metric == metric)
            .filter_map(|r| Some((r, r.load.as_ref().filter(|l| l.client.is_none())?)))
    }

    /// The value of `metric` in the load run that `like` (a record of the
    /// same run) belongs to: same server, data, protocol, connections and rate.
    pub fn same_load(&self, like: &Record, metric: Metric) -> Option<f64> {
        self.loads(metric)
            .find(|(r, l)| r.case == like.case && r.dataset == like.dataset && like.load.as_ref() == Some(*l))
            .map(|(r, _)| r.value)
    }

    /// Requests per second of server CPU in the load of `throughput` (a
    /// [`Metric::Throughput`] record): its requests/s over the server's CPU
    /// (user + system, in cores) in the same load; `None` without a CPU figure.
    pub fn requests_per_cpu_second(&self, throughput: &Record) -> Option<f64> {
        let cpu = self.same_load(throughput, Metric::ServerCpu)? / 100.0;
        (cpu > 0.0).then(|| throughput.value / cpu)
    }

    /// Closed-loop runs at [`BASE_CONNECTIONS`] with `metric`, on any dataset, in the order run.
    pub fn at_base_connections(&self, metric: Metric) -> impl Iterator<Item = (&Record, &LoadInfo)> {
        self.loads(metric).filter(|(_, l)| l.rate.is_none() && l.connections == BASE_CONNECTIONS)
    }

    /// Load runs of `kvbench bench macro` on the base dataset (1M keys, default
    /// values): per server line (`strategy, threads`), `(x, value)` points of
    /// `metric` over `protocol`, with `x` the connections (closed loop) or the
    /// offered rate (open loop at [`BASE_CONNECTIONS`] connections).
    pub fn load_lines(&self, protocol: &str, open_loop: bool, metric: Metric) -> Vec<(String, Vec<(f64, f64)>)> {
        let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for (r, load) in self.loads(metric) {
            if load.protocol != protocol
                || load.rate.is_some() != open_loop
                || !is_base(&r.dataset)
                || (open_loop && load.connections != BASE_CONNECTIONS)
            {
                continue;
            }
            let x = load.rate.map_or(f64::from(load.connections), |rate| rate as f64);
            push_point(&mut lines, server_name(&r.case, load.server_threads), (x, r.value));
        }
        lines.retain(|(_, points)| points.len() > 1);
        for (_, points) in &mut lines {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        lines
    }

    /// The value of one measurement (on a dataset with the default value size).
    pub fn value(
        &self,
        source: Source,
        case: &CaseId,
        keys: u64,
        workload: Option<Workload>,
        metric: Metric,
    ) -> Option<f64> {
        self.record(source, case, keys, workload, metric).map(|r| r.value)
    }

    /// The record of one measurement (on a dataset with the default value size): its value, interval and samples.
    pub fn record(
        &self,
        source: Source,
        case: &CaseId,
        keys: u64,
        workload: Option<Workload>,
        metric: Metric,
    ) -> Option<&Record> {
        self.records(source).find(|r| {
            r.case == *case
                && r.dataset.keys == keys
                && r.dataset.value_len == DEFAULT_VALUE_LEN
                && r.workload == workload
                && r.metric == metric
        })
    }

    /// The value of `metric` of one baseline program (`kvbench bench baselines`) at `keys`.
    pub fn baseline(&self, program: &str, keys: u64, metric: Metric) -> Option<f64> {
        self.records(Source::Baselines)
            .find(|r| r.is_plain(program) && r.dataset.keys == keys && r.metric == metric)
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

    /// The cases with `metric` on `keys`, in the order first recorded.
    pub fn strategies(&self, source: Source, keys: u64, workload: Option<Workload>, metric: Metric) -> Vec<CaseId> {
        let mut out: Vec<CaseId> = Vec::new();
        for r in self.records(source) {
            if r.dataset.keys == keys && r.workload == workload && r.metric == metric && !out.contains(&r.case) {
                out.push(r.case.clone());
            }
        }
        out
    }

    /// [`Data::strategies`] without the cold starts, whose lookups are the
    /// first after opening, not a warm case's steady state.
    pub fn warm_cases(&self, source: Source, keys: u64, workload: Option<Workload>, metric: Metric) -> Vec<CaseId> {
        let mut cases = self.strategies(source, keys, workload, metric);
        cases.retain(|c| !c.started(CaseStart::Cold));
        cases
    }

    /// Where and when the runs happened, one line per source.
    pub fn provenance(&self) -> Vec<(Source, &str, &RunInfo)> {
        self.sets
            .iter()
            .filter_map(|(source, set)| set.records.first().map(|r| (*source, set.source.as_str(), &r.run)))
            .collect()
    }
}

/// The warm suite cases of one strategy on one dataset: the case that built
/// it and the case that reused what it keeps on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cases {
    /// `X (build)` (its sidecar or store deleted first), or plain `X` for a
    /// strategy that keeps nothing on disk and so builds on every open.
    pub build: Option<CaseId>,
    /// `X (reopen)`: its sidecar or store reused.
    pub reopen: Option<CaseId>,
}

impl Cases {
    /// The suite cases of `strategy` at `keys` (those with an open time); `None` when it has none.
    pub fn of(data: &Data, strategy: &str, keys: u64) -> Option<Cases> {
        let measured = data.strategies(Source::Suite, keys, None, Metric::OpenTime);
        let find = |start| Some(CaseId::new(strategy, start)).filter(|case| measured.contains(case));
        let build = find(Some(CaseStart::Build)).or_else(|| find(None));
        let cases = Cases { build, reopen: find(Some(CaseStart::Reopen)) };
        (cases.build.is_some() || cases.reopen.is_some()).then_some(cases)
    }

    /// The case whose memory and lookups are the strategy's steady state: the reopened one where there is one.
    pub fn steady(&self) -> Option<&CaseId> {
        self.reopen.as_ref().or(self.build.as_ref())
    }
}

/// The tail latency of a suite case: its p99, or, where too few lookups were
/// timed for a p99 (a slow scan), the slowest of them.
pub fn tail(data: &Data, case: &CaseId, keys: u64, workload: Workload) -> Option<f64> {
    let at = |m| data.value(Source::Suite, case, keys, Some(workload), m);
    at(Metric::LatencyP99).or_else(|| at(Metric::LatencyMax))
}

/// Whether load runs on `dataset` are on the base dataset (1M keys, default values).
pub fn is_base(dataset: &DatasetInfo) -> bool {
    dataset.keys == BASE_KEYS && dataset.value_len == DEFAULT_VALUE_LEN
}

/// How charts name a server: `hashmap, 2 threads`.
pub fn server_name(server: &CaseId, threads: u32) -> String {
    format!("{server}, {threads} thread{}", if threads == 1 { "" } else { "s" })
}

/// How tables and bar charts name a load run's server: [`server_name`], and
/// the dataset when it is not the base one (`hashmap, 1 thread · 10k`).
pub fn load_label(record: &Record, load: &LoadInfo) -> String {
    let name = server_name(&record.case, load.server_threads);
    if is_base(&record.dataset) { name } else { format!("{name} · {}", record.dataset.label()) }
}

/// Adds `point` to the line called `name`, starting it if needed.
pub fn push_point(lines: &mut Vec<(String, Vec<(f64, f64)>)>, name: String, point: (f64, f64)) {
    match lines.iter_mut().find(|(n, _)| *n == name) {
        Some((_, points)) => points.push(point),
        None => lines.push((name, vec![point])),
    }
}

/// The mean value length a dataset's `value_len` names (`normal:30,5` → 30,
/// `fixed:300` → 300, `uniform:10..50` → 30), for charts with value size on an axis.
pub fn mean_value_len(value_len: &str) -> Option<f64> {
    let (_, params) = value_len.split_once(':')?;
    let num = |s: &str| s.trim().parse::<f64>().ok();
    match params.split_once("..") {
        Some((min, max)) => Some((num(min)? + num(max)?) / 2.0),
        None => num(params.split(',').next()?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_lengths_read_as_their_mean() {
        let read = ["normal:30,5", "fixed:300", "uniform:10..50", "file:x.txt", "odd"].map(mean_value_len);
        assert_eq!(read, [Some(30.0), Some(300.0), Some(30.0), None, None]);
    }
}
