//! The cache-ratio sweep: hit rate and lookup time against the cache's size.

use kvbench_results::units::nanos;
use kvbench_results::{CaseId, Metric, Workload};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or};
use crate::data::{Data, Source};
use crate::style::{FONT, color};

/// The workloads compared, as recorded.
const WORKLOADS: [(Workload, &str); 2] = [(Workload::UNIFORM, "uniform keys"), (Workload::ZIPF, "Zipf 0.99 keys")];

/// `(ratio, backing)` of an `lru(R,B)` label.
pub fn parse_lru(label: &str) -> Option<(f64, String)> {
    let (ratio, backing) = label.strip_prefix("lru(")?.strip_suffix(')')?.split_once(',')?;
    Some((ratio.parse().ok()?, backing.to_owned()))
}

/// Per backing: `(ratio in %, value)` points of `metric` under `workload`, sorted.
pub fn sweep(data: &Data, keys: u64, workload: Workload, metric: Metric) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for r in data.records(Source::Criterion) {
        if r.dataset.keys != keys || r.workload != Some(workload) || r.metric != metric {
            continue;
        }
        let Some((ratio, backing)) = parse_lru(&r.case.strategy) else { continue };
        match lines.iter_mut().find(|(b, _)| *b == backing) {
            Some((_, points)) => points.push((ratio * 100.0, r.value)),
            None => lines.push((backing, vec![(ratio * 100.0, r.value)])),
        }
    }
    for (_, points) in &mut lines {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    lines
}

/// The chart needs criterion's sweep.
pub fn missing(data: &Data) -> Option<String> {
    let has = data
        .largest(Source::Criterion)
        .is_some_and(|d| !sweep(data, d.keys, Workload::UNIFORM, Metric::HitRate).is_empty());
    (!has).then(|| "needs the cache-ratio sweep: run `cargo bench --bench lookup`".into())
}

/// Draws the chart.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let Some(dataset) = data.largest(Source::Criterion) else { return Ok(()) };
    let title = format!("LRU cache in front of a strategy, {} keys: what each size buys", dataset.label());
    let root = root.titled(&title, (FONT, 26))?;
    let panels = root.split_evenly((2, 2));
    let slow = max_or(
        WORKLOADS
            .iter()
            .flat_map(|(w, _)| sweep(data, dataset.keys, *w, Metric::GetMean))
            .flat_map(|(_, p)| p)
            .map(|p| p.1),
        1.8,
        1e3,
    );
    for (col, (workload, label)) in WORKLOADS.iter().enumerate() {
        for (row, metric) in [Metric::HitRate, Metric::GetMean].into_iter().enumerate() {
            let Some(panel) = panels.get(row * 2 + col) else { continue };
            let lines = sweep(data, dataset.keys, *workload, metric);
            let (y_top, y_desc) = match metric {
                Metric::HitRate => (100.0, "hit rate (%)"),
                _ => (slow, "mean time per lookup"),
            };
            let mut chart = ChartBuilder::on(panel)
                .caption(
                    format!("{} — {label}", if metric == Metric::HitRate { "hit rate" } else { "lookup time" }),
                    (FONT, 18),
                )
                .margin(10)
                .x_label_area_size(45)
                .y_label_area_size(80)
                .build_cartesian_2d(0.0..105.0, 0.0..y_top)?;
            chart
                .configure_mesh()
                .x_desc("cache size (% of keys)")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_desc(y_desc)
                .y_label_formatter(&|v| if metric == Metric::HitRate { format!("{v:.0}") } else { nanos(*v) })
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .draw()?;
            for (backing, points) in &lines {
                let c = color(&format!("lru(x,{backing})"));
                let scale = if metric == Metric::HitRate { 100.0 } else { 1.0 };
                let points: Vec<(f64, f64)> = points.iter().map(|(x, y)| (*x, y * scale)).collect();
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(3)))?
                    .label(format!("lru over {backing}"))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(3)));
                chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, c.filled())))?;
                if metric == Metric::GetMean
                    && let Some(alone) = data.value(
                        Source::Criterion,
                        &CaseId::plain(backing),
                        dataset.keys,
                        Some(*workload),
                        Metric::GetMean,
                    )
                {
                    let base = color(backing);
                    chart
                        .draw_series(LineSeries::new([(0.0, alone), (105.0, alone)], base.stroke_width(2)))?
                        .label(format!("{backing} alone"))
                        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], base.stroke_width(2)));
                }
            }
            chart
                .configure_series_labels()
                .position(if metric == Metric::HitRate {
                    SeriesLabelPosition::LowerRight
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font((FONT, 13))
                .draw()?;
        }
    }
    Ok(())
}
