//! Servers under load: throughput and p99 against connections, per protocol,
//! kvbench with 1 and 2 threads beside the peers.

use kvbench_results::units::nanos;
use kvbench_results::{Metric, Unit};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or, min_or};
use crate::data::Data;
use crate::style::{FONT, color};

/// The protocols, as recorded and as titled.
pub(crate) const PROTOCOLS: [(&str, &str); 2] = [("http", "HTTP"), ("resp", "RESP")];

/// The chart needs closed-loop load runs.
pub fn missing(data: &Data) -> Option<String> {
    let has = PROTOCOLS.iter().any(|(p, _)| !data.load_lines(p, false, Metric::Throughput).is_empty());
    (!has).then(|| "needs load runs: run `kvbench bench macro`".into())
}

/// Draws the chart: one column per protocol, throughput above, p99 below.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled("Servers under load, 1M keys: closed loop over connections", (FONT, 26))?;
    let panels = root.split_evenly((2, 2));
    for (col, (protocol, name)) in PROTOCOLS.iter().enumerate() {
        for (row, metric) in [Metric::Throughput, Metric::LatencyP99].into_iter().enumerate() {
            let Some(panel) = panels.get(row * 2 + col) else { continue };
            let lines = data.load_lines(protocol, false, metric);
            let x_max = max_or(lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.0)), 1.5, 300.0);
            let caption =
                format!("{name}: {}", if metric == Metric::Throughput { "requests per second" } else { "p99 latency" });
            let x = XAxis { range: (0.8, x_max), desc: "connections", format: &|v| format!("{v:.0}") };
            metric_panel(panel, &caption, &x, metric, &lines, |name| !name.ends_with("1 thread"))?;
        }
    }
    Ok(())
}

/// A log-scaled x axis of a [`metric_panel`].
pub(crate) struct XAxis<'a> {
    /// From and to.
    pub range: (f64, f64),
    /// Its description.
    pub desc: &'a str,
    /// How its labels read.
    pub format: &'a dyn Fn(&f64) -> String,
}

/// A panel of `lines` over `x`: requests per second and bytes on a linear
/// axis from 0, a log time axis for anything else (latencies, times).
pub(crate) fn metric_panel<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    caption: &str,
    x: &XAxis<'_>,
    metric: Metric,
    lines: &[(String, Vec<(f64, f64)>)],
    thin: impl Fn(&str) -> bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let values = || lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.1));
    let mut builder = ChartBuilder::on(panel);
    builder.caption(caption, (FONT, 18)).margin(10).x_label_area_size(45).y_label_area_size(80);
    let (x_lo, x_hi) = x.range;
    let bytes = metric.unit() == Unit::Bytes;
    if metric == Metric::Throughput || bytes {
        let mut chart = builder.build_cartesian_2d((x_lo..x_hi).log_scale(), 0.0..max_or(values(), 1.25, 1.0))?;
        chart
            .configure_mesh()
            .x_desc(x.desc)
            .x_label_formatter(x.format)
            .y_label_formatter(&|v| if bytes { format!("{v:.0} B") } else { format!("{:.0}k", v / 1e3) })
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()?;
        lines_and_legend(&mut chart, lines, thin, true, SeriesLabelPosition::UpperLeft)
    } else {
        let (lo, hi) = (min_or(values(), 1.5, 1e4), max_or(values(), 1.5, 1e7));
        let mut chart = builder.build_cartesian_2d((x_lo..x_hi).log_scale(), (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(x.desc)
            .x_label_formatter(x.format)
            .y_label_formatter(&|v| nanos(*v))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()?;
        lines_and_legend(&mut chart, lines, thin, true, SeriesLabelPosition::UpperLeft)
    }
}

/// One line per server in the server's colour (thin where `thin` says; dots
/// on its points where `dots`), and the legend at `legend`.
pub(crate) fn lines_and_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'a, DB, CT>,
    lines: &[(String, Vec<(f64, f64)>)],
    thin: impl Fn(&str) -> bool,
    dots: bool,
    legend: SeriesLabelPosition,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for (name, points) in lines {
        // Named `server, N thread(s)…`: the colour is the server's.
        let c = color(name.split(',').next().unwrap_or(name));
        let width = if thin(name) { 1 } else { 3 };
        chart
            .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(width)))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(width)));
        if dots {
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, c.filled())))?;
        }
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 12))
        .draw()?;
    Ok(())
}
