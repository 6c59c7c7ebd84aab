//! Export to Bencher Metric Format (BMF), so results can be pushed to a
//! tracking service: `{ "<benchmark>": { "<measure>": { "value", "lower_value", "upper_value" } } }`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::schema::{Record, ResultSet};

/// One measure of one benchmark in BMF.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Measure {
    /// The value.
    pub value: f64,
    /// Lower bound, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower_value: Option<f64>,
    /// Upper bound, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper_value: Option<f64>,
}

/// Benchmarks by name (`<source>/<dataset>/<workload>/<strategy>`), then measures by metric name.
pub type Bmf = BTreeMap<String, BTreeMap<String, Measure>>;

/// Converts result sets to BMF. The source (`criterion`, `suite`) leads each
/// name, so the two harnesses' figures for the same measurement never overwrite
/// each other.
pub fn from_sets<'a>(sets: impl IntoIterator<Item = &'a ResultSet>) -> Bmf {
    let mut bmf = Bmf::new();
    for set in sets {
        let source = if set.source.starts_with("criterion") { "criterion" } else { "suite" };
        add(&mut bmf, source, &set.records);
    }
    bmf
}

/// Converts records of one source to BMF; a later record of the same benchmark and metric wins.
pub fn from_records<'a>(source: &str, records: impl IntoIterator<Item = &'a Record>) -> Bmf {
    let mut bmf = Bmf::new();
    add(&mut bmf, source, records);
    bmf
}

fn add<'a>(bmf: &mut Bmf, source: &str, records: impl IntoIterator<Item = &'a Record>) {
    for r in records {
        let name = format!("{source}/{}/{}/{}", r.dataset.label(), r.workload_label(), r.case);
        let measure =
            Measure { value: r.value, lower_value: r.spread.map(|s| s.lower), upper_value: r.spread.map(|s| s.upper) };
        bmf.entry(name).or_default().insert(r.metric.name().to_owned(), measure);
    }
}
