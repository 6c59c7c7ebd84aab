//! Open loop: latency (coordinated-omission corrected) against the offered rate.

use kvbench_results::Metric;
use kvbench_results::units::nanos;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::concurrency::{PROTOCOLS, lines_and_legend};
use super::{DrawResult, max_or, min_or};
use crate::data::Data;
use crate::style::FONT;

/// The chart needs open-loop load runs.
pub fn missing(data: &Data) -> Option<String> {
    let has = PROTOCOLS.iter().any(|(p, _)| !data.load_lines(p, true, Metric::LatencyP99).is_empty());
    (!has).then(|| "needs open-loop load runs: run `kvbench bench macro`".into())
}

/// Draws the chart: per protocol, p50 and p99 against requests per second offered.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled("Latency vs offered load (open loop, 64 connections, corrected)", (FONT, 26))?;
    let panels = root.split_evenly((1, 2));
    for ((protocol, name), panel) in PROTOCOLS.iter().zip(&panels) {
        let mut lines = Vec::new();
        for (metric, label) in [(Metric::LatencyP50, "p50"), (Metric::LatencyP99, "p99")] {
            for (server, points) in data.load_lines(protocol, true, metric) {
                lines.push((format!("{server} {label}"), points));
            }
        }
        let values = || lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.1));
        let x_max = max_or(lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.0)), 1.1, 1e5);
        let (lo, hi) = (min_or(values(), 1.5, 1e4), max_or(values(), 1.5, 1e7));
        let mut chart = ChartBuilder::on(panel)
            .caption(*name, (FONT, 18))
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..x_max, (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("offered requests per second")
            .x_label_formatter(&|v| format!("{:.0}k", v / 1e3))
            .y_label_formatter(&|v| nanos(*v))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()?;
        lines_and_legend(&mut chart, &lines, |name| name.ends_with("p50"), true, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(())
}
