//! What each server process costs under load: CPU and peak RSS, per protocol,
//! at the base connections in closed loop.

use kvbench_results::Metric;
use kvbench_results::units::bytes;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::concurrency::PROTOCOLS;
use super::{DrawResult, max_or};
use crate::data::{Data, load_label};
use crate::style::{FONT, color};

/// A bar: its row label (server and threads), protocol and value.
pub(crate) type Bar = (String, String, f64);

/// `(row label, protocol, value)` of `metric` for every closed-loop run at the base connections.
pub(crate) fn bars(data: &Data, metric: Metric) -> Vec<Bar> {
    data.at_base_connections(metric).map(|(r, l)| (load_label(r, l), l.protocol.clone(), r.value)).collect()
}

/// A panel: its bars, caption, the unit bars are drawn in, and how values read.
pub(crate) type Panel = (fn(&Data) -> Vec<Bar>, &'static str, f64, fn(f64) -> String);

/// The chart needs sampled load runs.
pub fn missing(data: &Data) -> Option<String> {
    bars(data, Metric::ServerCpu)
        .is_empty()
        .then(|| "needs load runs with the server sampled: run `kvbench bench macro`".into())
}

/// Draws the chart: CPU left, RSS right; a bar per protocol (HTTP solid, RESP light) per server.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mib = 1024.0 * 1024.0;
    let panels: [Panel; 2] = [
        (|d| bars(d, Metric::ServerCpu), "CPU, % of one core (HTTP solid, RESP light)", 1.0, |v| format!("{v:.0} %")),
        (|d| bars(d, Metric::ServerRss), "peak RSS, MiB", mib, bytes),
    ];
    draw_panels(data, root, "Server CPU and peak RSS under load (64 connections, closed loop)", &panels)
}

/// Draws `panels` side by side under `title`, one row per server (its
/// protocols as two bars), the rows those of the first panel.
pub(crate) fn draw_panels<DB: DrawingBackend>(
    data: &Data,
    root: &DrawingArea<DB, Shift>,
    title: &str,
    kinds: &[Panel],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 24))?;
    let panels = root.split_evenly((1, kinds.len().max(1)));
    let mut rows: Vec<String> = Vec::new();
    for (label, _, _) in kinds.first().map(|k| (k.0)(data)).unwrap_or_default() {
        if !rows.contains(&label) {
            rows.push(label);
        }
    }
    for (k, (panel, &(bars, caption, scale, label))) in panels.iter().zip(kinds).enumerate() {
        // Server names once, left of the first panel.
        let first = k == 0;
        let bars = bars(data);
        let top = max_or(bars.iter().map(|b| b.2 / scale), 1.35, 1.0);
        // A segmented range of 0..n has n + 1 segments; the last would stay empty.
        let n = rows.len().max(1) as i32 - 1;
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, (FONT, 17))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(if first { 230 } else { 10 })
            .build_cartesian_2d(0.0..top, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(6)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if first => rows.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_labels(rows.len())
            .label_style((FONT, 12))
            .draw()?;
        for (row_label, protocol, value) in &bars {
            let Some(i) = rows.iter().position(|r| r == row_label) else { continue };
            let (i, second) = (i as i32, PROTOCOLS.iter().position(|(p, _)| p == protocol).unwrap_or(0) == 1);
            let c = color(row_label.split(',').next().unwrap_or(row_label));
            let style = if second { c.mix(0.45).filled() } else { c.filled() };
            let (y0, y1) = if second {
                (SegmentValue::CenterOf(i), SegmentValue::Exact(i + 1))
            } else {
                (SegmentValue::Exact(i), SegmentValue::CenterOf(i))
            };
            let mut bar = Rectangle::new([(0.0, y0), (value / scale, y1)], style);
            // A gap between servers, none between a server's two protocols.
            bar.set_margin(if second { 5 } else { 0 }, if second { 0 } else { 5 }, 0, 0);
            chart.draw_series([bar])?;
            let y = if second { SegmentValue::Exact(i + 1) } else { SegmentValue::CenterOf(i) };
            chart.draw_series([Text::new(
                format!("{} {}", label(*value), protocol.to_uppercase()),
                (value / scale + top * 0.01, y),
                (FONT, 11),
            )])?;
        }
    }
    Ok(())
}
