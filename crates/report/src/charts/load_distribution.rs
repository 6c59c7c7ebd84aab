//! The latency distribution under load, per server: a histogram and an
//! HdrHistogram-style percentile curve, from the distribution each load run keeps.

use kvbench_results::units::nanos;
use kvbench_results::{LatencyHistogram, Metric};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::concurrency::{PROTOCOLS, lines_and_legend};
use super::{DrawResult, max_or, min_or};
use crate::data::{Data, is_base, server_name};
use crate::style::FONT;

/// Percentile-curve x positions: 1 / (1 - q), so each "nine" gets the same width; `max` at the right edge.
const TICKS: [(f64, &str); 7] =
    [(2.0, "50%"), (10.0, "90%"), (100.0, "99%"), (1e3, "99.9%"), (1e4, "99.99%"), (1e5, "99.999%"), (1e6, "max")];

/// The closed-loop runs at the base connections on the base dataset that kept
/// a histogram, per server (the caches left out: they look like `mmap-index`
/// and would crowd the chart).
fn distributions<'a>(data: &'a Data, protocol: &str) -> Vec<(String, &'a LatencyHistogram)> {
    data.at_base_connections(Metric::LatencyP50)
        .filter(|(r, l)| l.protocol == protocol && is_base(&r.dataset) && !r.case.strategy.starts_with("lru"))
        .filter_map(|(r, l)| Some((server_name(&r.case, l.server_threads), r.histogram.as_ref()?)))
        .collect()
}

/// The chart needs load runs that kept their latency distribution.
pub fn missing(data: &Data) -> Option<String> {
    let has = PROTOCOLS.iter().any(|(p, _)| !distributions(data, p).is_empty());
    (!has).then(|| "needs load runs with latency histograms: run `kvbench bench macro` (schema 3 or later)".into())
}

/// Percent of requests per bucket, at each bucket's upper bound.
fn density(h: &LatencyHistogram) -> Vec<(f64, f64)> {
    let total = h.total().max(1) as f64;
    h.buckets.iter().map(|b| (b.le, b.count as f64 * 100.0 / total)).collect()
}

/// The percentile curve as steps: up to quantile q, latency is at most the bound reached there.
fn steps(h: &LatencyHistogram) -> Vec<(f64, f64)> {
    let x = |q: f64| if q >= 1.0 { TICKS[6].0 } else { (1.0 / (1.0 - q)).min(TICKS[5].0) };
    let mut out = Vec::new();
    let mut from = 0.0;
    for (q, le) in h.quantiles() {
        out.push((x(from), le));
        out.push((x(q), le));
        from = q;
    }
    out
}

/// Draws the chart: one row per protocol, histogram left, percentile curve right.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled("Latency distribution under load: 1M keys, 64 connections, closed loop", (FONT, 24))?;
    let panels = root.split_evenly((2, 2));
    for (row, (protocol, name)) in PROTOCOLS.iter().enumerate() {
        let found = distributions(data, protocol);
        let lat = || found.iter().flat_map(|(_, h)| h.buckets.iter().map(|b| b.le));
        let (lo, hi) = (min_or(lat(), 1.3, 1e4), max_or(lat(), 1.3, 1e7));
        if let Some(panel) = panels.get(row * 2) {
            let lines: Vec<_> = found.iter().map(|(n, h)| (n.clone(), density(h))).collect();
            let top = max_or(lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)), 1.15, 1.0);
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("{name}: histogram"), (FONT, 17))
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d((lo..hi).log_scale(), 0.0..top)?;
            chart
                .configure_mesh()
                .x_desc("latency (log scale)")
                .y_desc("% of requests (4 buckets per doubling)")
                .x_label_formatter(&|v| nanos(*v))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 13))
                .draw()?;
            lines_and_legend(&mut chart, &lines, two_threads, false, SeriesLabelPosition::UpperRight)?;
        }
        if let Some(panel) = panels.get(row * 2 + 1) {
            let lines: Vec<_> = found.iter().map(|(n, h)| (n.clone(), steps(h))).collect();
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("{name}: percentiles"), (FONT, 17))
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d((1.0..TICKS[6].0 * 1.5).log_scale(), (lo..hi).log_scale())?;
            chart
                .configure_mesh()
                .x_desc("percentile")
                .x_label_formatter(&|_| String::new())
                .y_label_formatter(&|v| nanos(*v))
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 13))
                .draw()?;
            // Named percentiles on the floor: a log axis would tick at powers of ten.
            chart.draw_series(TICKS.iter().map(|(x, t)| Text::new(*t, (*x * 0.8, lo * 1.1), (FONT, 12))))?;
            lines_and_legend(&mut chart, &lines, two_threads, false, SeriesLabelPosition::LowerRight)?;
        }
    }
    Ok(())
}

/// Multi-thread servers are drawn thin, as in the concurrency chart.
fn two_threads(name: &str) -> bool {
    !name.ends_with("1 thread")
}
