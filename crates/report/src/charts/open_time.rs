//! Time to open per strategy and dataset (log scale), warm and cold.

use kvbench_results::Metric;
use kvbench_results::units::nanos;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or, min_or, time_rows};
use crate::data::{Data, Source};
use crate::style::{FONT, color};

/// The chart needs the suite's open times.
pub fn missing(data: &Data) -> Option<String> {
    data.datasets(Source::Suite).is_empty().then(|| "needs open times: run `kvbench suite`".into())
}

/// Draws the chart.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled("Time until a strategy can answer (build, reopen, or cold start)", (FONT, 26))?;
    let datasets = data.datasets(Source::Suite);
    let panels = root.split_evenly((1, datasets.len().max(1)));
    for (panel, dataset) in panels.iter().zip(&datasets) {
        let cases = data.strategies(Source::Suite, dataset.keys, None, Metric::OpenTime);
        let rows: Vec<(String, f64)> = cases
            .iter()
            .filter_map(|c| Some((c.to_string(), data.value(Source::Suite, c, dataset.keys, None, Metric::OpenTime)?)))
            .collect();
        let lo = min_or(rows.iter().map(|r| r.1), 3.0, 1e3);
        let hi = max_or(rows.iter().map(|r| r.1), 4.0, 1e6);
        let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let caption = format!("{} keys", dataset.label());
        let mut chart = time_rows(panel, &caption, &names, (lo, hi), "time to open (log scale)")?;
        for (i, (name, v)) in rows.iter().enumerate() {
            let i = i as i32;
            let mut bar =
                Rectangle::new([(lo, SegmentValue::Exact(i)), (*v, SegmentValue::Exact(i + 1))], color(name).filled());
            bar.set_margin(5, 5, 0, 0);
            chart.draw_series([bar])?;
            chart.draw_series([Text::new(nanos(*v), (*v * 1.08, SegmentValue::CenterOf(i)), (FONT, 13))])?;
        }
    }
    Ok(())
}
