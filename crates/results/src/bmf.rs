//! Export to Bencher Metric Format (BMF), so results can be pushed to a
//! tracking service: `{ "<benchmark>": { "<measure>": { "value", "lower_value", "upper_value" } } }`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::schema::Record;

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

/// Benchmarks by name (`<dataset>/<workload>/<strategy>`), then measures by metric name.
pub type Bmf = BTreeMap<String, BTreeMap<String, Measure>>;

/// Converts records to BMF; a later record of the same benchmark and metric wins.
pub fn from_records<'a>(records: impl IntoIterator<Item = &'a Record>) -> Bmf {
    let mut bmf = Bmf::new();
    for r in records {
        let name = format!("{}/{}/{}", r.dataset.label(), r.workload, r.strategy);
        let measure =
            Measure { value: r.value, lower_value: r.spread.map(|s| s.lower), upper_value: r.spread.map(|s| s.upper) };
        bmf.entry(name).or_default().insert(r.metric.name().to_owned(), measure);
    }
    bmf
}
