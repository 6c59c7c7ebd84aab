//! Latency percentile curves (HdrHistogram style) at the largest dataset.

use kvbench_results::units::nanos;
use kvbench_results::{Metric, Workload};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or, min_or};
use crate::data::{Data, Source};
use crate::style::{FONT, color};

/// Percentiles drawn, at x = 1 / (1 - q) so each "nine" gets the same width.
const POINTS: [(Metric, f64, &str); 5] = [
    (Metric::LatencyP50, 2.0, "p50"),
    (Metric::LatencyP90, 10.0, "p90"),
    (Metric::LatencyP99, 100.0, "p99"),
    (Metric::LatencyP999, 1000.0, "p99.9"),
    (Metric::LatencyMax, 10000.0, "max"),
];

/// The chart needs the suite's percentiles.
pub fn missing(data: &Data) -> Option<String> {
    data.largest(Source::Suite).is_none().then(|| "needs per-lookup percentiles: run `kvbench suite`".into())
}

/// Draws the chart.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let Some(dataset) = data.largest(Source::Suite) else { return Ok(()) };
    let cases = data.warm_cases(Source::Suite, dataset.keys, Some(Workload::UNIFORM), Metric::LatencyP50);
    let curves: Vec<(String, Vec<(f64, f64)>)> = cases
        .iter()
        .map(|c| {
            let points = POINTS
                .iter()
                .filter_map(|(m, x, _)| {
                    Some((*x, data.value(Source::Suite, c, dataset.keys, Some(Workload::UNIFORM), *m)?))
                })
                .collect();
            (c.to_string(), points)
        })
        .collect();
    let all = || curves.iter().flat_map(|(_, p)| p.iter().map(|(_, v)| *v));
    let (lo, hi) = (min_or(all(), 1.5, 1.0), max_or(all(), 1.5, 1e3));
    let mut chart = ChartBuilder::on(root)
        .caption(format!("Latency percentiles, {} keys, uniform keys", dataset.label()), (FONT, 26))
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(90)
        .build_cartesian_2d((1.5f64..15000.0).log_scale(), (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("time per lookup (log scale)")
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|v| nanos(*v))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()?;
    for (name, points) in &curves {
        let c = color(name);
        chart
            .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(3)))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(3)));
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, c.filled())))?;
    }
    // The percentile names sit on the plot's floor, at their own positions
    // (a log axis would put its ticks at powers of ten instead).
    chart.draw_series(POINTS.iter().map(|(_, x, name)| Text::new(*name, (*x, lo * 1.15), (FONT, 16))))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .draw()?;
    Ok(())
}
