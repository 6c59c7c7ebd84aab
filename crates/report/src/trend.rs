//! Trend charts of the history of main (`kvbench history report --out`):
//! per metric family, one panel per strategy, each figure across the runs
//! (x: the runs in order, labelled by commit) with each run's spread as an
//! error bar where the figure has one, each step the detector found marked
//! where it happened with its size, and each of the gate's verdicts on a run
//! against the run before it ([`kvbench_results::history::gate_marks`]) as a marker; and the
//! findings as a README (and an `index.html` for GitHub Pages).

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use kvbench_results::compare::Verdict;
use kvbench_results::history::{DRIFT_WINDOW, Findings, GateMark, Series};
use kvbench_results::{Metric, SpreadKind, Unit, units};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::ReportError;
use crate::charts::{DrawResult, max_or, min_or, png, svg};
use crate::style::{FONT, color};

/// The colour of the gate's regressions.
const REGRESSED: RGBColor = RGBColor(200, 0, 0);
/// The colour of the gate's improvements.
const IMPROVED: RGBColor = RGBColor(0, 140, 0);

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

/// What the error bars of a family's chart show, for its caption: which
/// figures have a spread within their run and what it is, or that none has.
pub fn spread_note(family: Family, series: &[&Series]) -> String {
    let with: BTreeSet<Metric> =
        series.iter().filter(|s| s.points.iter().any(|p| p.spread.is_some())).map(|s| s.key.metric).collect();
    let kinds: BTreeSet<&str> = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.spread))
        .map(|spread| match spread.kind {
            SpreadKind::MinMax => "the min-max of its timed rounds",
            SpreadKind::MedianCi => "the confidence interval of the median of its runs",
            SpreadKind::Ci95 => "a 95 % confidence interval",
        })
        .collect();
    match (with.is_empty(), family) {
        (true, Family::Instructions) => {
            "no error bars: an instruction count is one deterministic count per run, with no spread".into()
        }
        (true, _) => "no error bars: each figure here is one reading per run, with no spread".into(),
        (false, _) => {
            let metrics: Vec<&str> = with.iter().map(|m| m.name()).collect();
            let kinds: Vec<&str> = kinds.into_iter().collect();
            format!(
                "bars: each run's spread ({}) for {}; the other figures are one reading per run, with no spread",
                kinds.join("; "),
                metrics.join(", ")
            )
        }
    }
}

/// Draws one trend chart per family that has series (SVG and PNG) into `out`; returns the files written.
pub fn draw_all(
    series: &[Series],
    found: &[Findings],
    marks: &[GateMark],
    out: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
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
        svg(&path, |root| draw(family, &mine, found, marks, root)).map_err(failed)?;
        written.push(path);
        let path = out.join(format!("{}.png", family.stem()));
        png(&path, |root| draw(family, &mine, found, marks, root)).map_err(failed)?;
        written.push(path);
    }
    Ok(written)
}

/// One panel per strategy, its series as lines over the runs with their
/// spreads as bars, the steps as dashed lines and the gate's verdicts as markers.
fn draw<DB: DrawingBackend>(
    family: Family,
    series: &[&Series],
    found: &[Findings],
    marks: &[GateMark],
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(family.title(), (FONT, 24))?;
    let (caption, root) = root.split_vertically(36);
    let small = (FONT, 12).into_font();
    caption.draw_text(&spread_note(family, series), &small.color(&BLACK), (12, 2))?;
    caption.draw_text(
        "dashed red line: a change point (its step and commit); filled red triangle: the gate's rule finds a \
         regression against the run before; green ring: an improvement",
        &small.color(&BLACK),
        (12, 18),
    )?;
    // One panel per case, by its label.
    let mut strategies: Vec<String> = series.iter().map(|s| s.key.case.to_string()).collect();
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
        let lines: Vec<&&Series> = series.iter().filter(|s| s.key.case.to_string() == *strategy).collect();
        let values = || {
            {
                lines.iter().flat_map(|s| {
                    s.points.iter().flat_map(|p| [Some(p.value), p.spread.map(|s| s.lower), p.spread.map(|s| s.upper)])
                })
            }
            .flatten()
        };
        let (lo, hi) = (min_or(values(), 1.05, 1.0), max_or(values(), 1.05, 10.0));
        let mut chart = ChartBuilder::on(panel)
            .caption(strategy.as_str(), (FONT, 16))
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
            let name = format!("{} {}", s.key.workload_label(), s.key.metric.name());
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
            // Each spread as an error bar: a vertical line from its lower to its upper bound, capped.
            let bars = s.points.iter().filter_map(|p| p.spread.map(|e| (at(&p.commit), e))).flat_map(|(x, e)| {
                let cap = 0.08;
                [
                    PathElement::new([(x, e.lower), (x, e.upper)], c.stroke_width(1)),
                    PathElement::new([(x - cap, e.lower), (x + cap, e.lower)], c.stroke_width(1)),
                    PathElement::new([(x - cap, e.upper), (x + cap, e.upper)], c.stroke_width(1)),
                ]
            });
            chart.draw_series(bars)?;
            for mark in marks.iter().filter(|m| m.key == s.key) {
                let Some(point) = s.points.iter().find(|p| p.commit == mark.commit) else { continue };
                let xy = (at(&point.commit), point.value);
                if mark.verdict == Verdict::Regressed {
                    chart.draw_series([TriangleMarker::new(xy, 8, REGRESSED.filled())])?;
                } else {
                    chart.draw_series([Circle::new(xy, 7, IMPROVED.stroke_width(2))])?;
                }
            }
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

/// A commit as tables show it.
fn commit12(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The columns of the findings table.
pub const FINDINGS_HEADER: [&str; 5] = ["figure", "what", "level", "change", "confidence"];

/// The findings as table rows: one per step and per drift.
pub fn findings_rows(found: &[Findings]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for f in found {
        let value = |v: f64| units::value(f.key.metric.unit(), v);
        for s in &f.steps {
            rows.push(vec![
                f.key.name(),
                format!("step at {} (after {})", commit12(&s.commit), commit12(&s.previous)),
                format!("{} -> {}", value(s.change.before), value(s.change.after)),
                format!("{:+.1}%", s.change.relative() * 100.0),
                format!("{:.1}%", s.change.confidence() * 100.0),
            ]);
        }
        if let Some(d) = f.drift {
            rows.push(vec![
                f.key.name(),
                format!("drift over the last {DRIFT_WINDOW} runs"),
                format!("{} per run", value(d.slope)),
                format!("{:+.1}%", d.relative * 100.0),
                format!("{:.1}%", (1.0 - d.p_value) * 100.0),
            ]);
        }
    }
    rows
}

/// The columns of the gate's verdicts table.
pub const GATE_HEADER: [&str; 4] = ["figure", "run", "verdict", "change"];

/// The gate's verdicts as table rows, in the order of the runs.
pub fn gate_rows(marks: &[GateMark]) -> Vec<Vec<String>> {
    marks
        .iter()
        .map(|m| {
            vec![
                m.key.name(),
                format!("{} (against {})", commit12(&m.commit), commit12(&m.previous)),
                m.verdict.label().to_owned(),
                m.change.map_or_else(|| "–".into(), units::signed_percent),
            ]
        })
        .collect()
}

/// What the history report says, before it is written as Markdown or HTML.
enum Block {
    /// A section heading.
    Heading(String),
    /// A paragraph (inline code in backticks).
    Text(String),
    /// A table.
    Table(&'static [&'static str], Vec<Vec<String>>),
    /// A chart, by file name.
    Image(String),
}

/// Draws the trend charts into `out` and writes the findings beside them as
/// `README.md` and `index.html` (the same text; the page for GitHub Pages);
/// `source` names the history folder, `runs` how many runs it holds. Returns the files written.
pub fn write_report(
    source: &str,
    runs: usize,
    series: &[Series],
    found: &[Findings],
    marks: &[GateMark],
    out: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = draw_all(series, found, marks, out)?;
    let mut blocks = vec![
        Block::Heading("The history of main".into()),
        Block::Text(format!(
            "Drawn by `kvbench history report` from {source}. {}. Steps: E-divisive means with a permutation test \
             (significance 0.01), each at the first commit measured at the new level; drift: Mann-Kendall over the \
             last {DRIFT_WINDOW} runs.",
            summary(runs, series, found)
        )),
        Block::Table(&FINDINGS_HEADER, findings_rows(found)),
        Block::Heading("The gate's verdicts, each run against the run before it".into()),
        Block::Text(format!(
            "The regression gate's rule (`kvbench compare`, default thresholds) applied to each run of the history \
             and the run before it: {} regressed, {} improved. One run a side, measured apart: counts are \
             judged on their values, a wall-clock figure without a spread within its run is never more than noise, \
             and wall-clock figures of runs on different machines are not judged. A pull request's own verdict is \
             its gate job's (ten runs a side, in one job).",
            marks.iter().filter(|m| m.verdict == Verdict::Regressed).count(),
            marks.iter().filter(|m| m.verdict == Verdict::Improved).count(),
        )),
    ];
    if !marks.is_empty() {
        blocks.push(Block::Table(&GATE_HEADER, gate_rows(marks)));
    }
    blocks.push(Block::Heading("Trend charts".into()));
    for chart in written.iter().filter(|c| c.extension().is_some_and(|e| e == "png")) {
        let name = chart.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        blocks.push(Block::Image(name));
    }
    for (name, text) in [("README.md", markdown(&blocks)), ("index.html", html(&blocks))] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Io { path: path.clone(), source })?;
        written.push(path);
    }
    Ok(written)
}

/// One line: how many runs and figures, and how many with a step or a drift.
pub fn summary(runs: usize, series: &[Series], found: &[Findings]) -> String {
    format!("{runs} runs, {} figures; {} with a step or a drift", series.len(), found.len())
}

fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match block {
            Block::Heading(h) => {
                let _ = writeln!(out, "{} {h}", if i == 0 { "#" } else { "##" });
            }
            Block::Text(t) => {
                let _ = writeln!(out, "{t}");
            }
            Block::Table(header, rows) => out.push_str(&kvbench_results::markdown::table(header, rows)),
            Block::Image(name) => {
                let _ = writeln!(out, "![{name}]({name})");
            }
        }
    }
    out
}

fn html(blocks: &[Block]) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    // Backticks pair up into <code>…</code>.
    let text = |s: &str| {
        escape(s)
            .split('`')
            .enumerate()
            .map(|(i, part)| if i % 2 == 1 { format!("<code>{part}</code>") } else { part.to_owned() })
            .collect::<String>()
    };
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>kvbench: the history of main</title>\n\
         <style>body{font-family:sans-serif;max-width:1150px;margin:auto;padding:0 1em}\
         table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px}\
         img{max-width:100%}</style></head><body>\n",
    );
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(h) => {
                let level = if i == 0 { 1 } else { 2 };
                let _ = writeln!(out, "<h{level}>{}</h{level}>", escape(h));
            }
            Block::Text(t) => {
                let _ = writeln!(out, "<p>{}</p>", text(t));
            }
            Block::Table(header, rows) => {
                out.push_str("<table><tr>");
                for h in header.iter() {
                    let _ = write!(out, "<th>{}</th>", escape(h));
                }
                out.push_str("</tr>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        let _ = write!(out, "<td>{}</td>", escape(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Image(name) => {
                let name = escape(name);
                let _ = writeln!(out, "<p><img src=\"{name}\" alt=\"{name}\"></p>");
            }
        }
    }
    out + "</body></html>\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use kvbench_results::history::{Point, SeriesKey};
    use kvbench_results::{Spread, SpreadKind, Workload};

    fn series(strategy: &str, metric: Metric, values: &[f64], spread: bool) -> Series {
        let points = values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                commit: format!("c{i:02}"),
                timestamp: format!("2026-11-30T10:{i:02}:00Z"),
                value: *v,
                spread: spread.then_some(Spread {
                    lower: v * 0.95,
                    upper: v * 1.1,
                    kind: SpreadKind::MinMax,
                    level: None,
                }),
            })
            .collect();
        let key = SeriesKey { metric, case: strategy.into(), dataset: "10k".into(), workload: Some(Workload::UNIFORM) };
        Series { key, points }
    }

    #[test]
    fn the_caption_says_which_figures_have_error_bars() {
        let counts = series("mmap-index", Metric::Instructions, &[566.5, 582.5], false);
        let note = spread_note(Family::Instructions, &[&counts]);
        assert!(note.starts_with("no error bars: an instruction count is one deterministic count"), "{note}");
        let (mean, p50) = (
            series("hashmap", Metric::LookupMean, &[40.0, 41.0], true),
            series("hashmap", Metric::LatencyP50, &[70.0, 70.0], false),
        );
        let note = spread_note(Family::WallClock, &[&mean, &p50]);
        assert!(note.contains("min-max of its timed rounds) for lookup_mean; the other figures"), "{note}");
    }

    #[test]
    fn the_report_marks_spreads_and_the_gates_verdicts_and_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let all = [
            series("mmap-index", Metric::Instructions, &[566.5, 566.5, 620.0, 620.0], false),
            series("hashmap", Metric::LookupMean, &[40.0, 41.0, 40.0, 30.0], true),
        ];
        let mark = |key: &SeriesKey, commit: &str, previous: &str, verdict, change| GateMark {
            key: key.clone(),
            commit: commit.into(),
            previous: previous.into(),
            verdict,
            change: Some(change),
        };
        let marks = [
            mark(&all[0].key, "c02", "c01", Verdict::Regressed, 620.0 / 566.5 - 1.0),
            mark(&all[1].key, "c03", "c02", Verdict::Improved, -0.25),
        ];
        let written = write_report("runs", 4, &all, &[], &marks, dir.path()).unwrap();
        assert_eq!(written.len(), 6, "two charts in two formats, README.md, index.html: {written:?}");
        let readme = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
        assert!(readme.contains("4 runs, 2 figures; 0 with a step or a drift"), "{readme}");
        assert!(
            readme.contains("| mmap-index 10k uniform instructions | c02 (against c01) | REGRESSED | +9.4 % |"),
            "{readme}"
        );
        assert!(
            readme.contains("| hashmap 10k uniform lookup_mean | c03 (against c02) | improved | -25.0 % |"),
            "{readme}"
        );
        assert!(readme.contains("1 regressed, 1 improved") && readme.contains("![trend-wall-clock.png]"));
        let page = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
        assert!(page.contains("<td>REGRESSED</td>") && page.contains("<code>kvbench history report</code>"), "{page}");
        assert!(page.contains("<img src=\"trend-instructions.png\""), "{page}");
        let svg = std::fs::read_to_string(dir.path().join("trend-wall-clock.svg")).unwrap();
        assert!(svg.contains("bars: each run"), "the caption names the bars");
        let svg = std::fs::read_to_string(dir.path().join("trend-instructions.svg")).unwrap();
        assert!(svg.contains("no error bars: an instruction count"));
        // The regression's marker: a filled red polygon (plotters draws a triangle as one).
        assert!(svg.contains("<polygon") && svg.contains("#C80000"), "the gate's regression is marked");
    }

    #[test]
    fn metrics_fall_into_their_family() {
        assert_eq!(Family::of(Metric::Instructions), Some(Family::Instructions));
        assert_eq!(Family::of(Metric::LatencyP99), Some(Family::WallClock));
        assert_eq!(Family::of(Metric::HeapBytes), Some(Family::Memory));
        assert_eq!(Family::of(Metric::HitRate), None);
    }
}
