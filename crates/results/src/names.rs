//! Names that the code writing records and the code reading them must spell
//! alike: the report finds its conclusions' inputs by these, so a name changed
//! on one side only would silently drop a conclusion. Both sides use them from here.
//!
//! What identifies a record is typed: [`CaseId`] (a strategy and its
//! [`CaseStart`]) and a parsed [`Workload`], so the readers match on fields
//! rather than on labels parsed back; the labels are only made, for people.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::workload::{ParseWorkloadError, Workload};

/// The value-length distribution of the default datasets (`kvbench gen`'s
/// default), which labels leave out and most charts compare strategies on.
pub const DEFAULT_VALUE_LEN: &str = "normal:30,5";

/// Keys of the base dataset of the load runs (`kvbench bench macro`), around which one thing varies at a time.
pub const BASE_KEYS: u64 = 1_000_000;

/// Client connections of the base load; open loops run at this many.
pub const BASE_CONNECTIONS: u32 = 64;

/// The suite's pseudo-strategy for one `memchr` pass over the file: the floor a full scan compares to.
pub const MEMCHR_PASS: &str = "memchr pass";

/// The naive line-by-line strategy, kept only as a baseline to compare with:
/// measured everywhere, never recommended.
pub const NAIVE_BASELINE: &str = "scan-lines";

/// The load runs' name for a real `redis-server` peer.
pub const REDIS_SERVER: &str = "redis-server";

/// The load runs' name for a Redis Cluster of `redis-server` primaries loaded
/// directly, each key asked of its node by a cluster-aware client (no proxy).
pub const REDIS_CLUSTER_SERVER: &str = "redis-cluster-server";

/// The load runs' name for the seed-style Python dict behind `http.server`.
pub const PYTHON_DICT: &str = "python-dict";

/// How a suite case started its strategy, when not plainly warm. Serialized
/// in lowercase (`"start": "reopen"`) and shown as the suffix of its label,
/// e.g. `mmap-index (reopen)`.
///
/// Declared in the alphabetical order of those words, so that cases sort as
/// their labels did when results stored them as strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseStart {
    /// The index was built afresh (its sidecar deleted first).
    Build,
    /// The page cache was dropped first; only the first lookups are timed.
    Cold,
    /// The index was reopened from its sidecar.
    Reopen,
}

impl CaseStart {
    /// Every start, for parsing the labels of files written before schema 8.
    pub const ALL: [CaseStart; 3] = [CaseStart::Build, CaseStart::Cold, CaseStart::Reopen];

    /// The word of this start in a label and in files: `reopen`.
    pub fn word(self) -> &'static str {
        match self {
            CaseStart::Build => "build",
            CaseStart::Cold => "cold",
            CaseStart::Reopen => "reopen",
        }
    }
}

/// What a record measured: a strategy (or server, or program) by name, and how
/// its case started. Files hold the two apart (`"strategy": "mmap-index",
/// "start": "reopen"`); people read the label, `mmap-index (reopen)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseId {
    /// The strategy's name, e.g. `mmap-index` or `lru(0.5,hashmap)`.
    pub strategy: String,
    /// How the case started; `None` for a plain (warm) case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<CaseStart>,
}

impl CaseId {
    /// The case of `strategy` started `start`.
    pub fn new(strategy: impl Into<String>, start: Option<CaseStart>) -> Self {
        CaseId { strategy: strategy.into(), start }
    }

    /// The plain (warm) case of `strategy`.
    pub fn plain(strategy: impl Into<String>) -> Self {
        CaseId::new(strategy, None)
    }

    /// Whether the case started `start`.
    pub fn started(&self, start: CaseStart) -> bool {
        self.start == Some(start)
    }

    /// Whether this is the plain case of the strategy named `strategy`.
    pub fn is_plain(&self, strategy: &str) -> bool {
        self.start.is_none() && self.strategy == strategy
    }

    /// The case a label of a file written before schema 8 names:
    /// `mmap-index (reopen)` is `mmap-index` reopened, anything else plain.
    pub fn from_label(label: &str) -> Self {
        CaseStart::ALL
            .into_iter()
            .find_map(|start| {
                let name = label.strip_suffix(&format!(" ({})", start.word()))?;
                Some(CaseId::new(name, Some(start)))
            })
            .unwrap_or_else(|| CaseId::plain(label))
    }
}

/// A plain case of the strategy so named (a record's strategy outside the suite).
impl From<&str> for CaseId {
    fn from(strategy: &str) -> Self {
        CaseId::plain(strategy)
    }
}

/// A plain case of the strategy so named.
impl From<&String> for CaseId {
    fn from(strategy: &String) -> Self {
        CaseId::plain(strategy.as_str())
    }
}

/// A plain case of the strategy so named.
impl From<String> for CaseId {
    fn from(strategy: String) -> Self {
        CaseId::plain(strategy)
    }
}

/// The label people read: `mmap-index`, `mmap-index (reopen)`.
impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.strategy)?;
        if let Some(start) = self.start {
            write!(f, " ({})", start.word())?;
        }
        Ok(())
    }
}

/// The label of a record's workload as files before schema 8 stored it, and
/// as BMF benchmark names and comparison tables still spell it: `-` for none,
/// `uniform@cold` for a cold case's first lookups.
pub fn workload_label(workload: Option<&Workload>, start: Option<CaseStart>) -> String {
    match (workload, start) {
        (None, _) => NO_WORKLOAD.to_owned(),
        (Some(w), Some(CaseStart::Cold)) => format!("{w}{COLD_SUFFIX}"),
        (Some(w), _) => w.to_string(),
    }
}

/// The workload a label of [`workload_label`]'s form names, still to be
/// parsed: `None` for `-`, `uniform` for `uniform@cold`.
pub fn unlabel_workload(label: &str) -> Option<&str> {
    (label != NO_WORKLOAD).then(|| label.strip_suffix(COLD_SUFFIX).unwrap_or(label))
}

/// The workload a label of [`workload_label`]'s form names, parsed: `-` is
/// none, `uniform@cold` is `uniform` (criterion's benchmark ids spell them so).
pub fn parse_workload_label(label: &str) -> Result<Option<Workload>, ParseWorkloadError> {
    unlabel_workload(label).map(str::parse).transpose()
}

/// How files before schema 8 wrote "no workload".
const NO_WORKLOAD: &str = "-";

/// How files before schema 8 marked a cold case's workload: `uniform@cold`.
const COLD_SUFFIX: &str = "@cold";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_shows_its_label_and_old_labels_read_back() {
        let reopen = CaseId::new("mmap-index", Some(CaseStart::Reopen));
        assert_eq!(reopen.to_string(), "mmap-index (reopen)");
        assert_eq!(CaseId::from_label("mmap-index (reopen)"), reopen);
        assert_eq!(CaseId::from_label("scan (cold)"), CaseId::new("scan", Some(CaseStart::Cold)));
        assert_eq!(CaseId::from_label("lru(0.1,hashmap)"), CaseId::plain("lru(0.1,hashmap)"));
        assert_eq!(CaseId::from_label("redis-cluster node 1"), CaseId::plain("redis-cluster node 1"));
        let json = serde_json::to_string(&reopen).unwrap();
        assert_eq!(json, r#"{"strategy":"mmap-index","start":"reopen"}"#);
        assert_eq!(serde_json::to_string(&CaseId::plain("scan")).unwrap(), r#"{"strategy":"scan"}"#);
    }

    #[test]
    fn cases_sort_as_their_labels() {
        let labels = ["scan-lines", "scan (cold)", "scan", "mmap-index (reopen)", "mmap-index", "mmap-index (build)"];
        let mut cases: Vec<CaseId> = labels.iter().map(|l| CaseId::from_label(l)).collect();
        cases.sort();
        let mut sorted = labels;
        sorted.sort();
        assert_eq!(cases.iter().map(CaseId::to_string).collect::<Vec<_>>(), sorted);
    }

    #[test]
    fn workload_labels_spell_the_old_form() {
        let uniform = Workload::UNIFORM;
        assert_eq!(workload_label(None, Some(CaseStart::Cold)), "-");
        assert_eq!(workload_label(Some(&uniform), Some(CaseStart::Cold)), "uniform@cold");
        assert_eq!(workload_label(Some(&uniform), Some(CaseStart::Reopen)), "uniform");
        assert_eq!([unlabel_workload("-"), unlabel_workload("uniform@cold")], [None, Some("uniform")]);
    }
}
