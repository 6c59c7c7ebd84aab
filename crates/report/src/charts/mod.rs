//! One module per chart. Each has `missing` (what data it lacks, and which
//! run provides it) and `draw` (generic over the plotters backend, so the
//! same code makes the SVG and the PNG). [`all`] lists them in report order.

pub mod baselines;
pub mod batch;
pub mod batch_sizes;
pub mod cache_sweep;
pub mod concurrency;
pub mod growth;
pub mod latency;
pub mod load_distribution;
pub mod memory;
pub mod memory_budget;
pub mod offered_load;
pub mod open_time;
pub mod percentiles;
pub mod scaling;
pub mod server_efficiency;
pub mod server_resources;
pub mod tradeoff;

use std::path::Path;

use kvbench_results::units::nanos;
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::RangedCoordi32;
use plotters::prelude::*;

use crate::data::Data;
use crate::style::{FONT, SIZE};

/// What a chart's `draw` returns; plotters' errors are boxed.
pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws a chart to a file.
pub type Render = fn(&Data, &Path) -> Result<(), String>;

/// A chart of the report.
pub struct ChartSpec {
    /// File stem of its SVG and PNG.
    pub stem: &'static str,
    /// Its heading in the report.
    pub title: &'static str,
    /// What it shows, one sentence for the report.
    pub about: &'static str,
    /// `Some(reason)` when the results lack what it needs.
    pub missing: fn(&Data) -> Option<String>,
    /// Draws the SVG.
    pub svg: Render,
    /// Draws the PNG.
    pub png: Render,
}

/// Renders `draw` into an SVG file.
pub fn svg(path: &Path, draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult) -> Result<(), String> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw(&root).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Renders `draw` into a PNG file.
pub fn png(path: &Path, draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult) -> Result<(), String> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    draw(&root).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

macro_rules! chart {
    ($module:ident, $title:literal, $about:literal) => {
        ChartSpec {
            stem: stringify!($module),
            title: $title,
            about: $about,
            missing: $module::missing,
            svg: |data, path| svg(path, |root| $module::draw(data, root)),
            png: |data, path| png(path, |root| $module::draw(data, root)),
        }
    };
}

/// Every chart, in the order the report shows them.
pub fn all() -> Vec<ChartSpec> {
    vec![
        chart!(
            latency,
            "Lookup latency",
            "Latency of single lookups of uniformly drawn keys, each timed alone (clock cost subtracted): median and p99 (or the slowest, where too few lookups were timed for a p99), per strategy and dataset (log scale)."
        ),
        chart!(
            batch,
            "Single vs batched lookups",
            "Time per key of uniform lookups asked one at a time and in batches (`Lookup::get_many`: hashmap, mmap-index and phf-index overlap a batch's memory reads with prefetching; lmdb and redb take one read transaction per batch and sqlite one connection; the others ask one key after another), per strategy and dataset (log scale)."
        ),
        chart!(
            batch_sizes,
            "Batch size",
            "Time per key of uniform lookups against the number of keys asked together (1 is one at a time): where a strategy's batching stops paying, per strategy and dataset (log scales)."
        ),
        chart!(
            percentiles,
            "Latency percentiles",
            "The latency distribution of each strategy at the largest dataset, HdrHistogram style: the x axis stretches the tail."
        ),
        chart!(
            memory,
            "Memory",
            "Resident memory each strategy adds, split into anonymous (heap) and file-backed (page cache) memory, with bytes per key."
        ),
        chart!(
            open_time,
            "Time to open",
            "Time until each strategy can answer: building, reopening a sidecar, or a cold page cache (log scale)."
        ),
        chart!(
            growth,
            "Growth with the key count",
            "How each strategy's costs grow from the smallest to the largest dataset measured: p50 and p99 of uniform lookups timed alone and the time to open from nothing (a build; for an LRU, its open over the reused index), on log scales, and resident bytes per key. Where a dataset past 1M keys was measured, \"Growth from 1M\" above gives each strategy's factor."
        ),
        chart!(
            cache_sweep,
            "Cache-ratio sweep",
            "An LRU holding 10 %..100 % of the keys in front of hashmap and mmap-index: hit rate and mean lookup time, uniform vs Zipf 0.99."
        ),
        chart!(
            baselines,
            "bash vs Python vs Rust",
            "The original study's programs (bash grep/awk; Python line scan, read-all, mmap, dict, LRU) beside `kvbench get` per strategy: a whole process answering one key (start-up and loading included), and what one more key costs in a running process. Dots are medians, lines the min–max range of the runs."
        ),
        chart!(
            concurrency,
            "Servers under load",
            "kvbench serve (1 and 2 threads) and its peers under closed-loop load on 1M keys: requests per second and p99 against connections, per protocol."
        ),
        chart!(
            load_distribution,
            "Latency distribution under load",
            "Every request of the closed-loop runs at 64 connections on 1M keys: a histogram (log-spaced buckets) and the percentile curve, per server and protocol."
        ),
        chart!(
            offered_load,
            "Latency vs offered load",
            "Open loop at 25-90 % of the closed-loop maximum, 64 connections: p50 and p99 measured from the intended send time."
        ),
        chart!(
            scaling,
            "Scaling with keys and value size",
            "Requests per second and p99 at 64 connections (closed loop) as the dataset grows in keys (default ~30-byte values) and in value size (at one key count)."
        ),
        chart!(
            server_resources,
            "Server CPU and memory under load",
            "CPU (user + system, % of one core) and peak resident memory of each server process, sampled from /proc every 100 ms during the closed-loop runs at 64 connections."
        ),
        chart!(
            server_efficiency,
            "What a request costs the server",
            "Requests answered per second of the server process's own CPU (user + system) in the closed-loop runs at 64 connections, and its system calls per request, counted by perf in a window of the same load after it: the server's efficiency, whatever the client's speed."
        ),
        chart!(
            tradeoff,
            "Memory vs tail latency",
            "Resident bytes per key (anonymous plus the file-backed pages of mapped files: what must stay in memory to answer at this speed; a cross marks the anonymous part alone) against p99 latency at the largest dataset; the Pareto frontier joins the configurations nothing beats on both."
        ),
        chart!(
            memory_budget,
            "Latency against memory budget",
            "The p50 of uniform lookups (each timed alone) of each strategy's warm case under each cgroup memory limit of `kvbench suite --memory-sweep`, the page cache counted against the limit, so you can read how much memory each strategy needs for a given latency; a hollow marker is the same case without a limit, at the memory it held resident after its lookups (log scales)."
        ),
    ]
}

/// A panel with one row per strategy (`names`, bottom to top) against a log
/// time axis from `lo` to `hi`: what the latency and open-time charts share.
pub(crate) fn time_rows<'a, DB: DrawingBackend>(
    panel: &'a DrawingArea<DB, Shift>,
    caption: &str,
    names: &[String],
    (lo, hi): (f64, f64),
    x_desc: &str,
) -> Result<TimeRows<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    // Room for the longest name (~7 px a character at 14 px).
    let label_width = names.iter().map(|n| n.chars().count() as u32 * 7 + 20).max().unwrap_or(0).clamp(120, 280);
    let mut chart = ChartBuilder::on(panel)
        .caption(caption, (FONT, 20))
        .margin(12)
        .x_label_area_size(55)
        .y_label_area_size(label_width)
        .build_cartesian_2d((lo..hi).log_scale(), rows(names.len()))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .x_label_formatter(&|v| nanos(*v))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_labels(names.len())
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()?;
    Ok(chart)
}

/// A vertical axis of `n` rows, one per name, row `i` spanning
/// `Exact(i)..Exact(i + 1)` with its label at `CenterOf(i)`.
pub(crate) fn rows(n: usize) -> SegmentedCoord<RangedCoordi32> {
    // A segmented `0..k` has k + 1 segments: `0..n` would leave an empty row
    // on top. `0..0` maps every value to the bottom, so one row gets two
    // segments (and an empty one on top) rather than a collapsed chart. No
    // row keeps `0..0`: asked for no labels on a longer range, plotters
    // searches for a label spacing until it overflows.
    let top = match n {
        0 => 0,
        1 => 1,
        n => n as i32 - 1,
    };
    (0..top).into_segmented()
}

/// The chart [`time_rows`] returns.
pub(crate) type TimeRows<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<plotters::coord::combinators::LogCoord<f64>, SegmentedCoord<RangedCoordi32>>>;

/// The largest value in `values` times `factor`, or `fallback` when there is none.
pub(crate) fn max_or(values: impl Iterator<Item = f64>, factor: f64, fallback: f64) -> f64 {
    values.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v)))).map_or(fallback, |m| m * factor)
}

/// The smallest positive value in `values` divided by `factor`, or `fallback`.
pub(crate) fn min_or(values: impl Iterator<Item = f64>, factor: f64, fallback: f64) -> f64 {
    values
        .filter(|v| *v > 0.0)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))
        .map_or(fallback, |m| m / factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// n rows fill the axis: the first starts at the bottom, the last ends at the top, none is left empty.
    #[test]
    fn rows_leave_no_empty_row() {
        assert!(rows(0).key_points(0usize).len() <= 1, "no rows, no labels (and no overflow)");
        let one = rows(1);
        assert!(one.map(&SegmentValue::CenterOf(0), (0, 1000)) > 0, "one row is drawn above the bottom edge");
        for n in [2usize, 8, 13] {
            let axis = rows(n);
            let top = n as i32;
            assert_eq!(axis.map(&SegmentValue::Exact(0), (0, 1000)), 0, "{n} rows");
            let end = axis.map(&SegmentValue::Exact(top), (0, 1000));
            assert!((999..=1000).contains(&end), "{n} rows end at {end}, not at the top (rounding aside)");
            let centre = axis.map(&SegmentValue::CenterOf(top - 1), (0, 1000));
            assert!(centre >= 1000 - 1000 / top && centre < 1000, "{n} rows: last label at {centre}");
        }
    }
}
