//! What each server spends per request under load: requests per second of its
//! own CPU, and its system calls per request, per protocol, at the base
//! connections in closed loop.

use kvbench_results::Metric;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::DrawResult;
use super::server_resources::{Bar, Panel, bars, draw_panels};
use crate::data::{Data, load_label};

/// Requests per server CPU-second of every closed-loop run at the base connections.
fn per_cpu_second(data: &Data) -> Vec<Bar> {
    data.at_base_connections(Metric::Throughput)
        .filter_map(|(r, l)| Some((load_label(r, l), l.protocol.clone(), data.requests_per_cpu_second(r)?)))
        .collect()
}

/// The chart needs load runs with the server's CPU sampled.
pub fn missing(data: &Data) -> Option<String> {
    per_cpu_second(data).is_empty().then(|| "needs load runs with the server sampled: run `kvbench bench macro`".into())
}

/// Draws the chart: requests per CPU-second left, system calls per request right.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let panels: [Panel; 2] = [
        (per_cpu_second, "requests per second of server CPU, thousands (HTTP solid, RESP light)", 1e3, |v| {
            format!("{:.0}k", v / 1e3)
        }),
        (|d| bars(d, Metric::SyscallsPerRequest), "system calls per request (perf stat)", 1.0, |v| format!("{v:.2}")),
    ];
    draw_panels(data, root, "What a request costs the server (64 connections, closed loop)", &panels)
}
