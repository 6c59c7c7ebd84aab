//! The report's conclusions: one function per finding, each a sentence
//! computed from the data (no number in it is typed by hand).
//!
//! A finding whose inputs are not in the results returns what it looked for
//! ([`Missing`]) instead of a sentence. The report leaves it out (a partial
//! run has no load runs, say), and the tests check that the records the
//! harnesses write hold every input, so a case renamed on one side cannot
//! silently drop a conclusion.

use kvbench_results::names::workload_label;
use kvbench_results::units::{bytes, count, nanos};
use kvbench_results::{
    BASE_CONNECTIONS, BASE_KEYS, CaseId, CaseStart, DatasetInfo, MEMCHR_PASS, Metric, PYTHON_DICT, REDIS_SERVER,
    Record, Workload,
};

use crate::charts::cache_sweep::sweep;
use crate::charts::concurrency::PROTOCOLS;
use crate::data::{Data, Source, is_base};

/// Within this factor of the fastest counts as a tie on a measure as noisy as a median lookup.
const TIE: f64 = 1.15;

/// The peers each protocol's load runs compare `kvbench serve` with: `(protocol, title, peer)`.
const PEERS: [(&str, &str, &str); 2] = [("resp", "RESP", REDIS_SERVER), ("http", "HTTP", PYTHON_DICT)];

/// The inputs a finding looked for and the results did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The harness whose results hold them.
    pub source: Source,
    /// What was looked for, e.g. `mmap-index (reopen) · 1M · uniform · latency_p50`.
    pub inputs: Vec<String>,
}

impl Missing {
    fn input(source: Source, what: String) -> Self {
        Missing { source, inputs: vec![what] }
    }
}

/// Every finding the data supports, and what the others lacked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conclusions {
    /// The sentences, in the report's order.
    pub sentences: Vec<String>,
    /// Per finding left out (by name), the inputs it did not find.
    pub missing: Vec<(&'static str, Missing)>,
}

impl Conclusions {
    fn add(&mut self, finding: &'static str, result: Result<String, Missing>) {
        match result {
            Ok(sentence) => self.sentences.push(sentence),
            Err(missing) => self.missing.push((finding, missing)),
        }
    }
}

/// Every finding, tried on `data`: suite, load runs, baselines, then criterion's cache sweep.
pub fn conclusions(data: &Data) -> Conclusions {
    let mut out = Conclusions::default();
    out.add("fastest lookup", fastest_lookup(data));
    out.add("throughput vs latency", throughput_vs_latency(data));
    out.add("mmap-index vs hashmap", mmap_index_vs_hashmap(data));
    out.add("reopen vs build", reopen_vs_build(data));
    out.add("scan vs memchr", scan_vs_memchr(data));
    for (protocol, title, peer) in PEERS {
        out.add("kvbench serve vs its peer", serve_vs_peer(data, protocol, title, peer));
    }
    for (protocol, title) in PROTOCOLS {
        out.add("two server threads vs one", two_threads_vs_one(data, protocol, title));
    }
    for (metric, what) in [
        (Metric::ProcessTime, "as a whole process answering one key"),
        (Metric::LookupMean, "per lookup in a running process"),
    ] {
        out.add("Rust vs Python", rust_vs_python(data, metric, what));
    }
    match lru_backings(data) {
        Ok((keys, backings)) => {
            for backing in backings {
                out.add("LRU hit rates", lru_hit_rates(data, keys, &backing));
                out.add("LRU vs its backing alone", lru_vs_alone(data, keys, &backing));
            }
        }
        Err(missing) => out.missing.push(("LRU sweep", missing)),
    }
    out
}

/// The largest dataset (with default values) of `source`.
fn largest(data: &Data, source: Source) -> Result<DatasetInfo, Missing> {
    data.largest(source).ok_or_else(|| Missing::input(source, "any dataset with default values".into()))
}

/// A suite value, or the input it was.
fn suite(data: &Data, case: &CaseId, keys: u64, workload: Option<Workload>, metric: Metric) -> Result<f64, Missing> {
    data.value(Source::Suite, case, keys, workload, metric).ok_or_else(|| {
        let workload = workload_label(workload.as_ref(), case.start);
        Missing::input(Source::Suite, format!("{case} · {} · {workload} · {}", count(keys), metric.name()))
    })
}

/// Both inputs, or every one of them that is missing.
fn both<A, B>(a: Result<A, Missing>, b: Result<B, Missing>) -> Result<(A, B), Missing> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(mut a), Err(b)) => {
            a.inputs.extend(b.inputs);
            Err(a)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// The suite's case of `mmap-index` reopened from its sidecar (the warm case people run).
fn reopened_index() -> CaseId {
    CaseId::new("mmap-index", Some(CaseStart::Reopen))
}

/// The suite's plain (warm) case of `hashmap`, the in-memory yardstick.
fn hashmap() -> CaseId {
    CaseId::plain("hashmap")
}

/// Which strategy answers fastest at the suite's largest dataset (or which
/// tie): a question of latency, so the median of lookups each timed alone.
fn fastest_lookup(data: &Data) -> Result<String, Missing> {
    let k = largest(data, Source::Suite)?.keys;
    let p50 = |c: &CaseId| suite(data, c, k, Some(Workload::UNIFORM), Metric::LatencyP50);
    let mut ranked: Vec<(f64, CaseId)> = data
        .warm_cases(Source::Suite, k, Some(Workload::UNIFORM), Metric::LatencyP50)
        .into_iter()
        .filter_map(|c| Some((p50(&c).ok()?, c)))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some((best, first)) = ranked.first() else {
        return Err(Missing::input(Source::Suite, format!("any warm case · {} · uniform · latency_p50", count(k))));
    };
    let label = count(k);
    let tied: Vec<String> =
        ranked.iter().filter(|(v, _)| *v <= best * TIE).map(|(v, c)| format!("`{c}` ({})", nanos(*v))).collect();
    Ok(if tied.len() > 1 {
        format!(
            "At {label} keys the lowest median latencies (suite p50, each lookup timed alone, uniform keys) are within 15 % of each other: {}.",
            tied.join(", ")
        )
    } else {
        format!(
            "At {label} keys the lowest median latency (suite p50, each lookup timed alone, uniform keys) is `{first}`: {}.",
            nanos(*best)
        )
    })
}

/// What overlapping buys: `hashmap`'s time per lookup back to back
/// (throughput) against its latency when each lookup waits for the previous one.
fn throughput_vs_latency(data: &Data) -> Result<String, Missing> {
    let k = largest(data, Source::Suite)?.keys;
    let at = |m| suite(data, &hashmap(), k, Some(Workload::UNIFORM), m);
    let (overlapped, chained) = both(at(Metric::LookupMean), at(Metric::ChainLatency))?;
    Ok(format!(
        "At {} keys `hashmap` completes a uniform lookup every {} when lookups run back to back (the CPU overlaps \
         their cache misses: {:.1}M lookups/s on one thread), against {} when each waits for the previous answer \
         (chained latency): a batch job gets the first, a caller waiting for each answer the second.",
        count(k),
        nanos(overlapped),
        1e3 / overlapped.max(f64::MIN_POSITIVE),
        nanos(chained)
    ))
}

/// `mmap-index` against `hashmap`: median latency, and memory (anonymous and resident).
fn mmap_index_vs_hashmap(data: &Data) -> Result<String, Missing> {
    let k = largest(data, Source::Suite)?.keys;
    let index = reopened_index();
    let p50 = |c: &CaseId| suite(data, c, k, Some(Workload::UNIFORM), Metric::LatencyP50);
    let (i, m) = both(p50(&index), p50(&hashmap()))?;
    // The memory half is optional: the sentence says when it is not there.
    let of = |c: &CaseId, metric| suite(data, c, k, None, metric).ok();
    let anon = match (of(&index, Metric::AnonRssBytes), of(&hashmap(), Metric::AnonRssBytes)) {
        (Some(a), Some(b)) if a > 0.0 => {
            format!("holds {} of anonymous memory against {} for `hashmap`", bytes(a), bytes(b))
        }
        (Some(_), Some(b)) => format!("holds no anonymous memory where `hashmap` holds {}", bytes(b)),
        _ => "(no memory figures)".into(),
    };
    // Resident = anonymous + the mapped file's pages: what the index needs in memory to answer this fast.
    let resident = |c: &CaseId| Some(of(c, Metric::AnonRssBytes)? + of(c, Metric::FileRssBytes)?);
    let memory = match (resident(&index), resident(&hashmap())) {
        (Some(a), Some(b)) => format!(
            "{anon}, but needs {} resident against {} once the mapped file's pages are counted",
            bytes(a),
            bytes(b)
        ),
        _ => anon,
    };
    Ok(format!(
        "At {} keys `mmap-index` (reopened) answers in {:.2}× the median latency of `hashmap` (suite p50, each \
         lookup timed alone: {} vs {}) and {memory}.",
        count(k),
        i / m,
        nanos(i),
        nanos(m)
    ))
}

/// Reopening `mmap-index` from its sidecar against building `hashmap`.
fn reopen_vs_build(data: &Data) -> Result<String, Missing> {
    let k = largest(data, Source::Suite)?.keys;
    let open = |c: &CaseId| suite(data, c, k, None, Metric::OpenTime);
    let (i, m) = both(open(&reopened_index()), open(&hashmap()))?;
    Ok(format!(
        "Reopening `mmap-index` from its sidecar takes {} against {} to build `hashmap` ({:.0}× faster; suite, warm page cache).",
        nanos(i),
        nanos(m),
        m / i
    ))
}

/// A full scan against one `memchr` pass over the file: how close to memory bandwidth it runs.
fn scan_vs_memchr(data: &Data) -> Result<String, Missing> {
    let k = largest(data, Source::Suite)?.keys;
    let (miss, floor) = both(
        suite(data, &"scan".into(), k, Some(Workload::MISS), Metric::LookupMean),
        suite(data, &MEMCHR_PASS.into(), k, None, Metric::LookupMean),
    )?;
    Ok(format!(
        "A full `scan` (a miss) takes {:.2}× one `memchr` pass over the file ({} vs {}, suite medians of time per pass): it runs at memory bandwidth.",
        miss / floor,
        nanos(miss),
        nanos(floor)
    ))
}

/// A closed-loop run at the base connections on the base dataset: `metric` of `strategy`.
fn at_base(data: &Data, strategy: &str, threads: u32, protocol: &str, metric: Metric) -> Result<f64, Missing> {
    data.at_base_connections(metric)
        .find(|(r, l)| {
            r.is_plain(strategy) && l.server_threads == threads && l.protocol == protocol && is_base(&r.dataset)
        })
        .map(|(r, _)| r.value)
        .ok_or_else(|| {
            let what = format!(
                "{strategy}, {threads} thread(s) · {protocol} · {BASE_CONNECTIONS} connections · {}",
                metric.name()
            );
            Missing::input(Source::Macro, what)
        })
}

/// `kvbench serve` (hashmap, 1 thread) against `peer` in the same run, over `protocol`.
fn serve_vs_peer(data: &Data, protocol: &str, title: &str, peer: &str) -> Result<String, Missing> {
    let at = |s: &str, m| at_base(data, s, 1, protocol, m);
    let (ours, theirs) = both(at("hashmap", Metric::Throughput), at(peer, Metric::Throughput))?;
    let p99 = |s: &str| at(s, Metric::LatencyP99).map_or_else(|_| "–".into(), nanos);
    Ok(format!(
        "Over {title} at {BASE_CONNECTIONS} connections (closed loop, {} keys) `kvbench serve` (hashmap, 1 thread) answered \
         {:.0}k requests/s, {:.2}× `{peer}` ({:.0}k) in the same run; p99 {} vs {}.",
        count(BASE_KEYS),
        ours / 1e3,
        ours / theirs,
        theirs / 1e3,
        p99("hashmap"),
        p99(peer)
    ))
}

/// The best closed-loop throughput of `hashmap` on two server threads against
/// one, and where the CPU went at each: the server's and the load generator's
/// CPU per request, and the load generator's share of its CPU.
fn two_threads_vs_one(data: &Data, protocol: &str, title: &str) -> Result<String, Missing> {
    let best = |threads: u32| {
        data.loads(Metric::Throughput)
            .filter(|(r, l)| r.is_plain("hashmap") && l.server_threads == threads && l.protocol == protocol)
            .filter(|(r, l)| l.rate.is_none() && is_base(&r.dataset))
            .max_by(|a, b| a.0.value.total_cmp(&b.0.value))
            .ok_or_else(|| {
                let what = format!("hashmap, {threads} thread(s) · {protocol} · closed loop · throughput");
                Missing::input(Source::Macro, what)
            })
    };
    let ((one, l1), (two, l2)) = both(best(1), best(2))?;
    let mut sentence = format!(
        "Over {title}, two server threads peaked at {:.2}× one thread's best ({:.0}k at {} connections vs {:.0}k at {})",
        two.value / one.value,
        two.value / 1e3,
        l2.connections,
        one.value / 1e3,
        l1.connections
    );
    // CPU per request in ns, from a CPU % of the same load.
    let per_request = |r: &Record, metric| data.same_load(r, metric).map(|pct| pct / 100.0 / r.value * 1e9);
    let client = |r: &Record| data.same_load(r, Metric::ClientCpu);
    let cpus = data.records(Source::Macro).next().map_or(0, |r| r.run.cores);
    match (per_request(one, Metric::ServerCpu), per_request(two, Metric::ServerCpu), client(one), client(two)) {
        (Some(s1), Some(s2), Some(c1), Some(c2)) => {
            let g1 = c1 / 100.0 / one.value * 1e9;
            sentence += &format!(
                ": per request the server used {} of CPU with one thread and {} with two, the load generator {}; \
                 the generator, one thread, ran at {c1:.0} % of a CPU beside one server thread and {c2:.0} % beside two",
                nanos(s1),
                nanos(s2),
                nanos(g1)
            );
            if two.value < one.value && l1.pinned && cpus == 2 && c2 < c1 - 5.0 {
                sentence += ", whose second thread shares the generator's CPU: on two CPUs the client needs one of \
                             them, and a second server thread takes its time from the client";
            }
            sentence.push('.');
        }
        _ => {
            sentence +=
                ": the CPU of the server or the load generator was not recorded, so the cause is not measured here."
        }
    }
    Ok(sentence)
}

/// The fastest baseline program whose name starts with `prefix`, by `metric` at `keys`.
fn fastest_program(data: &Data, prefix: &str, keys: u64, metric: Metric) -> Result<(String, f64), Missing> {
    data.strategies(Source::Baselines, keys, Some(Workload::UNIFORM), metric)
        .into_iter()
        .map(|p| p.strategy)
        .filter(|p| p.starts_with(prefix))
        .filter_map(|p| Some((data.baseline(&p, keys, metric)?, p)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(v, p)| (p, v))
        .ok_or_else(|| Missing::input(Source::Baselines, format!("{prefix}* · {} · {}", count(keys), metric.name())))
}

/// How far the best Rust program is ahead of the best Python one by `metric` (and where bash stands).
fn rust_vs_python(data: &Data, metric: Metric, what: &str) -> Result<String, Missing> {
    let d = largest(data, Source::Baselines)?;
    let best = |prefix| fastest_program(data, prefix, d.keys, metric);
    let ((rust, r), (py, p)) = both(best("kvbench "), best("py-"))?;
    let bash = best("bash-").map_or_else(|_| String::new(), |(b, v)| format!("; the best bash, `{b}`, {}", nanos(v)));
    Ok(format!(
        "At {} keys, {what}: the best Rust, `{rust}`, takes {} against {} for the best Python, `{py}` ({:.0}× faster){bash} (`kvbench bench baselines`, medians).",
        d.label(),
        nanos(r),
        nanos(p),
        p / r.max(f64::MIN_POSITIVE)
    ))
}

/// The largest dataset of criterion's cache sweep, and the strategies the LRU was put in front of.
fn lru_backings(data: &Data) -> Result<(u64, Vec<String>), Missing> {
    let k = largest(data, Source::Criterion)?.keys;
    let backings: Vec<String> =
        sweep(data, k, Workload::UNIFORM, Metric::HitRate).into_iter().map(|(b, _)| b).collect();
    if backings.is_empty() {
        return Err(Missing::input(Source::Criterion, format!("lru(…) · {} · uniform · hit_rate", count(k))));
    }
    Ok((k, backings))
}

/// A ratio's value among `(ratio in %, value)` points.
fn at_ratio(points: &[(f64, f64)], percent: f64) -> Option<f64> {
    points.iter().find(|p| (p.0 - percent).abs() < 0.5).map(|p| p.1)
}

/// What an LRU holding 10 % of the keys in front of `backing` answers, uniform against Zipf.
fn lru_hit_rates(data: &Data, keys: u64, backing: &str) -> Result<String, Missing> {
    let at_10 = |workload: Workload| {
        sweep(data, keys, workload, Metric::HitRate)
            .into_iter()
            .find(|(b, _)| b == backing)
            .and_then(|(_, points)| at_ratio(&points, 10.0))
            .ok_or_else(|| Missing::input(Source::Criterion, format!("lru(0.1,{backing}) · {workload} · hit_rate")))
    };
    let (u, z) = both(at_10(Workload::UNIFORM), at_10(Workload::ZIPF))?;
    Ok(format!(
        "At {} keys an LRU over `{backing}` holding 10 % of the keys answers {:.0} % of uniform lookups and {:.0} % under Zipf 0.99 (criterion, steady state).",
        count(keys),
        u * 100.0,
        z * 100.0
    ))
}

/// The smallest LRU in front of `backing` that beats `backing` alone under uniform access, if any.
fn lru_vs_alone(data: &Data, keys: u64, backing: &str) -> Result<String, Missing> {
    let alone = data
        .value(Source::Criterion, &backing.into(), keys, Some(Workload::UNIFORM), Metric::GetMean)
        .ok_or_else(|| Missing::input(Source::Criterion, format!("{backing} · uniform · get_mean")));
    let times = sweep(data, keys, Workload::UNIFORM, Metric::GetMean)
        .into_iter()
        .find(|(b, _)| b == backing)
        .map(|(_, points)| points)
        .ok_or_else(|| Missing::input(Source::Criterion, format!("lru(…,{backing}) · uniform · get_mean")));
    let (alone, times) = both(alone, times)?;
    Ok(match times.iter().find(|p| p.1 < alone) {
        Some((r, t)) => format!(
            "Under uniform access the LRU over `{backing}` first beats `{backing}` alone ({}) at {r:.0} % ({}; criterion means).",
            nanos(alone),
            nanos(*t)
        ),
        None => format!(
            "Under uniform access the LRU over `{backing}` is slower than `{backing}` alone ({}) at every size from 10 % to 100 % (criterion means).",
            nanos(alone)
        ),
    })
}
