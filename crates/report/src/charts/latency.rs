//! Lookup latency per strategy: median dot, bar to p99 (or to the slowest
//! lookup where too few were timed for a p99), one panel per dataset.

use kvbench_results::{CaseId, Metric, Workload};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or, min_or, time_rows};
use crate::data::{Data, Source, tail};
use crate::style::{FONT, color};

/// The chart needs the suite's percentiles.
pub fn missing(data: &Data) -> Option<String> {
    data.datasets(Source::Suite).is_empty().then(|| "needs per-lookup percentiles: run `kvbench suite`".into())
}

/// Draws the chart.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root =
        root.titled("Lookup latency, uniform keys, each timed alone: median (dot) to p99 (end of bar)", (FONT, 26))?;
    let datasets = data.datasets(Source::Suite);
    let panels = root.split_evenly((1, datasets.len().max(1)));
    for (panel, dataset) in panels.iter().zip(&datasets) {
        let uniform = Workload::UNIFORM;
        let value = |case: &CaseId, metric| data.value(Source::Suite, case, dataset.keys, Some(uniform), metric);
        let cases = data.warm_cases(Source::Suite, dataset.keys, Some(uniform), Metric::LatencyP50);
        let rows: Vec<(String, f64, f64)> = cases
            .iter()
            .filter_map(|c| Some((c.to_string(), value(c, Metric::LatencyP50)?, tail(data, c, dataset.keys, uniform)?)))
            .collect();
        let lo = min_or(rows.iter().map(|r| r.1), 2.0, 1.0);
        let hi = max_or(rows.iter().map(|r| r.2), 2.0, 1e3);
        let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let caption = format!("{} keys", dataset.label());
        let mut chart = time_rows(panel, &caption, &names, (lo, hi), "time per lookup (log scale)")?;
        for (i, (name, p50, p99)) in rows.iter().enumerate() {
            let y = || SegmentValue::CenterOf(i as i32);
            let c = color(name);
            chart.draw_series(LineSeries::new([(*p50, y()), (*p99, y())], c.stroke_width(4)))?;
            chart.draw_series([Circle::new((*p50, y()), 7, c.filled())])?;
        }
    }
    Ok(())
}
