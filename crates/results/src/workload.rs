//! Workloads as results name them: an access pattern over a file's keys, a
//! fraction of absent keys and a batch size, written `zipf:0.99,miss=0.1`.
//!
//! The descriptor lives here, beside the records that name it, so a record's
//! workload is a parsed value rather than a label; `kvbench-workload` re-exports
//! it and adds the key streams (`kvbench_workload::KeyStreams`).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which present keys are asked for, and how often.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Access {
    /// Every key equally likely.
    Uniform,
    /// Zipf over a fixed random ranking of the keys, with exponent `theta`
    /// (YCSB uses 0.99): a few keys take most lookups.
    Zipf {
        /// Skew: 0 is uniform, ~1 is heavily skewed.
        theta: f64,
    },
    /// Zipf over recency: the last keys of the file are the most popular
    /// (YCSB's "latest", for data appended over time).
    Latest {
        /// Skew, as for [`Access::Zipf`].
        theta: f64,
    },
}

/// A workload: an access pattern, a fraction of lookups for absent keys, and
/// how many keys each call asks for.
/// Two workloads are equal, ordered and hashed as their labels (`Display`),
/// the canonical form a parse gives back: results sort as they did when the
/// label was stored as a string.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// How present keys are picked.
    pub access: Access,
    /// Fraction of lookups (0..=1) that ask for a key the file does not hold.
    pub miss_fraction: f64,
    /// Keys per call: 1 asks one at a time (`Lookup::get`), more asks them in
    /// batches (`Lookup::get_many`), and figures are then time per key.
    pub batch: usize,
}

/// The largest batch a workload may ask for.
pub const MAX_BATCH: usize = 4096;

impl Workload {
    /// Uniform over present keys, no misses.
    pub const UNIFORM: Workload = Workload { access: Access::Uniform, miss_fraction: 0.0, batch: 1 };
    /// Only absent keys.
    pub const MISS: Workload = Workload { access: Access::Uniform, miss_fraction: 1.0, batch: 1 };
    /// Zipf 0.99 over present keys, as YCSB.
    pub const ZIPF: Workload = Workload { access: Access::Zipf { theta: 0.99 }, miss_fraction: 0.0, batch: 1 };

    /// The same keys, asked `batch` at a time.
    pub fn batched(self, batch: usize) -> Workload {
        Workload { batch, ..self }
    }
}

impl PartialEq for Workload {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Workload {}

impl PartialOrd for Workload {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Workload {
    fn cmp(&self, other: &Self) -> Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl Hash for Workload {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.to_string().hash(state);
    }
}

/// Written as its label, `"zipf:0.99"`, so result files stay readable.
impl Serialize for Workload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Workload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        label.parse().map_err(serde::de::Error::custom)
    }
}

/// `uniform`, `zipf:0.99`, `latest:0.99`, `miss`, or any of these with
/// `,miss=F` and then `,batch=N`.
impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.miss_fraction >= 1.0 {
            f.write_str("miss")?;
        } else {
            match self.access {
                Access::Uniform => f.write_str("uniform")?,
                Access::Zipf { theta } => write!(f, "zipf:{theta}")?,
                Access::Latest { theta } => write!(f, "latest:{theta}")?,
            }
            if self.miss_fraction > 0.0 {
                write!(f, ",miss={}", self.miss_fraction)?;
            }
        }
        if self.batch > 1 {
            write!(f, ",batch={}", self.batch)?;
        }
        Ok(())
    }
}

/// Why a workload could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid workload {0:?}: expected uniform, zipf[:THETA], latest[:THETA] or miss, optionally followed by \
     ,miss=FRACTION and ,batch=N (1 to {max} keys per call)",
    max = MAX_BATCH
)]
pub struct ParseWorkloadError(String);

impl FromStr for Workload {
    type Err = ParseWorkloadError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseWorkloadError(s.to_owned());
        let mut parts = s.split(',');
        let access = parts.next().unwrap_or_default();
        let theta = |t: Option<&str>| -> Result<f64, ParseWorkloadError> {
            match t {
                None => Ok(0.99),
                Some(t) => t.parse().ok().filter(|t: &f64| t.is_finite() && *t >= 0.0).ok_or_else(err),
            }
        };
        let (name, arg) = match access.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (access, None),
        };
        let mut workload = match name {
            "uniform" if arg.is_none() => Workload::UNIFORM,
            "miss" if arg.is_none() => Workload::MISS,
            "zipf" => Workload { access: Access::Zipf { theta: theta(arg)? }, ..Workload::UNIFORM },
            "latest" => Workload { access: Access::Latest { theta: theta(arg)? }, ..Workload::UNIFORM },
            _ => return Err(err()),
        };
        let (mut miss, mut batch) = (None, None);
        for option in parts {
            match option.split_once('=') {
                Some(("miss", f)) if miss.is_none() && name != "miss" => miss = Some(f),
                Some(("batch", n)) if batch.is_none() => batch = Some(n),
                _ => return Err(err()),
            }
        }
        if let Some(miss) = miss {
            workload.miss_fraction = miss.parse().ok().filter(|m| (0.0..=1.0).contains(m)).ok_or_else(err)?;
        }
        if let Some(batch) = batch {
            workload.batch = batch.parse().ok().filter(|n| (1..=MAX_BATCH).contains(n)).ok_or_else(err)?;
        }
        Ok(workload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in [
            "uniform",
            "miss",
            "zipf:0.99",
            "latest:0.5",
            "uniform,miss=0.1",
            "zipf:1.2,miss=0.5",
            "uniform,batch=64",
            "miss,batch=16",
            "zipf:0.99,miss=0.1,batch=4096",
        ] {
            assert_eq!(s.parse::<Workload>().unwrap().to_string(), s);
        }
        assert_eq!("zipf".parse::<Workload>().unwrap(), Workload::ZIPF);
        for bad in [
            "",
            "zipf:-1",
            "zipf:x",
            "uniform:1",
            "uniform,miss=2",
            "uniform,hit=0.1",
            "gauss",
            "uniform,batch=0",
            "uniform,batch=4097",
            "uniform,batch=64,batch=2",
            "miss,miss=0.5",
        ] {
            assert!(bad.parse::<Workload>().is_err(), "{bad}");
        }
    }

    #[test]
    fn serialized_as_its_label_and_ordered_as_it() {
        let w: Workload = "zipf:0.99,batch=4".parse().unwrap();
        assert_eq!(serde_json::to_string(&w).unwrap(), r#""zipf:0.99,batch=4""#);
        assert_eq!(serde_json::from_str::<Workload>(r#""zipf:0.99,batch=4""#).unwrap(), w);
        assert!(serde_json::from_str::<Workload>(r#""uniform@cold""#).is_err());
        let mut sorted: Vec<Workload> = ["zipf:0.99", "uniform,batch=4", "miss", "uniform,batch=16", "uniform"]
            .map(|s| s.parse().unwrap())
            .to_vec();
        sorted.sort();
        let labels: Vec<String> = sorted.iter().map(Workload::to_string).collect();
        assert_eq!(labels, ["miss", "uniform", "uniform,batch=16", "uniform,batch=4", "zipf:0.99"]);
    }
}
