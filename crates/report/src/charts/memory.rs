//! Memory per strategy at the largest dataset: anonymous vs file-backed RSS.

use kvbench_results::units::bytes;
use kvbench_results::{CaseId, Metric};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or, rows};
use crate::data::{Data, Source};
use crate::style::{FONT, color};

/// The chart needs the suite's memory figures.
pub fn missing(data: &Data) -> Option<String> {
    data.largest(Source::Suite).is_none().then(|| "needs memory figures: run `kvbench suite`".into())
}

/// Draws the chart.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let Some(dataset) = data.largest(Source::Suite) else { return Ok(()) };
    let value = |case: &CaseId, metric| data.value(Source::Suite, case, dataset.keys, None, metric);
    let cases = data.warm_cases(Source::Suite, dataset.keys, None, Metric::AnonRssBytes);
    let title = format!("Memory each strategy adds, {} keys (after all lookups)", dataset.label());
    let root = root.titled(&title, (FONT, 26))?;
    let panels = root.split_evenly((1, 2));
    let kinds = [
        (Metric::AnonRssBytes, "anonymous RSS (labels: bytes per key; live heap)"),
        (Metric::FileRssBytes, "file-backed RSS (mapped files, page cache)"),
    ];
    let mib = 1024.0 * 1024.0;
    let top = max_or(cases.iter().flat_map(|c| kinds.iter().filter_map(|(m, _)| value(c, *m))), 2.2 / mib, 1.0);
    for (panel, (metric, label)) in panels.iter().zip(kinds) {
        let mut chart = ChartBuilder::on(panel)
            .caption(label, (FONT, 18))
            .margin(12)
            .x_label_area_size(55)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..top, rows(cases.len()))?;
        chart
            .configure_mesh()
            .x_desc("MiB")
            .x_labels(6)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => cases.get(*i as usize).map(CaseId::to_string).unwrap_or_default(),
                _ => String::new(),
            })
            .y_labels(cases.len())
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        for (i, case) in cases.iter().enumerate() {
            let Some(v) = value(case, metric) else { continue };
            let i = i as i32;
            let mut bar = Rectangle::new(
                [(0.0, SegmentValue::Exact(i)), (v / mib, SegmentValue::Exact(i + 1))],
                color(&case.to_string()).filled(),
            );
            bar.set_margin(6, 6, 0, 0);
            chart.draw_series([bar])?;
            let text = match (metric, value(case, Metric::AnonBytesPerKey), value(case, Metric::HeapBytes)) {
                (Metric::AnonRssBytes, Some(per_key), Some(heap)) => {
                    format!("{}  ({per_key:.1} B/key; heap {})", bytes(v), bytes(heap))
                }
                _ => bytes(v),
            };
            chart.draw_series([Text::new(text, (v / mib + top * 0.01, SegmentValue::CenterOf(i)), (FONT, 13))])?;
        }
    }
    Ok(())
}
