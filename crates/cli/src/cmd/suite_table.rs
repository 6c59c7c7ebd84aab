//! The suite's results as the terminal shows them: one dataset's tables, the
//! legend, the notes, and what to use.

use std::path::Path;

use kvbench_harness::latency::MIN_BEYOND;
use kvbench_harness::probe::ProbeReport;
use kvbench_harness::suite::Case;
use kvbench_harness::suite::sweep::{self, SweepOutcome, SweepPoint};
use kvbench_harness::timing::SLOW_OP;
use kvbench_lookup::{Family, Strategy, StrategyKind};
use kvbench_results::cells::{Slowest, figure, tail, with_interval};
use kvbench_results::legend::{Legend, Measured, Term};
use kvbench_results::recommend::{HEADER, latency_workload, recommend_with};
use kvbench_results::table::{self, Cell, Format};
use kvbench_results::units::approx_count;
use kvbench_results::{CaseId, CaseStart, DatasetInfo, FileInfo, LenSummary, MEMCHR_PASS, Metric, Record, ResultSet};
use kvbench_workload::Workload;

use crate::human;

/// One dataset's results as the terminal shows them: start-up and memory,
/// one table of lookup times per workload, the cold starts.
pub struct Table<'a> {
    /// The dataset's records, each the median of its runs.
    pub records: &'a [Record],
    /// The cases measured, in the suite's order.
    pub cases: &'a [Case],
    /// Per case (in `cases`' order), the reports of its runs: file size, notes, costs.
    pub reports: &'a [Vec<ProbeReport>],
    /// The workloads every warm case ran.
    pub workloads: &'a [Workload],
    /// Every column (`--wide`), rather than what fits 100 columns.
    pub wide: bool,
    /// Text or Markdown tables.
    pub format: Format,
}

impl Table<'_> {
    fn get(&self, case: &CaseId, workload: Option<Workload>, metric: Metric) -> Option<&Record> {
        self.records.iter().find(|r| r.case == *case && r.workload == workload && r.metric == metric)
    }

    /// A percentile's record, or the slowest lookup where too few were timed
    /// for it (`max of 194: 2.46 ms`; narrow tables: `max 2.46 ms`).
    fn percentile(&self, percentile: Option<&Record>, max: Option<&Record>) -> Cell {
        tail(percentile, max, if self.wide { Slowest::Counted } else { Slowest::Short })
    }

    /// `rows` under `header`, only the columns `keep` marks unless wide; the first column left-aligned.
    fn show(&self, header: &[&str], rows: Vec<Vec<Cell>>, keep: &[bool]) {
        let table = table::Table::new(header).left_aligned(1).narrow(keep).with_rows(rows);
        match self.format {
            Format::Markdown => println!("{}", table.markdown()),
            _ => println!("{}\n", table.text(self.wide)),
        }
    }

    /// The first report of any run of any case, for what is the same in every run (the file's size, the clock).
    fn any_report(&self) -> Option<&ProbeReport> {
        self.reports.iter().flatten().next()
    }

    /// The median over runs and cases of a cost every probe measures.
    fn cost(&self, of: impl Fn(&ProbeReport) -> f64) -> f64 {
        let values: Vec<f64> = self.reports.iter().flatten().map(of).collect();
        kvbench_results::stats::median_ci(&values, 0.0).map_or(0.0, |m| m.median)
    }

    /// Prints the dataset's header, its tables, the legend, the notes and the ratios.
    pub fn print(&self, dataset: &DatasetInfo, path: &Path, seed: u64) {
        let runs = Legend::runs_of(self.records);
        let file_bytes = self.any_report().map_or(0, |r| r.file_bytes);
        let name = match &dataset.file {
            Some(_) => dataset.label(),
            None => format!("{} keys", dataset.label()),
        };
        let said = match runs {
            (1, 1) => "each figure from one run in a fresh process".to_owned(),
            (fewest, most) if fewest == most => format!("each figure the median of {most} runs in fresh processes"),
            (fewest, most) => format!("each figure the median of {fewest} to {most} runs in fresh processes"),
        };
        println!("\n{name}: {} ({}); {said}", path.display(), human::bytes(file_bytes));
        if let Some(file) = &dataset.file {
            println!("{}", describe(file));
        }
        println!();
        self.start_up_and_memory();
        for w in self.workloads {
            self.lookups(*w);
        }
        self.cold_starts();
        self.explain(runs, seed);
        self.notes();
        self.ratios(file_bytes);
    }

    fn warm_cases(&self) -> impl Iterator<Item = CaseId> + '_ {
        self.cases.iter().filter(|c| !c.cold).map(Case::id)
    }

    fn start_up_and_memory(&self) {
        println!("Start-up and memory");
        let bytes = |v: f64| human::bytes(v as u64);
        let rows: Vec<Vec<Cell>> = self
            .cases
            .iter()
            .zip(self.reports)
            // A case skipped (it could not fit) has no runs, and is listed after the tables.
            .filter(|(_, runs)| !runs.is_empty())
            .map(|(case, _)| {
                let (id, c) = (case.id(), case.label());
                let get = |m| self.get(&id, None, m);
                let ready = if self.wide {
                    with_interval(get(Metric::ReadyTime), human::nanos)
                } else {
                    figure(get(Metric::ReadyTime), human::nanos)
                };
                vec![
                    Cell::text(c.clone()),
                    with_interval(get(Metric::OpenTime), human::nanos),
                    ready,
                    figure(get(Metric::HeapBytes), bytes),
                    figure(get(Metric::AnonRssBytes), bytes),
                    figure(get(Metric::FileRssBytes), bytes),
                    figure(get(Metric::AnonBytesPerKey), |v| format!("{v:.1}")),
                    figure(get(Metric::ResidentBytesPerKey), |v| format!("{v:.1}")),
                ]
            })
            .collect();
        let header = ["strategy", "open", "ready", "heap", "anon RSS", "file RSS", "anon B/key", "resident B/key"];
        self.show(&header, rows, &[true, true, true, true, true, true, false, true]);
    }

    fn lookups(&self, workload: Workload) {
        println!("{workload}: time per lookup");
        let workload = Some(workload);
        let rows: Vec<Vec<Cell>> = self
            .warm_cases()
            // Every case that measured the workload (a batched one has no lookups timed alone).
            .filter(|c| self.get(c, workload, Metric::LookupMean).is_some())
            .map(|c| {
                let get = |m| self.get(&c, workload, m);
                let tail = self.percentile(get(Metric::LatencyP99), get(Metric::LatencyMax));
                vec![
                    Cell::text(c.to_string()),
                    with_interval(get(Metric::LookupMean), human::nanos),
                    with_interval(get(Metric::ChainLatency), human::nanos),
                    with_interval(get(Metric::LatencyP50), human::nanos),
                    tail,
                    samples(get(Metric::LookupMean), get(Metric::ChainLatency), get(Metric::LatencyMax)),
                    figure(get(Metric::HitRate), |h| format!("{:.0}%", h * 100.0)),
                    figure(get(Metric::MajorFaultsPerLookup), |f| format!("{f:.2}")),
                    figure(get(Metric::DiskReadBytesPerLookup), |b| human::bytes(b as u64)),
                    figure(get(Metric::ReadCallsPerLookup), |n| format!("{n:.2}")),
                ]
            })
            .collect();
        // Faults and reads matter where the data does not fit in memory (any case's), read calls
        // where a warm strategy other than a scan reads its file with pread (an engine's own
        // cache), hit rates where there is a cache; elsewhere they are ~0 or none, and left out.
        let shown = |r: &Record| {
            self.cases
                .iter()
                .any(|c| c.id() == r.case && !c.cold && c.strategy.kind().facts().family != Family::Baseline)
        };
        let any = |metric, min: f64| {
            self.records.iter().any(|r| r.workload == workload && r.metric == metric && r.value >= min && shown(r))
        };
        let faulting = self
            .records
            .iter()
            .any(|r| r.workload == workload && r.metric == Metric::MajorFaultsPerLookup && r.value >= 0.01);
        let reading = any(Metric::ReadCallsPerLookup, 0.01);
        let caching = any(Metric::HitRate, 0.0);
        let header = [
            "strategy",
            "overlapped",
            "chained",
            "alone p50",
            "alone p99",
            "lookups timed",
            "hit rate",
            "major faults/lookup",
            "read/lookup",
            "reads",
        ];
        self.show(&header, rows, &[true, true, true, true, true, false, caching, faulting, faulting, reading]);
    }

    fn cold_starts(&self) {
        let cold: Vec<CaseId> = self.cases.iter().filter(|c| c.cold).map(Case::id).collect();
        let Some(first) = self.workloads.first() else { return };
        if cold.is_empty() {
            return;
        }
        let workload = Some(*first);
        println!("Cold starts (page cache dropped before opening; {first} keys)");
        let percent = |v: f64| format!("{:.0}%", v * 100.0);
        let rows: Vec<Vec<Cell>> = cold
            .iter()
            .map(|c| {
                let get = |w: Option<Workload>, m| self.get(c, w, m);
                let max = get(workload, Metric::LatencyMax);
                let p50 = self.percentile(get(workload, Metric::LatencyP50), max);
                let next = match self.wide {
                    true => p50.then(format!(" (of {})", approx_count(max.and_then(|m| m.samples).unwrap_or(0)))),
                    false => p50,
                };
                let cached = [
                    figure(get(None, Metric::ColdResidentBefore), percent),
                    figure(get(None, Metric::ColdResidentAfterOpen), percent),
                ];
                vec![
                    Cell::text(c.to_string()),
                    with_interval(get(None, Metric::OpenTime), human::nanos),
                    with_interval(get(workload, Metric::FirstLookup), human::nanos),
                    next,
                    Cell::join(cached, " -> "),
                ]
            })
            .collect();
        let header = ["strategy", "open", "first lookup", "next p50", "cached before -> after open"];
        self.show(&header, rows, &[true; 5]);
    }

    fn explain(&self, runs: (u32, u32), seed: u64) {
        let measured = Measured {
            seed,
            loop_ns: self.cost(|r| r.harness_overhead_ns),
            chain_floor_ns: self.cost(|r| r.chain_floor_ns),
            clock_ns: self.cost(|r| r.clock_overhead_ns),
            clock_tick_ns: self.cost(|r| r.clock_tick_ns),
            cpu_share: self.cpu_share(),
            min_beyond: MIN_BEYOND,
            slow_op_ns: SLOW_OP.as_nanos() as f64,
        };
        let legend = Legend {
            runs,
            level: Legend::level_of(self.records),
            terms: vec![
                Term::Overlapped,
                Term::Chained,
                Term::Alone,
                Term::Timed,
                Term::CpuTime,
                Term::Start,
                Term::Memory,
                Term::Reads,
            ],
            measured: Some(measured),
        };
        println!("{}", human::wrap(&legend.text(), 100));
    }

    /// The median share of wall time the probes ran during their timed rounds (0.93); `None` without rounds.
    fn cpu_share(&self) -> Option<f64> {
        let shares: Vec<f64> = self
            .reports
            .iter()
            .flatten()
            .flat_map(|r| &r.workloads)
            .filter_map(|w| w.overlapped?.rounds)
            .filter(|r| r.wall_median_ns > 0.0)
            .map(|r| r.median_ns / r.wall_median_ns)
            .collect();
        kvbench_results::stats::median_ci(&shares, 0.0).map(|m| m.median)
    }

    /// What the strategies and the probe said about each case (index reused or
    /// rebuilt, a key pool that inflates hit rates, a failed eviction): the
    /// figures depend on it. Each distinct note once, however many runs said it.
    fn notes(&self) {
        for (case, runs) in self.cases.iter().zip(self.reports) {
            let mut notes: Vec<&str> = Vec::new();
            for note in runs.iter().flat_map(|r| &r.notes) {
                if !notes.contains(&note.as_str()) {
                    notes.push(note);
                }
            }
            let retained = runs.iter().filter_map(|r| r.allocator_retained).max().unwrap_or(0);
            let retained = (retained >= 1 << 20).then(|| {
                format!("the allocator kept {} freed during open (released before measuring)", human::bytes(retained))
            });
            let all: Vec<&str> = notes.into_iter().chain(retained.as_deref()).collect();
            if !all.is_empty() {
                println!("{}: {}", case.label(), all.join("; "));
            }
        }
    }

    fn ratios(&self, file_bytes: u64) {
        let scan = CaseId::plain(Strategy::Plain(StrategyKind::Scan).to_string());
        let miss = self.get(&scan, Some(Workload::MISS), Metric::LookupMean);
        if let (Some(miss), Some(floor)) = (miss, self.get(&MEMCHR_PASS.into(), None, Metric::LookupMean)) {
            println!(
                "scan: a miss (a full scan) takes {:.2}x one memchr pass over the file ({}), each the median of its runs",
                miss.value / floor.value,
                with_interval(Some(floor), human::nanos).render(Format::Text)
            );
        }
        let map = CaseId::plain(Strategy::Plain(StrategyKind::HashMap).to_string());
        if let Some(heap) = self.get(&map, None, Metric::HeapBytes) {
            println!("hashmap heap / file size: {:.2}x", heap.value / file_bytes.max(1) as f64);
        }
    }
}

/// The recommendation for one dataset, computed from its records (`kvbench_results::recommend`).
pub fn what_to_use(results: &ResultSet, dataset: &DatasetInfo, budget: Option<u64>, format: Format) {
    let records = &results.records;
    let Some(workload) = latency_workload(records, dataset) else { return };
    let r = recommend_with(records, &results.skipped, dataset, workload, budget);
    println!("\nWhat to use for {} on this machine", r.dataset);
    match format {
        Format::Markdown => println!("\n{}", table::Table::of(&HEADER, &r.rows()).markdown()),
        _ => println!("{}", human::table(&HEADER, &r.rows())),
    }
    for tie in r.notes() {
        println!("{}", human::wrap(&format!("- {tie}"), 100));
    }
    println!("{}", human::wrap(&r.legend(), 100));
}

/// What a user's file holds, in one paragraph: records, keys, duplicates, lengths.
fn describe(file: &FileInfo) -> String {
    let lengths = |l: &LenSummary| format!("{}/{}/{}/{} B", l.min, l.median, l.p99, l.max);
    let skipped = match file.skipped {
        0 => String::new(),
        n => format!(", {n} malformed {} skipped", human::plural(n, "line")),
    };
    format!(
        "{} records, {} distinct keys, {} {} (the first line of a key wins){skipped}; \
         key length min/median/p99/max {}, value length {}; fingerprint {}",
        file.records,
        file.distinct_keys,
        file.duplicates,
        human::plural(file.duplicates, "duplicate"),
        lengths(&file.key_len),
        lengths(&file.value_len),
        file.fingerprint.get(..12).unwrap_or(&file.fingerprint),
    )
}

/// Lookups timed per run for each way of timing: `1.2M / 800k / 200k`, or
/// `12 one by one` for a slow lookup, whose three figures come from the same lookups.
fn samples(overlapped: Option<&Record>, chained: Option<&Record>, alone: Option<&Record>) -> Cell {
    let n = |r: Option<&Record>| r.and_then(|r| r.samples);
    match (n(overlapped), n(chained), n(alone)) {
        (Some(o), Some(c), Some(a)) if o == a && c == a => Cell::text(format!("{} one by one", approx_count(a))),
        (o, c, a) => Cell::join([o, c, a].map(|n| Cell::of(n, approx_count)), " / "),
    }
}

/// The runs under memory limits of one dataset (`--memory-sweep`,
/// `--memory-budget`): per strategy, p50 and p99 of the ranked workload
/// without a limit (`unlimited`, the main records) and under each limit,
/// largest first; with `wide`, major faults per lookup too.
pub fn under_limits(swept: &SweepOutcome, dataset: &DatasetInfo, unlimited: &[Record], wide: bool, format: Format) {
    let points: Vec<&SweepPoint> = swept.points.iter().filter(|p| &p.dataset == dataset).collect();
    let Some(workload) = points.iter().find_map(|p| latency_workload(&p.outcome.results.records, dataset)) else {
        return;
    };
    let file = points[0].outcome.datasets.first().map_or(0, |d| kvbench_harness::suite::file_bytes(&d.path));
    // Every case the sweep ran, as the first point lists them (a point's cases are all the same).
    let cases: Vec<CaseId> = points
        .iter()
        .flat_map(|p| p.outcome.datasets.first().map(|d| d.records.iter().map(|r| r.case.clone())))
        .flatten()
        .filter(|c| c.strategy != MEMCHR_PASS)
        .fold(Vec::new(), |mut seen, c| {
            if !seen.contains(&c) {
                seen.push(c);
            }
            seen
        });
    let cell = |records: &[Record], case: &CaseId| {
        let get = |m| records.iter().find(|r| r.case == *case && r.workload == Some(workload) && r.metric == m);
        let Some(p50) = get(Metric::LatencyP50) else { return Cell::empty() };
        let tail = tail(get(Metric::LatencyP99), get(Metric::LatencyMax), Slowest::Short);
        let mut cell = Cell::text(human::nanos(p50.value)).then(" / ").then(tail);
        if let Some(faults) = get(Metric::MajorFaultsPerLookup).filter(|_| wide) {
            cell = cell.then(format!(" · {:.2} faults", faults.value));
        }
        cell
    };
    let mut header = vec!["strategy".to_owned(), "no limit".to_owned()];
    header.extend(points.iter().map(|p| sweep::describe(p.budget, p.limit, file)));
    let rows = cases.iter().map(|case| {
        let mut row = vec![Cell::text(case.to_string()), cell(unlimited, case)];
        for p in &points {
            let skipped = p.outcome.results.skipped.iter().any(|s| s.case == *case);
            row.push(if skipped { Cell::text("skipped") } else { cell(&p.outcome.results.records, case) });
        }
        row
    });
    println!("\nUnder memory limits ({}; `{workload}` keys: p50 / p99 of lookups timed alone)", dataset.label());
    let table = table::Table::new(&header).left_aligned(1).with_rows(rows);
    match format {
        Format::Markdown => println!("{}", table.markdown()),
        _ => println!("{}", table.text(true)),
    }
    println!(
        "{}",
        human::wrap(
            "Each probe ran in a fresh process inside a cgroup whose memory limit counts the page cache, its \
             files evicted, then read and mapped in as far as the limit holds them: the file is served as on a \
             machine with that much memory that has served a while. skipped: the case cannot fit (the reason is listed above); empty: its run failed.",
            100
        )
    );
}

/// The fit estimate's error for `dataset`'s cases run without a limit: the
/// anonymous memory it allowed each before it ran, beside the most the case
/// added (after open or after its lookups), where either is more than
/// nothing. A build's estimate is of its peak during the open, which the
/// probe does not see: builds are left out.
pub fn estimates(results: &ResultSet, dataset: &DatasetInfo) {
    let added = |case: &CaseId| {
        let get = |m| {
            results
                .records
                .iter()
                .find(|r| r.case == *case && &r.dataset == dataset && r.memory_limit.is_none() && r.metric == m)
        };
        let (open, after) = (get(Metric::OpenAnonRssBytes), get(Metric::AnonRssBytes));
        open.into_iter().chain(after).map(|r| r.value).reduce(f64::max)
    };
    let lines: Vec<String> = results
        .estimates
        .iter()
        .filter(|e| &e.dataset == dataset && e.memory_limit.is_none() && !e.case.started(CaseStart::Build))
        .filter_map(|e| {
            let used = added(&e.case)?;
            let ratio = if e.bytes > 0 { format!(" ({:.2}×)", used / e.bytes as f64) } else { String::new() };
            (e.bytes > 0 || used >= f64::from(1 << 20))
                .then(|| format!("{} {} / {}{ratio}", e.case, human::bytes(e.bytes), human::bytes(used as u64)))
        })
        .collect();
    if !lines.is_empty() {
        let text = format!(
            "fit estimates, anonymous memory allowed before running / added at most (used ÷ allowed): {}",
            lines.join("; ")
        );
        println!("{}", human::wrap(&text, 100));
    }
}
