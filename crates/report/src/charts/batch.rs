//! Single vs batched lookups: time per key of each strategy asked one key at
//! a time and in batches (`Lookup::get_many`), one panel per dataset.

use kvbench_results::{Metric, Workload};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or, min_or, time_rows};
use crate::data::{Data, Source};
use crate::style::{FONT, color};

/// The single-key workload the batches are compared with.
pub(crate) const SINGLE: Workload = Workload::UNIFORM;

/// The batch the figures are quoted at, preferred when several were run.
const PREFERRED: usize = 64;

/// How many keys a uniform workload asks at once: 1 for [`SINGLE`], N for
/// `uniform,batch=N`, `None` for any other workload.
pub(crate) fn batch_size(workload: &Workload) -> Option<usize> {
    (workload.batched(1) == SINGLE).then_some(workload.batch)
}

/// The batched uniform workload the suite ran (e.g. `uniform,batch=64`),
/// if any: batches of 64 if run, else the largest batch.
pub(crate) fn batched(data: &Data) -> Option<Workload> {
    let sizes = data.records(Source::Suite).filter_map(|r| r.workload.and_then(|w| Some((batch_size(&w)?, w))));
    sizes.filter(|(n, _)| *n > 1).max_by_key(|&(n, _)| (n == PREFERRED, n)).map(|(_, w)| w)
}

/// The chart needs a suite run with a batched workload.
pub fn missing(data: &Data) -> Option<String> {
    batched(data)
        .is_none()
        .then(|| "needs batched lookups: run `kvbench suite --workloads 'uniform;uniform,batch=64'`".into())
}

/// Draws the chart.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let Some(batch) = batched(data) else { return Ok(()) };
    let title = format!("Uniform keys, time per key: one at a time (circle) vs {batch} (square)");
    let root = root.titled(&title, (FONT, 26))?;
    let datasets: Vec<_> =
        data.datasets(Source::Suite).into_iter().filter(|d| !pairs(data, d.keys, batch).is_empty()).collect();
    let panels = root.split_evenly((1, datasets.len().max(1)));
    for (panel, dataset) in panels.iter().zip(&datasets) {
        let rows = pairs(data, dataset.keys, batch);
        let lo = min_or(rows.iter().map(|r| r.1.min(r.2)), 2.0, 1.0);
        let hi = max_or(rows.iter().map(|r| r.1.max(r.2)), 3.0, 1e3);
        let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let caption = format!("{} keys", dataset.label());
        let mut chart = time_rows(panel, &caption, &names, (lo, hi), "time per key (log scale)")?;
        for (i, (name, single, batched)) in rows.iter().enumerate() {
            let y = || SegmentValue::CenterOf(i as i32);
            let c = color(name);
            chart.draw_series(LineSeries::new([(*single, y()), (*batched, y())], c.stroke_width(2)))?;
            chart.draw_series([Circle::new((*single, y()), 7, c.filled())])?;
            let square = EmptyElement::at((*batched, y())) + Rectangle::new([(-6, -6), (6, 6)], c.filled());
            chart.draw_series([square])?;
            let text = format!("{:.2}×", batched / single);
            chart.draw_series([Text::new(text, (single.max(*batched) * 1.12, y()), (FONT, 14))])?;
        }
    }
    Ok(())
}

/// `(case, single, batched)` time per key for every warm case measured both ways.
fn pairs(data: &Data, keys: u64, batch: Workload) -> Vec<(String, f64, f64)> {
    data.strategies(Source::Suite, keys, Some(batch), Metric::LookupMean)
        .into_iter()
        .filter_map(|case| {
            let single = data.value(Source::Suite, &case, keys, Some(SINGLE), Metric::LookupMean)?;
            let batched = data.value(Source::Suite, &case, keys, Some(batch), Metric::LookupMean)?;
            Some((case.to_string(), single, batched))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_sizes_are_read_from_uniform_workloads_only() {
        let size = |w: &str| batch_size(&w.parse().unwrap());
        assert_eq!(size("uniform"), Some(1));
        assert_eq!(size("uniform,batch=256"), Some(256));
        assert_eq!(size("uniform,miss=0.5,batch=4"), None);
        assert_eq!(size("miss,batch=64"), None);
        assert_eq!(size("zipf:0.99"), None);
    }
}
