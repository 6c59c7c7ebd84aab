//! bash vs Python vs Rust: the study's programs and `kvbench get`, timed as
//! whole processes and per lookup in steady state, per dataset.

use kvbench_results::{Metric, Workload};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or, min_or, time_rows};
use crate::data::{Data, Source};
use crate::style::{FONT, color};

/// The chart needs `kvbench bench baselines`.
pub fn missing(data: &Data) -> Option<String> {
    data.datasets(Source::Baselines).is_empty().then(|| "needs baseline runs: run `kvbench bench baselines`".into())
}

/// Draws the chart: per process left, per lookup right; a dot per dataset (hollow for the smaller) on a min–max line.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let datasets = data.datasets(Source::Baselines);
    let labels: Vec<String> = datasets.iter().map(|d| d.label()).collect();
    let title = match labels.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("bash vs Python vs Rust: ○ {} keys, ● {last} keys", rest.join(", "))
        }
        _ => format!("bash vs Python vs Rust: {} keys", labels.join(", ")),
    };
    let root = root.titled(&title, (FONT, 24))?;
    let panels = root.split_evenly((1, 2));
    let kinds = [
        (Metric::ProcessTime, "a whole process answering one key", "wall time (log scale)"),
        (Metric::LookupMean, "one more key in a running process", "time per lookup (log scale)"),
    ];
    for (panel, (metric, caption, x_desc)) in panels.iter().zip(kinds) {
        let mut programs: Vec<String> = Vec::new();
        for d in &datasets {
            for p in data.strategies(Source::Baselines, d.keys, Some(Workload::UNIFORM), metric) {
                if !programs.contains(&p.strategy) {
                    programs.push(p.strategy);
                }
            }
        }
        let record = |p: &str, keys| {
            data.records(Source::Baselines).find(|r| {
                r.is_plain(p) && r.dataset.keys == keys && r.metric == metric && r.workload == Some(Workload::UNIFORM)
            })
        };
        let all = || {
            programs.iter().flat_map(|p| datasets.iter().filter_map(move |d| record(p, d.keys))).flat_map(|r| {
                let (lo, hi) = r.spread.map_or((r.value, r.value), |s| (s.lower, s.upper));
                [r.value, lo, hi]
            })
        };
        let (lo, hi) = (min_or(all(), 2.0, 1.0), max_or(all(), 2.0, 1e9));
        let mut chart = time_rows(panel, caption, &programs, (lo, hi), x_desc)?;
        for (i, program) in programs.iter().enumerate() {
            let c = color(program);
            let y = || SegmentValue::CenterOf(i as i32);
            for (j, d) in datasets.iter().enumerate() {
                let Some(r) = record(program, d.keys) else { continue };
                let (from, to) = r.spread.map_or((r.value, r.value), |s| (s.lower, s.upper));
                chart.draw_series(LineSeries::new([(from.max(lo), y()), (to, y())], c.stroke_width(2)))?;
                let style = if j + 1 == datasets.len() { c.filled() } else { c.stroke_width(2) };
                chart.draw_series([Circle::new((r.value.max(lo), y()), 6, style)])?;
            }
        }
    }
    Ok(())
}
