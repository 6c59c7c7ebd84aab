//! Latency against memory budget: each strategy's p50 of uniform lookups
//! under several cgroup memory limits (`kvbench suite --memory-sweep`).
//!
//! A limit counts the page cache, so it answers the question users bring ("I
//! have N bytes: how fast is each strategy?"), where a resident-memory reading
//! taken with the whole file cached would not. The same case without a limit
//! is drawn hollow at the memory it held resident after its lookups: what it
//! used when nothing pushed back.

use kvbench_results::units::{bytes, nanos};
use kvbench_results::{CaseId, DatasetInfo, Metric, Record, Workload};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, max_or, min_or};
use crate::data::{Data, Source};
use crate::style::{FONT, color};

/// One case's measured points: `(memory limit in bytes, p50 in ns)`, by increasing limit.
pub type Line = (CaseId, Vec<(u64, f64)>);

/// Per case measured under a limit on `dataset`, in the order first recorded:
/// its uniform p50 under each limit. A limit recorded twice (two sweeps read
/// together) keeps its first figure, as [`Data::value`] does; a p50 that is
/// not positive (the clock's cost subtracted past the lookup) is left out,
/// since a log axis cannot place it.
pub fn lines(data: &Data, dataset: &DatasetInfo) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let measured = data.limited().filter(|r| {
        r.dataset == *dataset
            && r.workload == Some(Workload::UNIFORM)
            && r.metric == Metric::LatencyP50
            && r.value > 0.0
            && r.value.is_finite()
    });
    for r in measured {
        let Some(limit) = r.memory_limit else { continue };
        match lines.iter_mut().find(|(case, _)| *case == r.case) {
            Some((_, points)) => points.push((limit, r.value)),
            None => lines.push((r.case.clone(), vec![(limit, r.value)])),
        }
    }
    for (_, points) in &mut lines {
        // A stable sort keeps the first of two figures at one limit in front for `dedup`.
        points.sort_by_key(|p| p.0);
        points.dedup_by_key(|p| p.0);
    }
    lines
}

/// The same case without a limit on `dataset`: `(resident bytes after its
/// lookups, uniform p50 in ns)`. Resident is anonymous plus file-backed memory,
/// plus its server's where it asks one (`redis`), as the suite charges it;
/// `None` when either figure is missing.
pub fn unlimited(data: &Data, case: &CaseId, dataset: &DatasetInfo) -> Option<(f64, f64)> {
    let find = |workload: Option<Workload>, metric: Metric| {
        data.records(Source::Suite)
            .find(|r: &&Record| {
                r.case == *case && r.dataset == *dataset && r.workload == workload && r.metric == metric
            })
            .map(|r| r.value)
    };
    let resident = find(None, Metric::AnonRssBytes)?
        + find(None, Metric::FileRssBytes)?
        + find(None, Metric::ServerRss).unwrap_or(0.0);
    let p50 = find(Some(Workload::UNIFORM), Metric::LatencyP50).filter(|v| *v > 0.0)?;
    Some((resident, p50))
}

/// The datasets with a sweep (some case measured under two limits or more), smallest first.
pub fn swept(data: &Data) -> Vec<DatasetInfo> {
    let mut datasets: Vec<DatasetInfo> = Vec::new();
    for r in data.limited() {
        if !datasets.contains(&r.dataset) {
            datasets.push(r.dataset.clone());
        }
    }
    datasets.retain(|d| lines(data, d).iter().any(|(_, points)| points.len() >= 2));
    datasets.sort_by(|a, b| (a.keys, &a.value_len).cmp(&(b.keys, &b.value_len)));
    datasets
}

/// The chart needs a memory sweep.
pub fn missing(data: &Data) -> Option<String> {
    swept(data).is_empty().then(|| {
        "needs uniform p50 latencies of a case under two memory limits or more: run `kvbench suite --memory-sweep`"
            .into()
    })
}

/// How a panel names its dataset: `1M keys`, or a user's file by its name.
fn name(dataset: &DatasetInfo) -> String {
    match &dataset.file {
        Some(file) => file.name.clone(),
        None => format!("{} keys", dataset.label()),
    }
}

/// Draws the chart: the largest swept dataset, and the next largest beside it where there is one.
pub fn draw<DB: DrawingBackend>(data: &Data, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let swept = swept(data);
    // Two panels at most: more would leave each too narrow to read.
    let shown = &swept[swept.len().saturating_sub(2)..];
    if shown.is_empty() {
        return Ok(());
    }
    // `1M and 10M keys`, unless a user's file is among them (named by its file name).
    let names = if shown.iter().all(|d| d.file.is_none()) {
        format!("{} keys", shown.iter().map(DatasetInfo::label).collect::<Vec<_>>().join(" and "))
    } else {
        shown.iter().map(name).collect::<Vec<_>>().join(" and ")
    };
    let title = format!("Latency against memory budget, {names} (p50 of uniform lookups, page cache counted)");
    let root = root.titled(&title, (FONT, 22))?;
    let areas = root.split_evenly((1, shown.len()));
    for (area, dataset) in areas.iter().zip(shown) {
        panel(data, area, dataset)?;
    }
    Ok(())
}

/// One dataset's panel: a line per case over the limits, its unlimited point
/// hollow, and the file's size where the records know it.
fn panel<DB: DrawingBackend>(data: &Data, area: &DrawingArea<DB, Shift>, dataset: &DatasetInfo) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let lines = lines(data, dataset);
    let free: Vec<(CaseId, (f64, f64))> =
        lines.iter().filter_map(|(case, _)| Some((case.clone(), unlimited(data, case, dataset)?))).collect();
    // Only a user's file carries its size in the records; a generated dataset's is not known here.
    let file_bytes = dataset.file.as_ref().map(|f| f.bytes as f64).filter(|b| *b > 0.0);
    let xs = || {
        lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|p| p.0 as f64))
            .chain(free.iter().map(|(_, p)| p.0))
            .chain(file_bytes)
    };
    let ys = || lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)).chain(free.iter().map(|(_, p)| p.1));
    let (x_lo, x_hi) = (min_or(xs(), 1.5, 1e6), max_or(xs(), 1.5, 1e9));
    // Room above the slowest point for the legend: the lines fall from the upper left (small budgets).
    let (y_lo, y_hi) = (min_or(ys(), 2.0, 100.0), max_or(ys(), 5.0, 1e6));
    let mut chart = ChartBuilder::on(area)
        .caption(name(dataset), (FONT, 18))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(80)
        // Base 2: the labels fall on round sizes (64 MiB, 1 GiB) rather than on powers of ten bytes.
        .build_cartesian_2d((x_lo..x_hi).log_scale().base(2.0), (y_lo..y_hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("memory limit, page cache counted (log scale)")
        .x_label_formatter(&|v| bytes(*v))
        .y_desc("p50 latency, uniform keys (log scale)")
        .y_label_formatter(&|v| nanos(*v))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    if let Some(file) = file_bytes {
        chart
            .draw_series(DashedLineSeries::new([(file, y_lo), (file, y_hi)], 2, 4, BLACK.stroke_width(1)))?
            .label(format!("file size ({})", bytes(file)))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 4, y), (x + 8, y), (x + 12, y)], BLACK.stroke_width(1)));
    }
    for (case, points) in &lines {
        let c = color(&case.to_string());
        let points: Vec<(f64, f64)> = points.iter().map(|(limit, p50)| (*limit as f64, *p50)).collect();
        chart
            .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(3)))?
            .label(case.to_string())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(3)));
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, c.filled())))?;
        let Some((_, at)) = free.iter().find(|(c, _)| c == case) else { continue };
        // Joined to the largest limit measured: going right, the budget grows
        // until nothing limits the case, so the segment continues its line.
        if let Some(last) = points.last() {
            chart.draw_series(DashedLineSeries::new([*last, *at], 6, 4, c.stroke_width(2)))?;
        }
        chart.draw_series([Circle::new(*at, 6, c.stroke_width(2))])?;
    }
    if !free.is_empty() {
        // One legend entry for every hollow marker: the colour already names the case.
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("no limit, at its resident memory after lookups")
            .legend(|(x, y)| Circle::new((x + 10, y), 6, BLACK.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use kvbench_results::{CaseStart, DEFAULT_VALUE_LEN, FileInfo, LenSummary, ResultSet, RunInfo, Skipped};

    use super::*;

    fn ds(keys: u64) -> DatasetInfo {
        DatasetInfo::generated(keys, DEFAULT_VALUE_LEN)
    }

    fn reopen(strategy: &str) -> CaseId {
        CaseId::new(strategy, Some(CaseStart::Reopen))
    }

    /// A record of `case` on `dataset`, under `limit` where given.
    fn rec(
        case: &CaseId,
        dataset: &DatasetInfo,
        uniform: bool,
        metric: Metric,
        value: f64,
        limit: Option<u64>,
    ) -> Record {
        let workload = uniform.then_some(Workload::UNIFORM);
        let mut r = Record::new(case.clone(), dataset, workload, metric, value, &RunInfo::detect(false));
        r.memory_limit = limit;
        r
    }

    const MB: u64 = 1 << 20;

    /// A sweep on 1M keys: mmap-index under three limits (given out of order),
    /// hashmap under one (skipped under the others), and both without a limit;
    /// 10k keys has a single limited figure, which is no sweep.
    fn sweep() -> ResultSet {
        let mut set = ResultSet::new("kvbench suite");
        let (index, map, big, small) = (reopen("mmap-index"), CaseId::plain("hashmap"), ds(1_000_000), ds(10_000));
        for (limit, p50) in [(64 * MB, 900.0), (16 * MB, 40_000.0), (96 * MB, 650.0)] {
            set.records.push(rec(&index, &big, true, Metric::LatencyP50, p50, Some(limit)));
            set.records.push(rec(&index, &big, true, Metric::MajorFaultsPerLookup, 0.5, Some(limit)));
        }
        set.records.push(rec(&map, &big, true, Metric::LatencyP50, 500.0, Some(96 * MB)));
        // A p99 and a figure of another workload under a limit are not the line's.
        set.records.push(rec(&map, &big, true, Metric::LatencyP99, 2_000.0, Some(64 * MB)));
        set.records.push(rec(&map, &big, false, Metric::OpenTime, 1e6, Some(64 * MB)));
        for (case, anon, file, p50) in [(&index, 0.0, 80.0 * MB as f64, 600.0), (&map, 90.0 * MB as f64, 0.0, 450.0)] {
            set.records.push(rec(case, &big, false, Metric::AnonRssBytes, anon, None));
            set.records.push(rec(case, &big, false, Metric::FileRssBytes, file, None));
            set.records.push(rec(case, &big, true, Metric::LatencyP50, p50, None));
        }
        set.records.push(rec(&index, &small, true, Metric::LatencyP50, 300.0, Some(MB)));
        set.skipped.push(Skipped {
            case: map.clone(),
            dataset: big,
            reason: "needs ~90 MiB of memory".into(),
            memory_limit: Some(64 * MB),
        });
        set
    }

    #[test]
    fn each_case_is_a_line_of_its_p50_by_increasing_limit() {
        let data = Data::from_sets(vec![sweep()]);
        let lines = lines(&data, &ds(1_000_000));
        assert_eq!(
            lines,
            [
                (reopen("mmap-index"), vec![(16 * MB, 40_000.0), (64 * MB, 900.0), (96 * MB, 650.0)]),
                // Skipped under 64 MiB: that point is simply absent.
                (CaseId::plain("hashmap"), vec![(96 * MB, 500.0)]),
            ]
        );
        assert_eq!(super::lines(&data, &ds(10_000)), [(reopen("mmap-index"), vec![(MB, 300.0)])]);
    }

    #[test]
    fn the_unlimited_point_is_resident_memory_and_p50_without_a_limit() {
        let mut set = sweep();
        let map = CaseId::plain("hashmap");
        let data = Data::from_sets(vec![set.clone()]);
        assert_eq!(unlimited(&data, &reopen("mmap-index"), &ds(1_000_000)), Some((80.0 * MB as f64, 600.0)));
        assert_eq!(unlimited(&data, &map, &ds(1_000_000)), Some((90.0 * MB as f64, 450.0)));
        // A server's memory is the case's too.
        set.records.push(rec(&map, &ds(1_000_000), false, Metric::ServerRss, 10.0 * MB as f64, None));
        let data = Data::from_sets(vec![set]);
        assert_eq!(unlimited(&data, &map, &ds(1_000_000)), Some((100.0 * MB as f64, 450.0)));
        assert_eq!(unlimited(&data, &map, &ds(10_000)), None, "nothing measured there without a limit");
    }

    #[test]
    fn only_a_case_under_two_limits_makes_a_sweep() {
        let data = Data::from_sets(vec![sweep()]);
        assert_eq!(swept(&data), [ds(1_000_000)]);
        assert_eq!(missing(&data), None);
        let mut one_limit = sweep();
        one_limit.records.retain(|r| r.memory_limit.is_none_or(|l| l == 96 * MB || l == MB));
        let reason = missing(&Data::from_sets(vec![one_limit])).unwrap_or_default();
        assert!(reason.contains("kvbench suite --memory-sweep"), "{reason}");
    }

    #[test]
    fn the_same_limit_read_twice_keeps_the_first_figure() {
        let mut again = sweep();
        for r in &mut again.records {
            r.value *= 10.0;
        }
        let data = Data::from_sets(vec![sweep(), again]);
        let lines = lines(&data, &ds(1_000_000));
        assert_eq!(lines[0].1, [(16 * MB, 40_000.0), (64 * MB, 900.0), (96 * MB, 650.0)]);
    }

    /// `set` drawn as an SVG, as text.
    fn drawn(set: ResultSet) -> String {
        crate::style::register_fonts();
        let data = Data::from_sets(vec![set]);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, crate::style::SIZE).into_drawing_area();
            draw(&data, &root).unwrap();
            root.present().unwrap();
        }
        svg
    }

    #[test]
    fn a_users_file_is_named_and_its_size_marked() {
        let summary = LenSummary { min: 1, median: 30, p99: 40, max: 50 };
        let file = FileInfo {
            name: "prices.txt".into(),
            bytes: 70 * MB,
            records: 1_000_000,
            distinct_keys: 1_000_000,
            duplicates: 0,
            skipped: 0,
            key_len: summary,
            value_len: summary,
            fingerprint: "00".into(),
        };
        let (from, to) = (ds(1_000_000), DatasetInfo::file(file));
        let mut set = sweep();
        for r in &mut set.records {
            if r.dataset == from {
                r.dataset = to.clone();
            }
        }
        let svg = drawn(set);
        for text in [
            "Latency against memory budget, prices.txt (p50 of uniform lookups, page cache counted)",
            "file size (70 MiB)",
            "mmap-index (reopen)",
            "no limit, at its resident memory after lookups",
        ] {
            assert!(svg.contains(text), "lacks {text:?}");
        }
    }

    #[test]
    fn a_generated_dataset_has_no_file_size_to_mark() {
        let svg = drawn(sweep());
        assert!(svg.contains("Latency against memory budget, 1M keys (p50"), "the 10k run is no sweep");
        assert!(!svg.contains("file size"));
    }
}
