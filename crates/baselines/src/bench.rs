//! `kvbench bench baselines`: every baseline program beside `kvbench get` per
//! strategy, on every dataset, timed with [`measure`], every answer checked;
//! results in the one schema.

use std::path::{Path, PathBuf};

use kvbench_harness::progress::Progress;
use kvbench_harness::suite::dataset_info;
use kvbench_lookup::DataFile;
use kvbench_lookup::{LookupError, OpenError, OpenOptions, Strategy, StrategyKind};
use kvbench_results::{DatasetInfo, Metric, Record, ResultSet, RunInfo, SpreadKind};
use kvbench_workload::file_keys;
use kvbench_workload::{Dataset, KeyStreams, Workload};

use crate::measure::{Measurement, RunBudget, measure};
use crate::{Baseline, InstallError, Program, Scripts};

/// Keys drawn per dataset; batches cycle through them.
const ANSWERS: usize = 16_384;

/// A key and the value the data file gives it.
type Answer = (Vec<u8>, Vec<u8>);

/// The keys every program is asked for.
const WORKLOAD: Workload = Workload::UNIFORM;

/// How to run the baselines.
#[derive(Clone, Debug)]
pub struct BaselinesOptions {
    /// The kvbench executable: timed as `kvbench get`, and the helper every program runs through.
    pub kvbench: PathBuf,
    /// Where datasets are generated and cached.
    pub data_dir: PathBuf,
    /// The generated datasets, in order.
    pub datasets: Vec<Dataset>,
    /// Then the user's files, each as results name it ([`kvbench_harness::suite::file_info`]).
    pub files: Vec<(DatasetInfo, PathBuf)>,
    /// Skip malformed lines of the files (`kvbench get --lenient`; the scripts skip them anyway).
    pub lenient: bool,
    /// How much to run each program.
    pub budget: RunBudget,
    /// A smoke run (recorded with the results: figures are rough).
    pub quick: bool,
}

/// One program on one dataset, as measured.
#[derive(Clone, Debug)]
pub struct BaselineRow {
    /// The program: a baseline's name or `kvbench STRATEGY`.
    pub program: String,
    /// The data it answered from.
    pub dataset: DatasetInfo,
    /// What it took.
    pub measurement: Measurement,
}

/// What a run of the baselines measured.
#[derive(Debug)]
pub struct BaselinesOutcome {
    /// Every measurement's records.
    pub results: ResultSet,
    /// Every measurement, in order.
    pub rows: Vec<BaselineRow>,
    /// Programs that failed or answered wrongly, with why.
    pub failures: Vec<String>,
}

/// Why the baselines could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum BaselinesError {
    /// The programs could not be written out.
    #[error("cannot write the baseline programs: {0}")]
    Install(#[from] InstallError),
    /// A dataset could not be generated.
    #[error("cannot generate the dataset into {}: {source}", dir.display())]
    Dataset {
        /// The data folder.
        dir: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A data file could not be opened to find the expected answers.
    #[error("cannot open the data file to check answers against: {0}")]
    Reference(#[from] OpenError),
    /// A lookup of an expected answer failed.
    #[error("cannot look up an expected answer: {0}")]
    Lookup(#[from] LookupError),
}

/// The kvbench strategies timed beside the baselines (`redis` needs a server, `warming` a long-running process).
pub fn strategies() -> [Strategy; 6] {
    [
        Strategy::Plain(StrategyKind::ScanLines),
        Strategy::Plain(StrategyKind::Scan),
        Strategy::Plain(StrategyKind::HashMap),
        Strategy::Plain(StrategyKind::MmapIndex),
        Strategy::Plain(StrategyKind::PhfIndex),
        Strategy::DEFAULT_LRU,
    ]
}

/// Times every baseline that can run here (the others are noted as skipped)
/// and `kvbench get` per [`strategies`] on every dataset.
pub fn run(options: &BaselinesOptions, progress: &mut dyn Progress) -> Result<BaselinesOutcome, BaselinesError> {
    let exe = &options.kvbench;
    let run_info = RunInfo::detect(options.quick);
    let scripts = Scripts::install()?;
    let mut programs: Vec<(String, Program)> = Vec::new();
    for baseline in Baseline::ALL {
        match baseline.check() {
            Ok(()) => programs.push((baseline.name().into(), Program::baseline(baseline, &scripts).through(exe))),
            Err(why) => progress.note(&format!("{baseline}: skipped: {why}")),
        }
    }
    for strategy in strategies() {
        let lenient = options.lenient.then(|| "--lenient".to_owned());
        let get: Vec<String> = ["get".to_owned(), "--strategy".into(), strategy.to_string()]
            .into_iter()
            .chain(lenient)
            .chain(["--data".to_owned()])
            .collect();
        programs.push((format!("kvbench {strategy}"), Program::new(exe, get).through(exe)));
    }
    progress.start((programs.len() * (options.datasets.len() + options.files.len())) as u64);
    let mut out = BaselinesOutcome {
        results: ResultSet::new(kvbench_results::BASELINES_SOURCE),
        rows: Vec::new(),
        failures: Vec::new(),
    };
    let mut sources = Vec::new();
    for dataset in &options.datasets {
        let (data, _) = dataset
            .ensure(&options.data_dir, |_| {})
            .map_err(|source| BaselinesError::Dataset { dir: options.data_dir.clone(), source })?;
        sources.push((dataset_info(dataset), data));
    }
    sources.extend(options.files.iter().cloned());
    for (info, data) in &sources {
        let answers = answers(data, options.lenient)?;
        for (label, program) in &programs {
            progress.doing(&format!("{label} on {}", info.label()));
            match measure(program, data, &answers, &options.budget, || progress.tick()) {
                Ok(m) => {
                    out.results.records.extend(records(label, info, &m, &run_info));
                    out.rows.push(BaselineRow { program: label.clone(), dataset: info.clone(), measurement: m });
                }
                Err(e) => out.failures.push(format!("{label} on {}: {e}", info.label())),
            }
            progress.done(1);
        }
    }
    Ok(out)
}

/// [`ANSWERS`] keys drawn uniformly from `data`, with the values the file
/// gives them. They are looked up with `mmap-index`, and `phf-index` is
/// opened too: both leave their sidecars, so every run of `kvbench
/// mmap-index` and `kvbench phf-index` times a reopen (a build would be one
/// slow outlier among the runs, not what a second process pays).
fn answers(data: &Path, lenient: bool) -> Result<Vec<Answer>, BaselinesError> {
    let opts = OpenOptions { lenient, ..OpenOptions::default() };
    drop(kvbench_lookup::open(data, &Strategy::Plain(StrategyKind::PhfIndex), &opts)?);
    let strategy = Strategy::Plain(StrategyKind::MmapIndex);
    let lookup = kvbench_lookup::open(data, &strategy, &opts)?;
    let keys = file_keys(DataFile::open(data)?.bytes(), 1 << 20);
    let stream = WORKLOAD.stream(&keys, ANSWERS, 7);
    let mut answers = Vec::with_capacity(ANSWERS);
    for i in 0..stream.len() as u64 {
        let (key, _) = stream.get(i);
        if let Some(value) = lookup.get(key)? {
            answers.push((key.to_vec(), value.to_vec()));
        }
    }
    Ok(answers)
}

/// Per-process time and peak RSS, and the steady-state time per lookup, each with its range.
pub fn records(label: &str, dataset: &DatasetInfo, m: &Measurement, run: &RunInfo) -> Vec<Record> {
    [(Metric::ProcessTime, m.process), (Metric::ProcessPeakRss, m.peak_rss), (Metric::LookupMean, m.per_lookup)]
        .into_iter()
        .map(|(metric, s)| {
            Record::new(label, dataset, Some(WORKLOAD), metric, s.median, run).with_spread(
                s.min,
                s.max,
                SpreadKind::MinMax,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::RunStats;

    #[test]
    fn a_measurement_gives_three_records_with_their_ranges() {
        let s = |median| RunStats { median, min: median - 1.0, max: median + 1.0 };
        let m = Measurement { process: s(10.0), cpu: s(5.0), peak_rss: s(1e6), per_lookup: s(2.0), batch: 64 };
        let dataset = dataset_info(&Dataset::new(10_000));
        let records = records("py-dict", &dataset, &m, &RunInfo::detect(true));
        let got: Vec<_> = records.iter().map(|r| (r.metric, r.value, r.spread.map(|s| (s.lower, s.upper)))).collect();
        assert_eq!(
            got,
            [
                (Metric::ProcessTime, 10.0, Some((9.0, 11.0))),
                (Metric::ProcessPeakRss, 1e6, Some((1e6 - 1.0, 1e6 + 1.0))),
                (Metric::LookupMean, 2.0, Some((1.0, 3.0))),
            ]
        );
        assert!(records.iter().all(|r| r.is_plain("py-dict") && r.workload == Some(Workload::UNIFORM)));
    }
}
