//! How a server scales with the data: throughput and p99 at the base
//! connections against the number of keys and against the value size.

use kvbench_results::units::count;
use kvbench_results::{DEFAULT_VALUE_LEN, Metric};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::concurrency::{PROTOCOLS, XAxis, metric_panel};
use super::{DrawResult, max_or, min_or};
use crate::data::{Data, mean_value_len, push_point, server_name};
use crate::style::FONT;

/// What the x axis varies.
#[derive(Clone, Copy, PartialEq)]
enum Axis {
    /// Keys, over datasets of default values.
    Keys,
    /// Mean value size, over datasets of one key count.
    ValueSize,
}

/// Lines of `metric` over `axis`: one per server and protocol, with at least two points.
fn lines(data: &Data, metric: Metric, axis: Axis) -> Vec<(String, Vec<(f64, f64)>)> {
    // The value-size study holds its key count fixed: the one its non-default datasets share.
    let sized_keys = data
        .at_base_connections(metric)
        .find(|(r, _)| r.dataset.value_len != DEFAULT_VALUE_LEN)
        .map(|(r, _)| r.dataset.keys);
    let mut lines = Vec::new();
    for (r, l) in data.at_base_connections(metric) {
        let x = match axis {
            Axis::Keys if r.dataset.value_len == DEFAULT_VALUE_LEN => r.dataset.keys as f64,
            Axis::ValueSize if Some(r.dataset.keys) == sized_keys => {
                let Some(len) = mean_value_len(&r.dataset.value_len) else { continue };
                len
            }
            _ => continue,
        };
        let protocol = PROTOCOLS.iter().find(|(p, _)| *p == l.protocol).map_or(l.protocol.as_str(), |(_, t)| *t);
        push_point(&mut lines, format!("{}, {protocol}", server_name(&r.case, l.server_threads)), (x, r.value));
    }
    lines.retain(|(_, points)| points.len() > 1);
    for (_, points) in &mut lines {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    lines
}

/// The chart needs closed-loop runs at the base connections on several datasets.
pub fn missing(data: &Data) -> Option<String> {
    let has = [Axis::Keys, Axis::ValueSize].iter().any(|a| !lines(data, Metric::Throughput, *a).is_empty());
    (!has).then(|| "needs load runs on several datasets: run `kvbench bench macro` (not --quick)".into())
}

/// Draws the chart: keys left, value size right; throughput above, p99 below.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled("Scaling with the data: 64 connections, closed loop", (FONT, 26))?;
    let panels = root.split_evenly((2, 2));
    let axes = [(Axis::Keys, "keys (log scale)"), (Axis::ValueSize, "mean value size, bytes (log scale)")];
    for (col, (axis, x_desc)) in axes.iter().enumerate() {
        for (row, metric) in [Metric::Throughput, Metric::LatencyP99].into_iter().enumerate() {
            let Some(panel) = panels.get(row * 2 + col) else { continue };
            let lines = lines(data, metric, *axis);
            let xs = || lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.0));
            let (x_lo, x_hi) = (min_or(xs(), 2.0, 1.0), max_or(xs(), 2.0, 10.0));
            let caption = if metric == Metric::Throughput { "requests per second" } else { "p99 latency" };
            let format = |v: &f64| match *axis {
                Axis::Keys => count(*v as u64),
                Axis::ValueSize => format!("{v:.0}"),
            };
            let x = XAxis { range: (x_lo, x_hi), desc: x_desc, format: &format };
            metric_panel(panel, caption, &x, metric, &lines, |n| n.ends_with("RESP"))?;
        }
    }
    Ok(())
}
