//! Time per key against batch size: how much of a lookup's waiting each
//! batch size hides, per strategy, one panel per dataset.

use kvbench_results::units::count;
use kvbench_results::{Metric, Workload};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::batch::{SINGLE, batch_size};
use super::concurrency::{XAxis, metric_panel};
use super::{DrawResult, max_or, min_or};
use crate::data::{Data, Source};
use crate::style::FONT;

/// The uniform workloads of the suite runs with their batch sizes, 1 (one key at a time) first.
fn sizes(data: &Data) -> Vec<(usize, Workload)> {
    let mut sizes: Vec<(usize, Workload)> =
        data.records(Source::Suite).filter_map(|r| r.workload.and_then(|w| Some((batch_size(&w)?, w)))).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// One line per warm case of the dataset of `keys`: (batch size, time per key), at least three points.
fn lines(data: &Data, keys: u64, sizes: &[(usize, Workload)]) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = data
        .strategies(Source::Suite, keys, Some(SINGLE), Metric::LookupMean)
        .into_iter()
        .map(|case| {
            let points = sizes
                .iter()
                .filter_map(|(size, workload)| {
                    let ns = data.value(Source::Suite, &case, keys, Some(*workload), Metric::LookupMean)?;
                    Some((*size as f64, ns))
                })
                .collect();
            (case.to_string(), points)
        })
        .collect();
    lines.retain(|(_, points): &(String, Vec<(f64, f64)>)| points.len() >= 3);
    lines
}

/// The chart needs suite runs of uniform lookups at two batch sizes or more besides one at a time.
pub fn missing(data: &Data) -> Option<String> {
    let sizes = sizes(data);
    let any = data.datasets(Source::Suite).iter().any(|d| !lines(data, d.keys, &sizes).is_empty());
    (!any).then(|| {
        "needs several batch sizes: run `kvbench suite --workloads 'uniform;uniform,batch=4;uniform,batch=16;uniform,batch=64;uniform,batch=256'`".into()
    })
}

/// Draws the chart.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled("Uniform keys: time per key against batch size", (FONT, 26))?;
    let sizes = sizes(data);
    let panels: Vec<_> = data
        .datasets(Source::Suite)
        .into_iter()
        .map(|d| (d.label(), lines(data, d.keys, &sizes)))
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, (label, lines)) in areas.iter().zip(&panels) {
        let xs = || lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.0));
        let format = |v: &f64| count(*v as u64);
        let x = XAxis {
            range: (min_or(xs(), 1.5, 1.0), max_or(xs(), 1.5, 64.0)),
            desc: "keys per batch (log scale)",
            format: &format,
        };
        metric_panel(area, &format!("{label} keys"), &x, Metric::LookupMean, lines, |_| false)?;
    }
    Ok(())
}
