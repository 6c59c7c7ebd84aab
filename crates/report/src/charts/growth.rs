//! How each strategy's costs grow with the key count (10K → 100M where
//! measured): latency p50 and p99, the time to build, and resident bytes per
//! key, one line per strategy, both axes log scale.

use kvbench_results::units::count;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::concurrency::{XAxis, metric_panel};
use super::{DrawResult, max_or, min_or};
use crate::data::Data;
use crate::growth::{Cost, lines};
use crate::style::FONT;

/// The chart needs the suite on at least two key counts.
pub fn missing(data: &Data) -> Option<String> {
    Cost::ALL
        .iter()
        .all(|c| lines(data, *c).is_empty())
        .then(|| "needs the suite on several key counts: run `kvbench suite --keys 10k,1M,10M,100M`".into())
}

/// Draws the chart: one panel per cost.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled("How costs grow with the number of keys", (FONT, 26))?;
    let panels = root.split_evenly((2, 2));
    for (panel, cost) in panels.iter().zip(Cost::ALL) {
        let lines = lines(data, cost);
        let xs = || lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.0));
        let x = XAxis {
            range: (min_or(xs(), 2.0, 1e3), max_or(xs(), 2.0, 1e8)),
            desc: "keys (log scale)",
            format: &|v: &f64| count(*v as u64),
        };
        metric_panel(panel, cost.title(), &x, cost.metric(), &lines, |_| false)?;
    }
    Ok(())
}
