//! The suite's run as a library call: [`run`] takes a [`SuitePlan`] and
//! reports as it goes to a [`Progress`]; the binary only parses flags into
//! the plan and prints the [`SuiteOutcome`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use kvbench_lookup::{OpenOptions, StrategyKind};
use kvbench_peers::RedisCluster;
use kvbench_peers::cluster::DEFAULT_NODES;
use kvbench_results::recommend::{Goal, SINGLE_RUN_SPREAD, TIMED_GOALS, contested, latency_workload};
use kvbench_results::units::bytes;
use kvbench_results::{DatasetInfo, Estimate, Record, ResultSet, RunInfo, Skipped};
use kvbench_workload::Workload;

use super::estimate::{self, Planned};
use super::{
    Case, Focus, Job, SuiteError, aggregate, file_bytes, prepare_dataset, records, run_seed, schedule, shuffled,
};
use crate::cgroup::MemoryLimit;
use crate::fit;
use crate::latency::SampleBudget;
use crate::probe::{self, ProbeReport, ProbeSpec, READY_TIMEOUT};
use crate::progress::Progress;
use crate::timing::Plan;

/// The runs of a sequential suite ([`SuitePlan::sequential`]): every case
/// first gets one; the cases that could still be the best for a timed goal
/// of "What to use" ([`TIMED_GOALS`]) get up to three, and those whose
/// interval still overlaps the best one's then get [`SuitePlan::runs`].
/// A case out of the running keeps its one run: more would not change the answer.
pub const SEQUENTIAL_RUNS: [u32; 2] = [1, 3];

/// How many of a cold start's first lookups are timed, and for how long at most.
pub const FIRST_LOOKUPS: SampleBudget = SampleBudget { max_ops: 1000, max_time: Duration::from_secs(2), min_ops: 3 };

/// Where each probe runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Prober {
    /// In a fresh child process: `<exe> probe`, handed its [`ProbeSpec`] as
    /// JSON on stdin, printing its [`ProbeReport`] as JSON on stdout. Memory
    /// figures are then the strategy's own: how the suite measures.
    Child(PathBuf),
    /// In this process, one after another: for tests of the pipeline, whose
    /// memory figures include whatever ran before.
    InProcess,
}

/// What a suite measures and how: the whole input of [`run`].
#[derive(Clone, Debug)]
pub struct SuitePlan {
    /// The datasets, each as results name it and its path (generated or the user's).
    pub datasets: Vec<(DatasetInfo, PathBuf)>,
    /// The cases measured on every dataset.
    pub cases: Vec<Case>,
    /// The workloads of every warm case (a cold case runs only the first).
    pub workloads: Vec<Workload>,
    /// Runs of each case, each its own probe (with `sequential`, the most a case gets).
    pub runs: u32,
    /// Run each case once, then again only while the answer needs it
    /// ([`SEQUENTIAL_RUNS`]), rather than every case `runs` times.
    pub sequential: bool,
    /// Seed of the runs' order and of their keys.
    pub seed: u64,
    /// At most this many of a file's keys are drawn from.
    pub key_pool: usize,
    /// Short timing rounds ([`Plan::quick`]): checks that everything runs.
    pub quick: bool,
    /// Skip malformed lines (and count them) instead of failing.
    pub lenient: bool,
    /// Run each probe inside a cgroup memory limit of this many bytes (page cache included).
    pub memory_limit: Option<u64>,
    /// Time for all the workloads of a slow case together.
    pub case_budget: Option<Duration>,
    /// Where the probes run.
    pub prober: Prober,
}

impl SuitePlan {
    /// The probe of run `run` of `case` on `data`: the one place a suite
    /// option becomes a probe's. `cgroup` and `cluster` are what the run set up.
    pub fn spec(
        &self,
        data: &Path,
        case: &Case,
        run: u32,
        cgroup: Option<&Path>,
        cluster: Option<&[String]>,
    ) -> ProbeSpec {
        self.focused_spec(data, case, run, Focus::Whole, cgroup, cluster)
    }

    /// [`SuitePlan::spec`] for a run that measures only what `focus` says.
    fn focused_spec(
        &self,
        data: &Path,
        case: &Case,
        run: u32,
        focus: Focus,
        cgroup: Option<&Path>,
        cluster: Option<&[String]>,
    ) -> ProbeSpec {
        let all = if case.cold { &self.workloads[..self.workloads.len().min(1)] } else { &self.workloads[..] };
        ProbeSpec {
            data: data.to_owned(),
            strategy: case.strategy.clone(),
            opts: self.open_options(case, cluster),
            fresh_index: case.fresh_index,
            cold: case.cold,
            workloads: focus.workloads(all),
            key_pool: self.key_pool,
            plan: self.timing(),
            first_lookups: FIRST_LOOKUPS,
            seed: run_seed(self.seed, run),
            cgroup: cgroup.map(Path::to_owned),
            budget: self.case_budget,
            ready_timeout: READY_TIMEOUT,
        }
    }

    /// How `case` opens its strategy: a build's reloads a server's db, which
    /// no file stands for ([`kvbench_lookup::Place::Server`]); a
    /// `redis-cluster` case reads the `cluster` the suite started.
    fn open_options(&self, case: &Case, cluster: Option<&[String]>) -> OpenOptions {
        let reads_cluster = case.strategy.reader() == StrategyKind::RedisCluster;
        OpenOptions {
            lenient: self.lenient,
            redis_cluster: cluster.filter(|_| reads_cluster).map(<[String]>::to_vec),
            reload: case.fresh_index,
            ..OpenOptions::default()
        }
    }

    /// How long each workload is timed: [`Plan::quick`] with `quick`.
    fn timing(&self) -> Plan {
        if self.quick { Plan::quick() } else { Plan::default() }
    }

    /// What running `first` (the first round's jobs) and then, at most, every
    /// case that fits (`skips`) `runs` times comes to; `disk` is what its builds write.
    fn planned(&self, first: &[Job], skips: &[Vec<Option<String>>], disk: u64) -> Planned {
        let plan = self.timing();
        let cost = |job: &Job| {
            let keys = self.datasets[job.dataset].0.keys;
            estimate::probe_time(&self.cases[job.case], job.focus, self.workloads.len(), keys, &plan)
        };
        let first_time: Duration = first.iter().map(cost).sum();
        let (mut most, mut most_probes) = (first_time, first.len() as u64);
        if self.sequential {
            // At most, every case that fits brought up to `runs` by runs that time the ranked workload.
            let first_runs = SEQUENTIAL_RUNS[0].min(self.runs);
            let more = self.runs - first_runs;
            let focus = Focus::Latency(self.workloads.first().copied().unwrap_or(Workload::UNIFORM));
            for (dataset, per_case) in skips.iter().enumerate() {
                for case in per_case.iter().enumerate().filter(|(_, why)| why.is_none()).map(|(c, _)| c) {
                    most += cost(&Job { dataset, case, run: first_runs, focus }) * more;
                    most_probes += u64::from(more);
                }
            }
        }
        let cases = (0..self.cases.len()).filter(|&c| skips.iter().any(|s| s[c].is_none())).count();
        Planned {
            cases,
            datasets: self.datasets.len(),
            first_probes: first.len() as u64,
            most_probes,
            time: (first_time, most),
            disk,
        }
    }
}

/// One dataset's share of a suite's outcome.
#[derive(Clone, Debug)]
pub struct DatasetOutcome {
    /// How results name the dataset.
    pub info: DatasetInfo,
    /// Its file.
    pub path: PathBuf,
    /// Its records, each the median of its runs.
    pub records: Vec<Record>,
    /// Per case (in the plan's order), the reports of its runs that succeeded.
    pub reports: Vec<Vec<ProbeReport>>,
    /// Per case (in the plan's order), why it was skipped here, if it was.
    pub skipped: Vec<Option<String>>,
}

/// What a suite measured.
#[derive(Clone, Debug)]
pub struct SuiteOutcome {
    /// Per dataset, in the plan's order.
    pub datasets: Vec<DatasetOutcome>,
    /// Every record and every skipped case, as the results file holds them.
    pub results: ResultSet,
    /// Runs that failed, each said (they were also reported as notes as they failed).
    pub failures: Vec<String>,
}

/// Runs the suite: the stores that reopen cases need, then every run of
/// every case that fits, each a probe ([`SuitePlan::prober`]), in one shuffled
/// order (sequential: in rounds, each shuffled, the later ones only for the
/// cases still unsettled); the runs' records aggregated per dataset into
/// medians with intervals.
///
/// A run that fails is said (`progress.note`) and counted in
/// [`SuiteOutcome::failures`]; the others go on. Errors are what stops the
/// whole suite: no case, a memory limit or cluster that cannot be set up, a
/// store that cannot be built.
pub fn run(plan: &SuitePlan, progress: &mut dyn Progress) -> Result<SuiteOutcome, SuiteError> {
    if plan.cases.is_empty() {
        return Err(SuiteError::NoCases);
    }
    if plan.memory_limit.is_some() && plan.prober == Prober::InProcess {
        return Err(SuiteError::LimitInProcess);
    }
    let run_info = RunInfo::detect(plan.quick);
    let limit = plan.memory_limit.map(MemoryLimit::create).transpose()?;
    let limit_bytes = limit.as_ref().map(MemoryLimit::bytes);
    // A `redis-cluster` case reads a local cluster the suite starts (and stops when done).
    let cluster = plan
        .cases
        .iter()
        .any(|c| c.strategy.reader() == StrategyKind::RedisCluster)
        .then(|| RedisCluster::start(DEFAULT_NODES))
        .transpose()?;
    let urls = cluster.as_ref().map(RedisCluster::urls);
    let (skips, disk) = skips(&plan.datasets, &plan.cases, limit_bytes, plan.lenient, progress);
    for ((info, path), skip) in plan.datasets.iter().zip(&skips) {
        let running: Vec<Case> =
            plan.cases.iter().zip(skip).filter(|(_, why)| why.is_none()).map(|(c, _)| c.clone()).collect();
        let wrote = prepare_dataset(path, &running, |case| plan.open_options(case, urls.as_deref()))
            .map_err(|source| SuiteError::Prepare { path: path.clone(), source })?;
        for sidecar in wrote.iter().filter(|_| info.file.is_some()) {
            progress
                .note(&format!("wrote the index sidecar {} beside your file (later runs reuse it)", sidecar.display()));
        }
    }
    let (datasets, cases) = (plan.datasets.len(), plan.cases.len());
    let runnable = |j: &Job| skips[j.dataset][j.case].is_none();
    let mut jobs: Vec<Job> = match plan.sequential {
        true => schedule(datasets, cases, SEQUENTIAL_RUNS[0].min(plan.runs), plan.seed),
        false => schedule(datasets, cases, plan.runs, plan.seed),
    };
    jobs.retain(runnable);
    progress.plan(&plan.planned(&jobs, &skips, disk));
    let mut runs: Vec<Vec<Vec<(Focus, ProbeReport)>>> = vec![vec![Vec::new(); cases]; datasets];
    let mut done: Vec<Vec<u32>> = vec![vec![0; cases]; datasets];
    let mut failures = Vec::new();
    let mut total = 0;
    // Sequential: the run counts the unsettled cases are brought up to, in turn.
    let mut targets = SEQUENTIAL_RUNS[1..].iter().copied().chain([plan.runs]).filter(|&r| r <= plan.runs);
    let mut stage = 0;
    loop {
        total += jobs.len() as u64;
        progress.start(total);
        for job in &jobs {
            let ((info, path), case) = (&plan.datasets[job.dataset], &plan.cases[job.case]);
            let what = format!("{} {} (run {})", info.label(), case.label(), job.run + 1);
            progress.doing(&what);
            let cgroup = limit.as_ref().map(MemoryLimit::dir);
            let spec = plan.focused_spec(path, case, job.run, job.focus, cgroup, urls.as_deref());
            done[job.dataset][job.case] = done[job.dataset][job.case].max(job.run + 1);
            let failed = match probe_with(&plan.prober, &spec, case) {
                Ok(report) if report.memory_limit != limit_bytes => {
                    let read = report.memory_limit.map_or_else(|| "none".into(), |b| bytes(b as f64));
                    Some(format!("{what}: the probe read back a memory limit of {read}"))
                }
                Ok(report) => {
                    runs[job.dataset][job.case].push((job.focus, report));
                    None
                }
                Err(SuiteError::Failed { status, .. }) if limit.is_some() && killed(status) => {
                    let estimate = fit::needs(case, file_bytes(path), info.keys, true).limited().memory;
                    let (limit, estimate) = (bytes(limit_bytes.unwrap_or(0) as f64), bytes(estimate as f64));
                    Some(format!(
                        "{what}: out of memory under the limit of {limit} (killed by the kernel; it needed more than \
                         the estimate of ~{estimate} that let it run)"
                    ))
                }
                Err(e) => Some(e.to_string()),
            };
            if let Some(failure) = failed {
                progress.note(&format!("kvbench: {failure}"));
                failures.push(failure);
            }
            progress.done(1);
        }
        let Some(target) = targets.next().filter(|_| plan.sequential) else { break };
        stage += 1;
        jobs = Vec::new();
        for (d, (info, _)) in plan.datasets.iter().enumerate() {
            let records = dataset_records(info, &plan.cases, &runs[d], &run_info);
            for (c, focus) in unsettled(&records, info, &plan.cases) {
                jobs.extend((done[d][c]..target).map(|run| Job { dataset: d, case: c, run, focus }));
            }
        }
        if jobs.is_empty() {
            break;
        }
        jobs = shuffled(jobs, plan.seed.wrapping_add(stage));
    }
    let reports: Vec<Vec<Vec<ProbeReport>>> = runs
        .iter()
        .map(|per_case| per_case.iter().map(|r| r.iter().map(|(_, report)| report.clone()).collect()).collect())
        .collect();
    let mut results = ResultSet::new("kvbench suite");
    let mut datasets = Vec::new();
    for ((((info, path), per_case), skip), focused) in plan.datasets.iter().zip(reports).zip(skips).zip(&runs) {
        for ((case, why), runs) in plan.cases.iter().zip(&skip).zip(&per_case) {
            match why {
                Some(reason) => results.skipped.push(Skipped {
                    case: case.id(),
                    dataset: info.clone(),
                    reason: reason.clone(),
                    memory_limit: limit_bytes,
                }),
                // Its store exists by now: a reopen was estimated so, a build is estimated building.
                None if !runs.is_empty() => results.estimates.push(Estimate {
                    case: case.id(),
                    dataset: info.clone(),
                    memory_limit: limit_bytes,
                    bytes: fit::own_bytes(case, file_bytes(path), info.keys, true),
                }),
                None => {}
            }
        }
        let dataset_records = dataset_records(info, &plan.cases, focused, &run_info);
        results.records.extend(dataset_records.iter().cloned());
        datasets.push(DatasetOutcome {
            info: info.clone(),
            path: path.clone(),
            records: dataset_records,
            reports: per_case,
            skipped: skip,
        });
    }
    Ok(SuiteOutcome { datasets, results, failures })
}

/// One dataset's records from the runs of each case (in the plan's order):
/// per measurement, the median of the runs that measured it.
fn dataset_records(
    info: &DatasetInfo,
    cases: &[Case],
    runs: &[Vec<(Focus, ProbeReport)>],
    run_info: &RunInfo,
) -> Vec<Record> {
    let mut out = Vec::new();
    for (case, runs) in cases.iter().zip(runs) {
        let each: Vec<Vec<Record>> = runs
            .iter()
            .map(|(focus, r)| records(info, &case.id(), r, run_info).into_iter().filter(|r| focus.keeps(r)).collect())
            .collect();
        out.extend(aggregate(&each));
    }
    out
}

/// The cases (indices into `cases`) whose figures so far cannot rank them
/// below the best for some timed goal ([`contested`]), each with what its
/// next runs must measure: lookups for a latency goal (their open comes
/// with them), the open alone for the start.
fn unsettled(records: &[Record], info: &DatasetInfo, cases: &[Case]) -> Vec<(usize, Focus)> {
    let Some(workload) = latency_workload(records, info) else { return Vec::new() };
    let mut out: Vec<(usize, Focus)> = Vec::new();
    for goal in TIMED_GOALS {
        let focus = if goal == Goal::FastestStart { Focus::Start } else { Focus::Latency(workload) };
        for id in contested(records, info, workload, goal, SINGLE_RUN_SPREAD) {
            let Some(c) = cases.iter().position(|c| c.id() == id) else { continue };
            match out.iter_mut().find(|(i, _)| *i == c) {
                Some((_, f)) if *f == Focus::Start => *f = focus,
                Some(_) => {}
                None => out.push((c, focus)),
            }
        }
    }
    out
}

/// Whether a probe was killed with SIGKILL: under a memory limit, the
/// kernel's OOM killer (nothing else of the suite's sends it).
fn killed(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(libc::SIGKILL)
}

/// Runs one probe where `prober` says.
fn probe_with(prober: &Prober, spec: &ProbeSpec, case: &Case) -> Result<ProbeReport, SuiteError> {
    match prober {
        Prober::Child(exe) => probe_in_child(exe, spec, case),
        Prober::InProcess => probe::run(spec).map_err(|source| SuiteError::Probe { case: case.label(), source }),
    }
}

/// Runs `<exe> probe` with `spec` as JSON on its stdin and reads its JSON report from stdout.
pub fn probe_in_child(exe: &Path, spec: &ProbeSpec, case: &Case) -> Result<ProbeReport, SuiteError> {
    let json = serde_json::to_vec(spec).map_err(|source| SuiteError::Spec { case: case.label(), source })?;
    let spawn = |source| SuiteError::Spawn { exe: exe.to_owned(), source };
    let mut child = Command::new(exe)
        .arg("probe")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn)?;
    // The child reads its whole spec before it writes anything, so writing first cannot deadlock.
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(&json));
    let output = child.wait_with_output().map_err(spawn)?;
    if !output.status.success() {
        return Err(SuiteError::Failed {
            case: case.label(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    if let Some(Err(source)) = written {
        return Err(SuiteError::Handing { case: case.label(), source });
    }
    serde_json::from_slice(&output.stdout).map_err(|source| SuiteError::Output { case: case.label(), source })
}

/// Per dataset and case, why the case cannot run there ([`fit::why_not`]),
/// said as it is decided; `limit` is the memory limit the probes run under.
/// Disk is counted as it would fill: a store that a case builds is no
/// longer free for the next.
/// Also returns the bytes the cases that run will write beside the data.
fn skips(
    datasets: &[(DatasetInfo, PathBuf)],
    cases: &[Case],
    limit: Option<u64>,
    lenient: bool,
    progress: &mut dyn Progress,
) -> (Vec<Vec<Option<String>>>, u64) {
    let opts = OpenOptions { lenient, ..OpenOptions::default() };
    // Read once: what the machine has available before any case runs.
    let memory = limit.or_else(fit::available_memory).unwrap_or(u64::MAX);
    let mut disk_used = 0;
    let mut planned: Vec<PathBuf> = Vec::new();
    let mut out = Vec::new();
    for (info, path) in datasets {
        let file_bytes = file_bytes(path);
        let mut per_case = Vec::new();
        for case in cases {
            let sidecar = case.strategy.sidecar(path, &opts);
            // A store an earlier case already counted is there by the time this one runs
            // (the reopen and cold cases of one engine share it): its disk is not needed twice.
            let store_exists = sidecar.as_ref().is_some_and(|s| s.exists() || planned.contains(s));
            let disk = fit::free_disk(sidecar.as_deref().unwrap_or(path)).map(|d| d.saturating_sub(disk_used));
            let room = fit::Room { memory, limited: limit.is_some(), disk, store_exists };
            // A case that reuses a store missing yet finds it built: the suite builds it once in
            // its own process (`prepare_dataset`), outside any limit, where the build must fit
            // the machine; the probe under the limit then only reuses it.
            let built_outside = limit.is_some() && !case.fresh_index && !store_exists && sidecar.is_some();
            let why = match built_outside {
                true => {
                    let machine =
                        fit::Room { memory: fit::available_memory().unwrap_or(u64::MAX), limited: false, ..room };
                    fit::why_not(case, file_bytes, info.keys, machine)
                        .or_else(|| fit::why_not(case, file_bytes, info.keys, fit::Room { store_exists: true, ..room }))
                }
                false => fit::why_not(case, file_bytes, info.keys, room),
            };
            if let Some(why) = &why {
                progress.note(&format!("skipping {} {}: {why}", info.label(), case.label()));
            } else if let Some(sidecar) = sidecar.filter(|s| !planned.contains(s)) {
                disk_used += fit::needs(case, file_bytes, info.keys, store_exists).disk;
                planned.push(sidecar);
            }
            per_case.push(why);
        }
        out.push(per_case);
    }
    (out, disk_used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_a_limit_a_reopen_is_not_charged_the_build_the_suite_makes_outside_it() {
        let dir = tempfile::tempdir().expect("a folder");
        let data = dir.path().join("data.txt");
        std::fs::write(&data, (0..1_000).map(|i| format!("key{i} value{i}\n")).collect::<String>()).expect("written");
        let info =
            DatasetInfo { keys: 100_000_000, ..crate::suite::dataset_info(&kvbench_workload::Dataset::new(1_000)) };
        let cases: Vec<Case> =
            ["phf-index"].iter().flat_map(|s| crate::suite::cases_for(&[s.parse().expect("a strategy")])).collect();
        // No sidecar yet, 100M keys claimed and a 64 MiB limit: the build (40 B a key) cannot run
        // under it, but the reopen and the cold start reuse what the suite builds beforehand.
        let (why, _) = skips(&[(info, data)], &cases, Some(64 << 20), false, &mut ());
        let labels: Vec<(String, bool)> = cases.iter().zip(&why[0]).map(|(c, w)| (c.label(), w.is_some())).collect();
        let expected = [("phf-index (build)", true), ("phf-index (reopen)", false), ("phf-index (cold)", false)];
        assert_eq!(labels, expected.map(|(l, s)| (l.to_owned(), s)));
    }

    #[test]
    fn a_probe_spec_travels_as_json_and_reads_back_whole() {
        let plan = SuitePlan {
            datasets: Vec::new(),
            cases: Vec::new(),
            workloads: vec![Workload::UNIFORM, Workload::ZIPF, Workload::UNIFORM.batched(64)],
            runs: 3,
            sequential: false,
            seed: 5,
            key_pool: 1_000,
            quick: true,
            lenient: true,
            memory_limit: None,
            case_budget: Some(Duration::from_secs(60)),
            prober: Prober::InProcess,
        };
        let warm: Case = Case::new("lru(0.1,mmap-index)".parse().expect("a strategy"));
        let spec = plan.spec(Path::new("data/1M.txt"), &warm, 2, Some(Path::new("/sys/fs/cgroup/x")), None);
        let json = serde_json::to_string(&spec).expect("serializes");
        assert!(json.contains(r#""strategy":"lru(0.1,mmap-index)""#), "labels as a person types them: {json}");
        assert!(json.contains(r#""workloads":["uniform","zipf:0.99","uniform,batch=64"]"#), "{json}");
        let back: ProbeSpec = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, spec);
        assert_eq!((back.seed, back.opts.lenient, back.key_pool), (run_seed(5, 2), true, 1_000));

        let cold = Case { cold: true, ..Case::new("scan".parse().expect("a strategy")) };
        let spec = plan.spec(Path::new("data/1M.txt"), &cold, 0, None, Some(&["redis://127.0.0.1:1".into()]));
        assert_eq!(spec.workloads, [Workload::UNIFORM], "a cold case runs only the first workload");
        assert_eq!(spec.opts.redis_cluster, None, "only a redis-cluster case is given the cluster");

        // A user's file named in another encoding than UTF-8 travels as its bytes.
        use std::os::unix::ffi::OsStrExt;
        let odd = Path::new(std::ffi::OsStr::from_bytes(b"data/caf\xe9.txt"));
        let spec = plan.spec(odd, &cold, 0, None, None);
        let json = serde_json::to_string(&spec).expect("serializes");
        assert_eq!(serde_json::from_str::<ProbeSpec>(&json).expect("reads back").data, odd);

        let mut bad = serde_json::to_value(&spec).expect("a value");
        bad["strategy"] = "no-such-strategy".into();
        let error = serde_json::from_value::<ProbeSpec>(bad).expect_err("refused").to_string();
        assert!(error.contains("no-such-strategy"), "{error}");
    }
}
