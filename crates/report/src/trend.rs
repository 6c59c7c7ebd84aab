//! Trend charts of the history of main (`kvbench history report --out`):
//! per metric family, one panel per strategy, each figure across the runs
//! (x: the runs in order, labelled by commit), each step the detector found
//! marked where it happened with its size.

use std::path::{Path, PathBuf};

use kvbench_results::history::{Findings, Series};
use kvbench_results::{Metric, Unit};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::ReportError;
use crate::charts::{DrawResult, max_or, min_or, png, svg};
use crate::style::{FONT, color};

/// The metric families a trend chart groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Instructions per operation (Valgrind): nearly noise-free.
    Instructions,
    /// Times: per lookup, latency percentiles, opening.
    WallClock,
    /// Bytes: heap, resident, per key.
    Memory,
}

impl Family {
    /// Every family, in the order charts are drawn.
    pub const ALL: [Family; 3] = [Family::Instructions, Family::WallClock, Family::Memory];

    /// The family of `metric`, if it is charted.
    pub fn of(metric: Metric) -> Option<Family> {
        match (metric, metric.unit()) {
            (Metric::Instructions, _) => Some(Family::Instructions),
            (_, Unit::Ns) => Some(Family::WallClock),
            (_, Unit::Bytes) => Some(Family::Memory),
            _ => None,
        }
    }

    /// The chart's file stem.
    pub fn stem(self) -> &'static str {
        match self {
            Family::Instructions => "trend-instructions",
            Family::WallClock => "trend-wall-clock",
            Family::Memory => "trend-memory",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Family::Instructions => "Instructions per operation across the history of main",
            Family::WallClock => "Wall-clock figures across the history of main",
            Family::Memory => "Memory across the history of main",
        }
    }
}

/// Draws one trend chart per family that has series (SVG and PNG) into `out`; returns the files written.
pub fn draw_all(series: &[Series], found: &[Findings], out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out).map_err(|source| ReportError::Io { path: out.to_owned(), source })?;
    crate::style::register_fonts();
    let mut written = Vec::new();
    for family in Family::ALL {
        let mine: Vec<&Series> = series.iter().filter(|s| Family::of(s.key.metric) == Some(family)).collect();
        if mine.is_empty() {
            continue;
        }
        let failed = |message| ReportError::Draw { chart: family.stem().to_owned(), message };
        let path = out.join(format!("{}.svg", family.stem()));
        svg(&path, |root| draw(family, &mine, found, root)).map_err(failed)?;
        written.push(path);
        let path = out.join(format!("{}.png", family.stem()));
        png(&path, |root| draw(family, &mine, found, root)).map_err(failed)?;
        written.push(path);
    }
    Ok(written)
}

/// One panel per strategy, its series as lines over the runs, the steps as marks.
fn draw<DB: DrawingBackend>(
    family: Family,
    series: &[&Series],
    found: &[Findings],
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(family.title(), (FONT, 24))?;
    let mut strategies: Vec<&str> = series.iter().map(|s| s.key.strategy.as_str()).collect();
    strategies.sort_unstable();
    strategies.dedup();
    let columns = strategies.len().clamp(1, 3);
    let panels = root.split_evenly((strategies.len().div_ceil(columns), columns));
    // Runs share one x axis: every commit in the order first seen.
    let mut commits: Vec<&str> = Vec::new();
    for s in series {
        for p in &s.points {
            if !commits.contains(&p.commit.as_str()) {
                commits.push(&p.commit);
            }
        }
    }
    let at = |commit: &str| commits.iter().position(|c| *c == commit).unwrap_or(0) as f64;
    for (panel, strategy) in panels.iter().zip(&strategies) {
        let lines: Vec<&&Series> = series.iter().filter(|s| s.key.strategy == *strategy).collect();
        let values = || lines.iter().flat_map(|s| s.points.iter().map(|p| p.value));
        let (lo, hi) = (min_or(values(), 1.05, 1.0), max_or(values(), 1.05, 10.0));
        let mut chart = ChartBuilder::on(panel)
            .caption(*strategy, (FONT, 16))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..(commits.len() as f64 - 0.5).max(0.5), lo..hi)?;
        let unit = series.first().map_or(Unit::Count, |s| s.key.metric.unit());
        chart
            .configure_mesh()
            .x_labels(commits.len().min(4))
            .x_label_formatter(&|x| commits.get(x.round().max(0.0) as usize).map_or(String::new(), |c| short(c)))
            .y_label_formatter(&|v| match unit {
                Unit::Ns => kvbench_results::units::nanos(*v),
                Unit::Bytes => kvbench_results::units::bytes(*v),
                _ => format!("{v:.0}"),
            })
            .label_style((FONT, 11))
            .draw()?;
        for (i, s) in lines.iter().enumerate() {
            let name = format!("{} {}", s.key.workload, s.key.metric.name());
            // Lines of one strategy: told apart by a palette, not by the strategy's colour.
            let c = if lines.len() == 1 {
                color(strategy)
            } else {
                let (r, g, b) = Palette99::pick(i).rgb();
                RGBColor(r, g, b)
            };
            let points: Vec<(f64, f64)> = s.points.iter().map(|p| (at(&p.commit), p.value)).collect();
            chart
                .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], c.stroke_width(2)));
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 2, c.filled())))?;
            for step in found.iter().filter(|f| f.key == s.key).flat_map(|f| &f.steps) {
                let x = at(&step.commit) - 0.5;
                chart.draw_series(DashedLineSeries::new([(x, lo), (x, hi)], 4, 3, RED.stroke_width(1)))?;
                let text = format!("{:+.1}% @{}", step.change.relative() * 100.0, short(&step.commit));
                chart.draw_series([Text::new(text, (x, step.change.after), (FONT, 11).into_font().color(&RED))])?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 10))
            .draw()?;
    }
    Ok(())
}

/// A commit as the axis shows it.
fn short(commit: &str) -> String {
    commit.get(..7).unwrap_or(commit).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_fall_into_their_family() {
        assert_eq!(Family::of(Metric::Instructions), Some(Family::Instructions));
        assert_eq!(Family::of(Metric::LatencyP99), Some(Family::WallClock));
        assert_eq!(Family::of(Metric::HeapBytes), Some(Family::Memory));
        assert_eq!(Family::of(Metric::HitRate), None);
    }
}
