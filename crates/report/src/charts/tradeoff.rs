//! Resident memory per key against p99 latency, with the Pareto frontier.
//!
//! Resident, not anonymous: a strategy that maps the file (`mmap-index`,
//! `scan`) holds little anonymous memory but needs the file's pages in the
//! page cache to answer at the speed measured, so on anonymous memory alone
//! it would look free. The anonymous part is marked beside each point.

use kvbench_results::units::nanos;
use kvbench_results::{CaseId, CaseStart, Metric, Workload};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or, min_or};
use crate::data::{Data, Source, tail};
use crate::style::{FONT, color};

/// `(case, resident bytes per key, p99 ns)` of every warm case at `keys`
/// (the slowest lookup where too few were timed for a p99). A strategy both
/// built and reopened is shown once, reopened: its lookups and memory are
/// the same either way, and a second point would only crowd the chart.
pub fn points(data: &Data, keys: u64) -> Vec<(CaseId, f64, f64)> {
    let cases = data.warm_cases(Source::Suite, keys, None, Metric::ResidentBytesPerKey);
    let reopened = |build: &CaseId| cases.contains(&CaseId::new(build.strategy.as_str(), Some(CaseStart::Reopen)));
    cases
        .iter()
        .filter(|c| !(c.started(CaseStart::Build) && reopened(c)))
        .filter_map(|c| {
            let per_key = data.value(Source::Suite, c, keys, None, Metric::ResidentBytesPerKey)?;
            Some((c.clone(), per_key, tail(data, c, keys, Workload::UNIFORM)?))
        })
        .collect()
}

/// Anonymous bytes per key of `case`, where recorded.
fn anonymous(data: &Data, case: &CaseId, keys: u64) -> Option<f64> {
    data.value(Source::Suite, case, keys, None, Metric::AnonBytesPerKey)
}

/// The points no other point beats on both axes, by increasing memory.
pub fn pareto(points: &[(CaseId, f64, f64)]) -> Vec<(CaseId, f64, f64)> {
    let mut front: Vec<(CaseId, f64, f64)> = points
        .iter()
        .filter(|(_, m, l)| !points.iter().any(|(_, m2, l2)| m2 <= m && l2 <= l && (m2 < m || l2 < l)))
        .cloned()
        .collect();
    front.sort_by(|a, b| a.1.total_cmp(&b.1));
    front
}

/// The chart needs the suite's memory and percentiles.
pub fn missing(data: &Data) -> Option<String> {
    let has = data.largest(Source::Suite).is_some_and(|d| !points(data, d.keys).is_empty());
    (!has).then(|| "needs resident memory and percentiles: run `kvbench suite` (schema 4)".into())
}

/// Draws the chart.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let Some(dataset) = data.largest(Source::Suite) else { return Ok(()) };
    let points = points(data, dataset.keys);
    let front = pareto(&points);
    let x_top = max_or(points.iter().map(|p| p.1), 1.3, 10.0).max(10.0);
    let (lo, hi) = (min_or(points.iter().map(|p| p.2), 2.0, 1.0), max_or(points.iter().map(|p| p.2), 3.0, 1e3));
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Memory vs tail latency, {} keys: lower left is better; the line is the Pareto frontier",
                dataset.label()
            ),
            (FONT, 24),
        )
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(90)
        .build_cartesian_2d(-x_top * 0.03..x_top, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("resident memory per key, anonymous + file-backed (bytes; x: anonymous alone)")
        .y_desc("p99 latency, uniform keys (the slowest where under 500 were timed; log scale)")
        .y_label_formatter(&|v| nanos(*v))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()?;
    chart
        .draw_series(LineSeries::new(front.iter().map(|p| (p.1, p.2)), BLACK.stroke_width(2)))?
        .label("Pareto frontier")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    for (i, (case, per_key, p99)) in points.iter().enumerate() {
        let name = case.to_string();
        let c = color(&name);
        if let Some(anon) = anonymous(data, case, dataset.keys) {
            chart.draw_series(LineSeries::new([(anon, *p99), (*per_key, *p99)], c.stroke_width(1)))?;
            chart.draw_series([Cross::new((anon, *p99), 6, c.stroke_width(2))])?;
        }
        chart.draw_series([Circle::new((*per_key, *p99), 7, c.filled())])?;
        // Labels go above their point, or below it, one line further per
        // earlier point close by, so neighbours (hashmap and both
        // mmap-index cases, say) stay legible.
        let crowded = points[..i]
            .iter()
            .filter(|(_, m, l)| (m - per_key).abs() < x_top * 0.08 && (l / p99).ln().abs() < 0.7)
            .count();
        let y = if crowded == 0 { *p99 * 1.3 } else { *p99 / 1.45f64.powi(crowded as i32) };
        chart.draw_series([Text::new(name, (*per_key + x_top * 0.012, y), (FONT, 13))])?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .draw()?;
    Ok(())
}
