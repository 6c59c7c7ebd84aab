//! The macro benchmark's run: each [`Group`] of a plan is one server, started
//! by a [`Launcher`], loaded once per [`Load`] by this crate's generator,
//! with the server's CPU and RSS sampled; results in the one schema.
//!
//! The open loops of a group run at a fraction of the closed-loop maximum
//! measured on the same server and protocol at [`BASE_CONNECTIONS`]; once per
//! run, `wrk` repeats the base HTTP load on the same server and keys to
//! cross-check the generator's figures.

use std::path::PathBuf;
use std::time::Duration;

use kvbench_harness::progress::Progress;
use kvbench_harness::suite::dataset_info;
use kvbench_peers::Pinning;
use kvbench_peers::wrk::{self, WrkError, WrkLoad};
use kvbench_results::{DatasetInfo, LoadInfo, Metric, ResultSet, RunInfo};
use kvbench_workload::KeyPool;
use kvbench_workload::Workload;

use crate::bench::{BenchError, Measured, ensure_data, measure};
use crate::launch::{Launched, Launcher};
use crate::record::{self, Subject};
use crate::run::{LoadSpec, Oracle, Stop};
use crate::sweep::{BASE_CONNECTIONS, Group, Load, Pace, Server};
use crate::target::Protocol;

/// The keys every load asks for.
const WORKLOAD: Workload = Workload::UNIFORM;

/// At most this many of the file's keys go into wrk's script.
const WRK_KEYS: u64 = 10_000;

/// How to run a plan.
#[derive(Clone, Debug)]
pub struct MacroOptions {
    /// Where datasets are generated and cached.
    pub data_dir: PathBuf,
    /// How long each load runs.
    pub duration: Duration,
    /// A smoke run (recorded with the results: figures are rough).
    pub quick: bool,
    /// Repeat the first base HTTP load with `wrk` (if installed), for a cross-check.
    pub cross_check: bool,
    /// Where this process (the load generator) and wrk run; servers are pinned by the [`Launcher`].
    pub pinning: Pinning,
}

/// One load of the plan, as measured.
#[derive(Clone, Debug)]
pub struct MacroRow {
    /// The server loaded.
    pub server: Server,
    /// The data it served.
    pub dataset: DatasetInfo,
    /// The load.
    pub load: Load,
    /// The rate offered, for an open loop.
    pub rate: Option<f64>,
    /// What the load and the server's sampling measured.
    pub measured: Measured,
}

/// What a plan's run measured.
#[derive(Debug)]
pub struct MacroOutcome {
    /// Every load's records (and wrk's, if it ran).
    pub results: ResultSet,
    /// Every load, in order.
    pub rows: Vec<MacroRow>,
    /// Findings for the user beside the table (wrk's cross-check).
    pub notes: Vec<String>,
}

impl MacroOutcome {
    /// Requests that failed or were answered wrongly, over every load.
    pub fn errors(&self) -> u64 {
        self.rows.iter().map(|r| r.measured.report.errors.total()).sum()
    }
}

/// Runs every group of `plan`: starts its server with `launcher`, applies its loads in order.
pub fn run(
    plan: &[Group],
    options: &MacroOptions,
    launcher: &dyn Launcher,
    progress: &mut dyn Progress,
) -> Result<MacroOutcome, BenchError> {
    // Described before pinning, which would make this process see one CPU.
    let run_info = RunInfo::detect(options.quick);
    options.pinning.pin_this_process();
    progress.start(plan.iter().map(|g| g.loads.len() as u64).sum());
    let mut out = MacroOutcome { results: ResultSet::new("kvbench bench macro"), rows: Vec::new(), notes: Vec::new() };
    let mut cross_check = options.cross_check;
    for group in plan {
        progress.doing(&format!("{} on {}", group.server.label(), group.dataset.keys));
        let data = ensure_data(&group.dataset, &options.data_dir)?;
        let server = match launcher.start(&group.server, &data)? {
            Launched::Running(server) => server,
            Launched::Unavailable(why) => {
                progress.note(&format!("skipping {}: {why}", group.server.label()));
                progress.done(group.loads.len() as u64);
                continue;
            }
        };
        let oracle = Oracle::open(&data)?;
        let dataset = dataset_info(&group.dataset);
        let mut max_rate: Vec<(Protocol, f64)> = Vec::new();
        for load in &group.loads {
            let Some(addr) = server.addr(load.protocol) else { continue };
            let rate = match load.pace {
                Pace::Closed => None,
                Pace::FractionOfMax(f) => {
                    max_rate.iter().find(|(p, _)| *p == load.protocol).map(|(_, max)| (max * f).max(1.0))
                }
            };
            let spec = LoadSpec {
                target: load.protocol.at(addr),
                connections: load.connections,
                threads: 1,
                stop: Stop::Duration(options.duration),
                rate,
                workload: WORKLOAD,
                seed: 42,
            };
            let measured = measure(&spec, server.pid(), &oracle)?;
            let throughput = measured.report.throughput();
            let base = load.pace == Pace::Closed && load.connections == BASE_CONNECTIONS;
            if base {
                max_rate.push((load.protocol, throughput));
            }
            let subject = Subject {
                strategy: group.server.label(),
                dataset: dataset.clone(),
                workload: WORKLOAD.to_string(),
                load: LoadInfo {
                    protocol: load.protocol.name().to_owned(),
                    connections: load.connections as u32,
                    server_threads: group.server.threads() as u32,
                    rate: rate.map(|r| r as u64),
                    client: None,
                    pinned: options.pinning.active(),
                },
            };
            let records = record::records(&measured.report, Some(&measured.used), &subject, &run_info);
            out.results.records.extend(records);
            progress.done(1);
            if base && load.protocol == Protocol::Http && cross_check {
                cross_check = false;
                let load = WrkLoad {
                    addr,
                    connections: BASE_CONNECTIONS,
                    duration: options.duration,
                    cpu: options.pinning.client_cpu(),
                };
                match wrk::run(&load, wrk_keys(&oracle.keys)) {
                    Ok(wrk) => {
                        out.notes.push(format!(
                            "wrk cross-check (HTTP, {BASE_CONNECTIONS} connections): wrk {:.0} requests/s, kvbench load {throughput:.0} ({:.2}x wrk)",
                            wrk.rps,
                            throughput / wrk.rps
                        ));
                        let client = LoadInfo { client: Some("wrk".into()), ..subject.load.clone() };
                        let values = [
                            (Metric::Throughput, wrk.rps),
                            (Metric::LatencyP50, wrk.p50_ns),
                            (Metric::LatencyP99, wrk.p99_ns),
                        ];
                        out.results.records.extend(Subject { load: client, ..subject }.records(values, &run_info));
                    }
                    Err(WrkError::NotInstalled) => progress.note("skipping the wrk cross-check: wrk not installed"),
                    Err(err) => progress.note(&format!("skipping the wrk cross-check: {err}")),
                }
            }
            let dataset = dataset.clone();
            out.rows.push(MacroRow { server: group.server.clone(), dataset, load: *load, rate, measured });
        }
    }
    Ok(out)
}

/// Up to [`WRK_KEYS`] keys spread over the pool, for wrk's script.
fn wrk_keys(keys: &KeyPool) -> impl Iterator<Item = &[u8]> {
    let step = (keys.len() as u64 / WRK_KEYS).max(1);
    (0..(keys.len() as u64).min(WRK_KEYS)).map(move |i| keys.get(i * step))
}
