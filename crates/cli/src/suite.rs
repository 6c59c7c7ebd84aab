//! `kvbench suite` (the main job) and `kvbench probe` (one measurement, run by the suite).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kvbench_harness::probe::{self, ProbeReport, ProbeSpec};
use kvbench_harness::suite::{ProbeOptions, Row, default_cases, probe_in_child};
use kvbench_harness::timing::{Plan, Summary};
use kvbench_lookup::{OpenOptions, Strategy, StrategyKind};
use kvbench_workload::{Count, Dataset};

use crate::generate::progress_bar;
use crate::human;

/// Options of `kvbench suite`.
#[derive(Args, Debug)]
pub struct SuiteArgs {
    /// Folder for generated datasets (created if needed; reused across runs).
    #[arg(long, value_name = "DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Dataset sizes, comma-separated.
    #[arg(long, value_name = "N,N", value_delimiter = ',', default_value = "10k,1M")]
    keys: Vec<Count>,
    /// At most this many of a file's keys are drawn from for hit lookups.
    #[arg(long, value_name = "N", default_value = "1M")]
    key_pool: Count,
    /// Also write every measurement as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Short timing rounds: checks that everything runs; figures are rough.
    #[arg(long)]
    quick: bool,
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
    /// Delete the index sidecar before opening.
    #[arg(long)]
    fresh_index: bool,
    /// Skip malformed lines.
    #[arg(long)]
    lenient: bool,
    /// At most this many keys are drawn from.
    #[arg(long, value_name = "N", default_value = "1M")]
    key_pool: Count,
    /// Short timing rounds.
    #[arg(long)]
    quick: bool,
}

fn plan(quick: bool) -> Plan {
    if quick { Plan::quick() } else { Plan::default() }
}

/// Runs `kvbench probe`: one measurement, JSON on stdout.
pub fn probe(args: &ProbeArgs) -> anyhow::Result<ExitCode> {
    let spec = ProbeSpec {
        data: args.data.clone(),
        strategy: args.strategy.clone(),
        opts: OpenOptions { lenient: args.lenient, ..OpenOptions::default() },
        fresh_index: args.fresh_index,
        key_pool: usize::try_from(args.key_pool.0).unwrap_or(usize::MAX),
        plan: plan(args.quick),
        seed: 7,
    };
    let report = probe::run(&spec)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// Runs the main job: datasets, every case in a fresh process, tables.
pub fn run(args: &SuiteArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the kvbench executable to run probes")?;
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
        datasets.push((keys, path));
    }
    let bar = progress_bar((datasets.len() * cases.len()) as u64, "measuring");
    let mut rows = Vec::new();
    let mut failures = 0;
    for (keys, path) in &datasets {
        let floor = probe::memchr_pass(path, &plan(args.quick))?;
        let mut reports = Vec::new();
        for case in &cases {
            bar.set_message(format!("{keys} {}", case.label()));
            let options =
                ProbeOptions { key_pool: usize::try_from(args.key_pool.0).unwrap_or(usize::MAX), quick: args.quick };
            match probe_in_child(&exe, path, case, options) {
                Ok(report) => {
                    reports.push((case.label(), report.clone()));
                    rows.push(Row { dataset: keys.to_string(), case: case.label(), report });
                }
                Err(e) => {
                    failures += 1;
                    bar.suspend(|| eprintln!("kvbench: {e}"));
                }
            }
            bar.inc(1);
        }
        bar.suspend(|| print_dataset(*keys, path, &reports, &floor, &plan(args.quick)));
    }
    bar.finish_and_clear();
    if let Some(json) = &args.json {
        std::fs::write(json, serde_json::to_string_pretty(&rows)?)
            .with_context(|| format!("cannot write {}", json.display()))?;
        eprintln!("wrote {}", json.display());
    }
    Ok(if failures == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn spread(s: &Summary) -> String {
    if s.median_ns <= 0.0 { "-".into() } else { format!("±{:.0}%", (s.max_ns - s.min_ns) / 2.0 / s.median_ns * 100.0) }
}

fn opt_bytes(b: Option<u64>) -> String {
    b.map_or_else(|| "-".into(), human::bytes)
}

fn print_dataset(keys: Count, path: &std::path::Path, reports: &[(String, ProbeReport)], floor: &Summary, plan: &Plan) {
    let file_bytes = reports.first().map_or(0, |(_, r)| r.file_bytes);
    println!("\n{keys} keys: {} ({})\n", path.display(), human::bytes(file_bytes));
    let header = [
        "strategy",
        "",
        "open",
        "ready",
        "hit p50",
        "spread",
        "miss p50",
        "spread",
        "heap",
        "anon RSS",
        "file RSS",
        "anon B/key",
        "hit rate",
    ];
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|(label, r)| {
            let m = &r.memory_steady;
            let per_key = match (m.anon, r.keys.or(r.records)) {
                (Some(a), Some(k)) if k > 0 => format!("{:.1}", a as f64 / k as f64),
                _ => "-".into(),
            };
            vec![
                label.clone(),
                String::new(),
                human::nanos(r.open_ns as f64),
                r.ready_ns.map_or_else(|| "-".into(), |n| human::nanos(n as f64)),
                human::nanos(r.hit.median_ns),
                spread(&r.hit),
                human::nanos(r.miss.median_ns),
                spread(&r.miss),
                opt_bytes(m.heap),
                opt_bytes(m.anon),
                opt_bytes(m.file),
                per_key,
                r.cache_hit_rate.map_or_else(|| "-".into(), |h| format!("{:.1}%", h * 100.0)),
            ]
        })
        .collect();
    println!("{}", human::table(&header, &rows));
    println!(
        "\nLookups draw keys uniformly at random; p50 is the median of {} rounds' mean time per lookup, \
         spread is half the min-max range. Memory is growth over the probe process before opening, after all lookups.",
        plan.rounds
    );
    println!("memchr over the whole file once: {} ({})", human::nanos(floor.median_ns), spread(floor));
    if let Some((_, scan)) = reports.iter().find(|(_, r)| r.strategy == StrategyKind::Scan.name()) {
        println!("scan miss (a full scan) / memchr pass: {:.2}x", scan.miss.median_ns / floor.median_ns);
    }
    if let Some((_, map)) = reports.iter().find(|(_, r)| r.strategy == StrategyKind::HashMap.name())
        && let Some(heap) = map.memory_steady.heap
    {
        println!("hashmap heap / file size: {:.2}x", heap as f64 / map.file_bytes.max(1) as f64);
    }
}
