//! The regression gate's decisions on constructed result sets.
#![allow(clippy::unwrap_used)]

use kvbench_results::compare::{Comparison, Thresholds, Verdict, compare, merge_runs};
use kvbench_results::{DEFAULT_VALUE_LEN, DatasetInfo, Metric, Record, RunInfo, SpreadKind};

fn run() -> RunInfo {
    RunInfo {
        cpu: "test".into(),
        cores: 2,
        os: "linux".into(),
        toolchain: "rustc".into(),
        commit: None,
        timestamp: "2026-11-24T00:00:00Z".into(),
        quick: false,
    }
}

/// A record of `metric` for `strategy`, with a ±`spread` (fraction) min–max range when given.
fn rec(strategy: &str, metric: Metric, value: f64, spread: Option<f64>) -> Record {
    let dataset = DatasetInfo { keys: 10_000, value_len: DEFAULT_VALUE_LEN.into() };
    let r = Record::new(strategy, &dataset, "uniform", metric, value, &run());
    match spread {
        Some(s) => r.with_spread(value * (1.0 - s), value * (1.0 + s), SpreadKind::MinMax),
        None => r,
    }
}

fn verdict(before: Record, after: Record) -> Verdict {
    let c = compare(&[before], &[after], &Thresholds::default());
    assert_eq!(c.changes.len(), 1);
    c.changes[0].verdict
}

#[test]
fn unchanged_within_the_noise_passes() {
    assert_eq!(
        verdict(
            rec("hashmap", Metric::LookupMean, 400.0, Some(0.05)),
            rec("hashmap", Metric::LookupMean, 420.0, Some(0.05))
        ),
        Verdict::Unchanged
    );
}

#[test]
fn a_25_percent_slowdown_with_tight_intervals_fails() {
    let c = compare(
        &[rec("hashmap", Metric::LookupMean, 400.0, Some(0.03))],
        &[rec("hashmap", Metric::LookupMean, 500.0, Some(0.03))],
        &Thresholds::default(),
    );
    assert_eq!((c.changes[0].verdict, c.regressions()), (Verdict::Regressed, 1));
    assert!((c.changes[0].change.unwrap() - 0.25).abs() < 1e-9);
    assert!(c.summary().starts_with("1 regression"), "{}", c.summary());
}

#[test]
fn a_25_percent_slowdown_inside_wide_overlapping_intervals_is_noise() {
    let v = verdict(
        rec("hashmap", Metric::LookupMean, 400.0, Some(0.3)),
        rec("hashmap", Metric::LookupMean, 500.0, Some(0.3)),
    );
    assert_eq!(v, Verdict::Noise);
    // A few nanoseconds more of a tiny lookup is under the floor, however large in percent.
    assert_eq!(
        verdict(
            rec("warming", Metric::LookupMean, 29.0, Some(0.02)),
            rec("warming", Metric::LookupMean, 50.0, Some(0.02))
        ),
        Verdict::Unchanged
    );
    // Without any spread a wall-clock change cannot be told from noise: reported, never failed.
    assert_eq!(
        verdict(rec("hashmap", Metric::LatencyP99, 400.0, None), rec("hashmap", Metric::LatencyP99, 800.0, None)),
        Verdict::Noise
    );
}

#[test]
fn memory_up_10_percent_fails_without_any_spread() {
    let v = verdict(rec("hashmap", Metric::AnonRssBytes, 80e6, None), rec("hashmap", Metric::AnonRssBytes, 88e6, None));
    assert_eq!(v, Verdict::Regressed);
    // A page or two more of a small figure is not a regression, however large in percent.
    assert_eq!(
        verdict(rec("scan", Metric::AnonRssBytes, 40e3, None), rec("scan", Metric::AnonRssBytes, 48e3, None)),
        Verdict::Unchanged
    );
    // Down 10 %: an improvement.
    assert_eq!(
        verdict(rec("hashmap", Metric::HeapBytes, 80e6, None), rec("hashmap", Metric::HeapBytes, 72e6, None)),
        Verdict::Improved
    );
    // Instructions: +3 % is within the tight threshold, +8 % is not.
    assert_eq!(
        verdict(rec("scan", Metric::Instructions, 1000.0, None), rec("scan", Metric::Instructions, 1030.0, None)),
        Verdict::Unchanged
    );
    assert_eq!(
        verdict(rec("scan", Metric::Instructions, 1000.0, None), rec("scan", Metric::Instructions, 1080.0, None)),
        Verdict::Regressed
    );
}

#[test]
fn throughput_down_25_percent_fails_and_up_is_an_improvement() {
    let (b, down, up) = (100_000.0, 75_000.0, 130_000.0);
    assert_eq!(
        verdict(
            rec("hashmap", Metric::Throughput, b, Some(0.02)),
            rec("hashmap", Metric::Throughput, down, Some(0.02))
        ),
        Verdict::Regressed
    );
    assert_eq!(
        verdict(rec("hashmap", Metric::Throughput, b, Some(0.02)), rec("hashmap", Metric::Throughput, up, Some(0.02))),
        Verdict::Improved
    );
    // Hit rate is higher-is-better too, and deterministic.
    assert_eq!(
        verdict(rec("lru", Metric::HitRate, 0.8, None), rec("lru", Metric::HitRate, 0.7, None)),
        Verdict::Regressed
    );
}

#[test]
fn a_record_in_one_set_only_is_reported_not_a_crash() {
    let before = [rec("hashmap", Metric::LookupMean, 400.0, Some(0.05)), rec("gone", Metric::LookupMean, 1.0, None)];
    let after = [rec("hashmap", Metric::LookupMean, 400.0, Some(0.05)), rec("new", Metric::LookupMean, 1.0, None)];
    let c: Comparison = compare(&before, &after, &Thresholds::default());
    let find = |s: &str| c.changes.iter().find(|x| x.strategy == s).unwrap();
    assert_eq!(
        (find("gone").verdict, find("new").verdict, find("hashmap").verdict),
        (Verdict::OnlyBefore, Verdict::OnlyAfter, Verdict::Unchanged)
    );
    assert_eq!(c.regressions(), 0);
    let md = c.markdown(false);
    assert!(md.starts_with("**no regression: 1 unchanged, 1 only before, 1 only after**"), "{md}");
    assert!(md.contains("| gone · 10k · uniform | lookup_mean | 1 ns | – | – | only before |"), "{md}");
    assert!(!md.contains("| hashmap"), "unchanged rows are left out unless asked for: {md}");
    assert!(c.markdown(true).contains("| hashmap · 10k · uniform |"));
}

#[test]
fn zero_baselines_do_not_divide_by_zero() {
    assert_eq!(verdict(rec("x", Metric::Errors, 0.0, None), rec("x", Metric::Errors, 0.0, None)), Verdict::Unchanged);
    let c =
        compare(&[rec("x", Metric::Errors, 0.0, None)], &[rec("x", Metric::Errors, 3.0, None)], &Thresholds::default());
    assert_eq!((c.changes[0].verdict, c.changes[0].change), (Verdict::Regressed, None));
}

#[test]
fn merged_runs_take_the_median_and_cover_every_runs_spread() {
    let runs: Vec<Vec<Record>> = [(400.0, 0.02), (460.0, 0.02), (420.0, 0.05)]
        .iter()
        .map(|&(v, s)| {
            vec![rec("hashmap", Metric::LookupMean, v, Some(s)), rec("hashmap", Metric::HeapBytes, 1e6, None)]
        })
        .collect();
    let merged = merge_runs(&runs);
    assert_eq!(merged.len(), 2);
    let heap = merged.iter().find(|r| r.metric == Metric::HeapBytes).unwrap();
    assert_eq!((heap.value, heap.spread), (1e6, None), "no spread in, none out");
    let mean = merged.iter().find(|r| r.metric == Metric::LookupMean).unwrap();
    let spread = mean.spread.unwrap();
    assert_eq!(mean.value, 420.0);
    assert!((spread.lower - 392.0).abs() < 1e-9 && (spread.upper - 469.2).abs() < 1e-9, "{spread:?}");
    // A after run that one before run alone would call a regression reaches into the envelope.
    let slower = rec("hashmap", Metric::LookupMean, 490.0, Some(0.05));
    assert_eq!(verdict(runs[0][0].clone(), slower.clone()), Verdict::Regressed);
    assert_eq!(verdict(mean.clone(), slower), Verdict::Noise, "the three runs reach 469 ns");
    assert_eq!(verdict(mean.clone(), rec("hashmap", Metric::LookupMean, 560.0, Some(0.01))), Verdict::Regressed);
}

#[test]
fn a_whole_run_moving_is_drift_not_a_regression_but_one_strategy_moving_is() {
    let names: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let set = |slow: f64, one: Option<(&str, f64)>| -> Vec<Record> {
        names
            .iter()
            .map(|n| {
                let extra = one.filter(|(name, _)| name == n).map_or(1.0, |(_, f)| f);
                rec(n, Metric::LookupMean, 1000.0 * slow * extra, Some(0.02))
            })
            .collect()
    };
    let before = set(1.0, None);
    // The machine is 30 % slower for the whole run: nothing regressed.
    let c = compare(&before, &set(1.3, None), &Thresholds::default());
    assert_eq!(c.regressions(), 0, "{:?}", c.changes);
    assert_eq!(c.drifts, vec![(Metric::LookupMean, 1.3)]);
    assert!(c.summary().contains("lookup_mean ×1.30"), "{}", c.summary());
    // One strategy 25 % slower, the rest unchanged: that one regressed, on a slow machine too.
    for slow in [1.0, 1.3] {
        let c = compare(&before, &set(slow, Some(("s3", 1.25))), &Thresholds::default());
        let regressed: Vec<&str> =
            c.changes.iter().filter(|x| x.verdict == Verdict::Regressed).map(|x| x.strategy.as_str()).collect();
        assert_eq!(regressed, ["s3"], "slow {slow}");
    }
}
