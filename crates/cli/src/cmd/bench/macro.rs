//! `kvbench bench macro`: `kvbench serve` in its own process per
//! configuration, loaded by the in-process load generator, results in the one
//! schema; the run is `kvbench_loadgen::macro_run`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kvbench_harness::cgroup::MemoryLimit;
use kvbench_loadgen::sweep::{Scale, file_strategies, plan, plan_for_files};
use kvbench_loadgen::{MacroOptions, MacroRow, Processes, macro_run};
use kvbench_lookup::Strategies;
use kvbench_peers::Pinning;
use kvbench_results::units::ByteSize;
use kvbench_results::{PYTHON_DICT, REDIS_CLUSTER_SERVER, REDIS_SERVER};

use crate::data_args::describe;
use crate::human;
use crate::output::{Bar, load_cells};

/// Options of `kvbench bench macro`.
#[derive(Args, Debug)]
pub struct MacroArgs {
    /// Where datasets are generated and cached.
    #[arg(long, value_name = "DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Where to write the results (the one results schema).
    #[arg(long, value_name = "FILE", default_value = "results/latest/macro.json")]
    results: PathBuf,
    /// How long each load runs.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Smoke run: 10K keys, a few loads of 300 ms.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// Add 10M keys (hashmap and mmap-index) to the sweep.
    #[arg(long)]
    full: bool,
    /// Seed of the run; each load asks for keys of a seed derived from it and the load (protocol, connections, pace).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Serve your own file instead of the generated sweep (repeatable): each
    /// of --strategies at 64 connections over both protocols, then redis-server
    /// and the Python dict on the same file.
    #[arg(long, value_name = "FILE", conflicts_with = "full")]
    data: Vec<PathBuf>,
    /// Strategies to serve --data files with [default: hashmap,mmap-index,phf-index,lru(0.1,mmap-index)].
    #[arg(long, value_name = "LIST", requires = "data")]
    strategies: Option<Strategies>,
    /// Run each `kvbench serve` inside a cgroup memory limit of SIZE that counts the page
    /// cache, e.g. `2GiB` (its data evicted from the page cache first); redis-server and the
    /// Python dict run without one. Needs root.
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<ByteSize>,
}

/// Runs `kvbench bench macro`.
pub fn run(args: &MacroArgs) -> anyhow::Result<ExitCode> {
    let scale = match (args.quick, args.full) {
        (true, _) => Scale::Quick,
        (false, true) => Scale::Full,
        (false, false) => Scale::Default,
    };
    let exe = std::env::current_exe().context("cannot find the kvbench executable to start servers with")?;
    let pinning = Pinning::detect();
    let options = MacroOptions {
        data_dir: args.data_dir.clone(),
        duration: if args.quick { Duration::from_millis(300) } else { args.duration },
        quick: args.quick,
        cross_check: scale != Scale::Quick,
        pinning,
        seed: args.seed,
    };
    let groups = if args.data.is_empty() {
        plan(scale)
    } else {
        // Strict: the servers and the answer oracle read the file without --lenient.
        let files = args.data.iter().map(|path| describe(path, false)).collect::<anyhow::Result<Vec<_>>>()?;
        let strategies = args.strategies.clone().map_or_else(file_strategies, |s| s.0);
        plan_for_files(&files, &strategies)
    };
    let limit = args
        .memory_limit
        .map(|size| MemoryLimit::create(size.0))
        .transpose()
        .context("--memory-limit runs each kvbench serve in a cgroup")?;
    let processes = Processes { cgroup: limit.as_ref().map(|l| l.dir().to_owned()), ..Processes::new(exe, pinning) };
    let mut outcome = macro_run::run(&groups, &options, &processes, &mut Bar::new("macro"))?;
    if let Some(limit) = &limit {
        // Only kvbench's own servers ran inside the limit; the peers' figures are not limited.
        let peer = |s: &str| {
            s == REDIS_SERVER
                || s == PYTHON_DICT
                || s.starts_with("redis-cluster node")
                || s.starts_with(REDIS_CLUSTER_SERVER)
        };
        for record in outcome.results.records.iter_mut().filter(|r| !peer(&r.case.strategy)) {
            record.memory_limit = Some(limit.bytes());
        }
    }
    let header = [
        "strategy",
        "data",
        "threads",
        "protocol",
        "conns",
        "rate",
        "requests/s",
        "p50",
        "p99",
        "CPU",
        "RSS",
        "errors",
        "req/CPU-s",
        "syscalls/req",
        "client CPU",
        "hit rate",
    ];
    let rows: Vec<Vec<String>> = outcome.rows.iter().map(row).collect();
    println!("{}", human::table(&header, &rows));
    println!("{pinning}");
    for note in &outcome.notes {
        println!("{note}");
    }
    kvbench_results::io::write(&args.results, &outcome.results)?;
    eprintln!("wrote {} records to {}", outcome.results.records.len(), args.results.display());
    Ok(if outcome.errors() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn row(row: &MacroRow) -> Vec<String> {
    [
        row.server.label(),
        row.dataset.label(),
        row.server.threads().to_string(),
        row.load.protocol.name().to_owned(),
        row.load.connections.to_string(),
        row.rate.map_or("closed".into(), |r| format!("{r:.0}/s")),
    ]
    .into_iter()
    .chain(load_cells(&row.measured))
    .chain([
        row.measured.requests_per_cpu_second().map_or("-".into(), |r| format!("{:.0}k", r / 1e3)),
        row.syscalls.map_or("-".into(), |s| format!("{s:.2}")),
        format!("{:.0} %", row.measured.report.client_cpu_percent()),
        row.hit_rate.map_or("-".into(), |r| format!("{:.1} %", 100.0 * r)),
    ])
    .collect()
}
