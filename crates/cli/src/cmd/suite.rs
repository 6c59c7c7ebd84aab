//! `kvbench suite` (the main job), `kvbench bench micro` (the same matrix,
//! any options) and `kvbench probe` (one measurement, run by them in a child).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kvbench_harness::latency::SampleBudget;
use kvbench_harness::probe::{self, ProbeReport, ProbeSpec, WorkloadReport};
use kvbench_harness::suite::{
    self as harness_suite, ProbeOptions, dataset_info, default_cases, default_workloads, probe_in_child,
};
use kvbench_harness::timing::{Plan, RoundStats};
use kvbench_lookup::{OpenOptions, Strategy, StrategyKind};
use kvbench_results::{ResultSet, RunInfo};
use kvbench_workload::{Count, Dataset, Workload};

use crate::human;
use crate::output::progress_bar;

/// Options of `kvbench suite` and `kvbench bench micro`.
#[derive(Args, Debug)]
pub struct SuiteArgs {
    /// Folder for generated datasets (created if needed; reused across runs).
    #[arg(long, value_name = "DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Dataset sizes, comma-separated.
    #[arg(long, value_name = "N,N", value_delimiter = ',', default_value = "10k,1M")]
    keys: Vec<Count>,
    /// Workloads for every strategy, separated by semicolons: uniform, zipf:THETA, latest:THETA, miss;
    /// add ",miss=F" to mix in a fraction F of absent keys.
    #[arg(long, value_name = "W;W", value_delimiter = ';', default_value = "uniform;zipf:0.99;miss")]
    workloads: Vec<Workload>,
    /// Draw hit lookups from at most this many of a file's keys (every k-th
    /// line) [default: all keys]. A smaller pool makes caches look better than
    /// they are.
    #[arg(long, value_name = "N")]
    key_pool: Option<Count>,
    /// Where to write the results (the one results schema).
    #[arg(long, value_name = "FILE", default_value = "results/latest/suite.json")]
    results: PathBuf,
    /// Short timing rounds: checks that everything runs; figures are rough.
    #[arg(long)]
    quick: bool,
    /// Then regenerate the report from the results file's folder into this folder.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    report: PathBuf,
    /// Do not regenerate the report.
    #[arg(long)]
    no_report: bool,
}

/// Options of `kvbench probe`.
#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// The data file.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Strategy label: `scan`, `hashmap`, `lru(0.1,mmap-index)`, …
    #[arg(long)]
    strategy: Strategy,
    /// Workloads to run, in order (repeatable).
    #[arg(long = "workload", value_name = "W", default_values = ["uniform", "miss"])]
    workloads: Vec<Workload>,
    /// Delete the index sidecar before opening.
    #[arg(long)]
    fresh_index: bool,
    /// Drop the page cache before opening; time only the first lookups.
    #[arg(long)]
    cold: bool,
    /// Skip malformed lines.
    #[arg(long)]
    lenient: bool,
    /// At most this many keys are drawn from [default: all].
    #[arg(long, value_name = "N")]
    key_pool: Option<Count>,
    /// Short timing rounds.
    #[arg(long)]
    quick: bool,
}

fn pool_size(count: Option<Count>) -> usize {
    count.map_or(usize::MAX, |c| usize::try_from(c.0).unwrap_or(usize::MAX))
}

fn plan(quick: bool) -> Plan {
    if quick { Plan::quick() } else { Plan::default() }
}

/// Runs `kvbench probe`: one measurement, JSON on stdout.
pub fn probe(args: &ProbeArgs) -> anyhow::Result<ExitCode> {
    let budget = match (args.quick, args.cold) {
        (_, true) => SampleBudget { max_ops: 1000, max_time: std::time::Duration::from_secs(2), min_ops: 3 },
        (true, false) => SampleBudget::quick(),
        (false, false) => SampleBudget::default(),
    };
    let spec = ProbeSpec {
        data: args.data.clone(),
        strategy: args.strategy.clone(),
        opts: OpenOptions { lenient: args.lenient, ..OpenOptions::default() },
        fresh_index: args.fresh_index,
        cold: args.cold,
        workloads: args.workloads.clone(),
        key_pool: pool_size(args.key_pool),
        plan: plan(args.quick),
        budget,
        seed: 7,
    };
    let report = probe::run(&spec)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// Runs the matrix: datasets, every case in a fresh process, tables, results.
pub fn run(args: &SuiteArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the kvbench executable to run probes")?;
    let run_info = RunInfo::detect(args.quick);
    let cases = default_cases();
    let mut datasets = Vec::new();
    for &keys in &args.keys {
        let dataset = Dataset::new(keys.0);
        let bar = progress_bar(keys.0, &format!("generating {keys}"));
        let (path, made) = dataset
            .ensure(&args.data_dir, |n| bar.set_position(n))
            .with_context(|| format!("cannot create dataset in {}", args.data_dir.display()))?;
        bar.finish_and_clear();
        match made {
            Some(s) => eprintln!("generated {} ({} keys, {})", path.display(), s.keys, human::bytes(s.bytes)),
            None => eprintln!("reusing {}", path.display()),
        }
        datasets.push((dataset, path));
    }
    let options = ProbeOptions {
        key_pool: pool_size(args.key_pool),
        workloads: if args.workloads.is_empty() { default_workloads() } else { args.workloads.clone() },
        quick: args.quick,
    };
    let bar = progress_bar((datasets.len() * cases.len()) as u64, "measuring");
    let mut results = ResultSet::new("kvbench suite");
    let mut failures = 0;
    for (dataset, path) in &datasets {
        let info = dataset_info(dataset);
        let mut reports = Vec::new();
        for case in &cases {
            bar.set_message(format!("{} {}", dataset.keys, case.label()));
            match probe_in_child(&exe, path, case, &options) {
                Ok(report) => {
                    results.records.extend(harness_suite::records(&info, &case.label(), &report, &run_info));
                    reports.push((case.label(), report));
                }
                Err(e) => {
                    failures += 1;
                    bar.suspend(|| eprintln!("kvbench: {e}"));
                }
            }
            bar.inc(1);
        }
        bar.suspend(|| print_dataset(dataset.keys, path, &reports, &options, &plan(args.quick)));
    }
    bar.finish_and_clear();
    kvbench_results::io::write(&args.results, &results)?;
    eprintln!("wrote {} records to {}", results.records.len(), args.results.display());
    if !args.no_report {
        let folder = args.results.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        super::report::write(folder, &args.report)?;
    }
    Ok(if failures == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn spread(s: &RoundStats) -> String {
    if s.median_ns <= 0.0 { "-".into() } else { format!("±{:.0}%", (s.max_ns - s.min_ns) / 2.0 / s.median_ns * 100.0) }
}

fn opt_bytes(b: Option<u64>) -> String {
    b.map_or_else(|| "-".into(), human::bytes)
}

fn print_dataset(keys: Count, path: &Path, reports: &[(String, ProbeReport)], options: &ProbeOptions, plan: &Plan) {
    let file_bytes = reports.first().map_or(0, |(_, r)| r.file_bytes);
    println!("\n{keys} keys: {} ({})\n", path.display(), human::bytes(file_bytes));
    let mut header: Vec<String> = ["strategy", "", "open", "ready"].map(String::from).to_vec();
    for w in &options.workloads {
        header.extend([format!("{w} mean"), "p99".into()]);
    }
    header.extend(["heap", "anon RSS", "file RSS", "anon B/key", "hit rate"].map(String::from));
    let cell = |w: Option<&WorkloadReport>, f: &dyn Fn(&WorkloadReport) -> String| w.map_or_else(|| "-".into(), f);
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|(label, r)| {
            let m = &r.memory_steady;
            let per_key = match (m.anon, r.keys.or(r.records)) {
                (Some(a), Some(k)) if k > 0 => format!("{:.1}", a as f64 / k as f64),
                _ => "-".into(),
            };
            let mut row = vec![
                label.clone(),
                String::new(),
                human::nanos(r.open_ns as f64),
                r.ready_ns.map_or_else(|| "-".into(), |n| human::nanos(n as f64)),
            ];
            for w in &options.workloads {
                let label = w.to_string();
                // Cold cases ran their first workload cold; show it in that column.
                let report = r.workload(&label).or_else(|| r.workload(&format!("{label}@cold")));
                let mean = |w: &WorkloadReport| match &w.rounds {
                    Some(s) => format!("{} {}", human::nanos(s.median_ns), spread(s)),
                    None => format!("cold p50 {}", human::nanos(w.latency.p50)),
                };
                row.push(cell(report, &mean));
                row.push(cell(report, &|w| human::nanos(w.latency.p99)));
            }
            let hit_rates: Vec<String> =
                r.workloads.iter().filter_map(|w| w.hit_rate).map(|h| format!("{:.0}%", h * 100.0)).collect();
            row.extend([opt_bytes(m.heap), opt_bytes(m.anon), opt_bytes(m.file), per_key]);
            row.push(if hit_rates.is_empty() { "-".into() } else { hit_rates.join("/") });
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    println!("{}", human::table(&header, &rows));
    let overhead = reports.first().map_or(0.0, |(_, r)| r.clock_overhead_ns);
    let harness = reports.first().map_or(0.0, |(_, r)| r.harness_overhead_ns);
    println!(
        "\nmean: median of {} rounds' mean time per lookup (of {} when one lookup outlasts a round), ± half the \
         min-max range; it includes ~{harness:.1} ns of the harness fetching the next key. p99: each lookup timed \
         alone (includes ~{overhead:.0} ns of clock reads); all percentiles are in the results file. Memory: growth of the probe process over its \
         state before opening, after all lookups. Hit rates: per workload, in order. Cold rows dropped the page \
         cache before opening and time the first lookups only.",
        plan.rounds, plan.slow_rounds
    );
    // What the strategies said about themselves (index reused or rebuilt, a
    // fallback, a key pool that inflates hit rates): the figures depend on it.
    for (label, r) in reports.iter().filter(|(_, r)| !r.notes.is_empty()) {
        println!("{label}: {}", r.notes.join("; "));
    }
    let scan = reports.iter().find(|(_, r)| r.strategy == StrategyKind::Scan.name() && !r.cold).map(|(_, r)| r);
    if let Some((floor, miss)) =
        scan.and_then(|r| r.memchr_pass.zip(r.workload(&Workload::MISS.to_string()).and_then(|w| w.rounds)))
    {
        println!(
            "scan: a miss (a full scan) takes {:.2}x one memchr pass over the file ({} {}), timed in the same process",
            miss.median_ns / floor.median_ns,
            human::nanos(floor.median_ns),
            spread(&floor)
        );
    }
    if let Some((_, map)) = reports.iter().find(|(_, r)| r.strategy == StrategyKind::HashMap.name())
        && let Some(heap) = map.memory_steady.heap
    {
        println!("hashmap heap / file size: {:.2}x", heap as f64 / map.file_bytes.max(1) as f64);
    }
}
