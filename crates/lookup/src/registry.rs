//! Choosing a strategy: its name, its configuration, and opening it.
//!
//! Adding a strategy means one file, one [`StrategyKind`] variant and one arm
//! in [`open`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::OpenError;
use crate::fst_index::{FstIndex, default_fst_path};
use crate::hashmap::HashMapLookup;
use crate::lru::Lru;
use crate::mmap_index::{MmapIndex, default_sidecar_path};
use crate::phf_index::{PhfIndex, default_phf_path};
use crate::scan::Scan;
use crate::scan_lines::ScanLines;
use crate::store::EngineLookup;
use crate::store::default_store_path;
use crate::warming::Warming;
use crate::{Lookup, OpenOptions};

/// The strategies by name, as the CLI and results spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StrategyKind {
    /// Naive line-by-line read of the file on every lookup (baseline).
    ScanLines,
    /// memmem search of the mmapped file on every lookup.
    Scan,
    /// All records in a packed in-memory ahash table.
    HashMap,
    /// Mmapped file + sorted hash index persisted in a sidecar file.
    MmapIndex,
    /// Mmapped file + minimal perfect hash to slots, persisted in a sidecar file.
    PhfIndex,
    /// LRU cache of a fraction of the keys over another strategy.
    Lru,
    /// Scan until a background-built hashmap is ready.
    Warming,
    /// Mmapped file + a finite-state transducer from keys to offsets, in a sidecar file.
    Fst,
    /// The records in an LMDB environment (heed).
    Lmdb,
    /// The records in a SQLite `WITHOUT ROWID` table (rusqlite, bundled).
    Sqlite,
    /// The records in a constant database (cdb2).
    Cdb,
    /// The records in a redb table.
    Redb,
    /// The same lookups over a real Redis server (loaded from the data file).
    Redis,
    /// The same lookups over a Redis Cluster's primaries (loaded from the data file).
    RedisCluster,
}

impl StrategyKind {
    /// Every strategy, in the order tables list them.
    pub const ALL: [StrategyKind; 14] = [
        StrategyKind::ScanLines,
        StrategyKind::Scan,
        StrategyKind::HashMap,
        StrategyKind::MmapIndex,
        StrategyKind::PhfIndex,
        StrategyKind::Lru,
        StrategyKind::Warming,
        StrategyKind::Fst,
        StrategyKind::Lmdb,
        StrategyKind::Sqlite,
        StrategyKind::Cdb,
        StrategyKind::Redb,
        StrategyKind::Redis,
        StrategyKind::RedisCluster,
    ];

    /// The embedded engines a user might pick instead of kvbench's own strategies.
    pub const ENGINES: [StrategyKind; 5] =
        [StrategyKind::Fst, StrategyKind::Lmdb, StrategyKind::Sqlite, StrategyKind::Cdb, StrategyKind::Redb];

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::ScanLines => "scan-lines",
            StrategyKind::Scan => "scan",
            StrategyKind::HashMap => "hashmap",
            StrategyKind::MmapIndex => "mmap-index",
            StrategyKind::PhfIndex => "phf-index",
            StrategyKind::Lru => "lru",
            StrategyKind::Warming => "warming",
            StrategyKind::Redis => "redis",
            StrategyKind::RedisCluster => "redis-cluster",
            StrategyKind::Fst => "fst",
            StrategyKind::Lmdb => "lmdb",
            StrategyKind::Sqlite => "sqlite",
            StrategyKind::Cdb => "cdb",
            StrategyKind::Redb => "redb",
        }
    }

    /// Whether this kind answers from a server that must be running (`redis`,
    /// `redis-cluster`), not from the data file alone.
    pub fn needs_server(self) -> bool {
        matches!(self, StrategyKind::Redis | StrategyKind::RedisCluster)
    }

    /// Whether this kind keeps its index or store beside the data (built once, then reopened).
    pub fn keeps_sidecar(self) -> bool {
        matches!(self, StrategyKind::MmapIndex | StrategyKind::PhfIndex) || StrategyKind::ENGINES.contains(&self)
    }

    /// Where this kind keeps its index sidecar (a file) or engine store (a
    /// directory) for `data` by default, if it keeps one; [`crate::remove_index`] removes either.
    pub fn default_sidecar(self, data: &Path) -> Option<PathBuf> {
        match self {
            StrategyKind::MmapIndex => Some(default_sidecar_path(data)),
            StrategyKind::PhfIndex => Some(default_phf_path(data)),
            StrategyKind::Fst => Some(default_fst_path(data)),
            StrategyKind::Lmdb | StrategyKind::Sqlite | StrategyKind::Cdb | StrategyKind::Redb => {
                Some(default_store_path(data, self.name()))
            }
            _ => None,
        }
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StrategyKind {
    type Err = OpenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StrategyKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| OpenError::Config(unknown_strategy(s)))
    }
}

/// Says that `s` names no strategy, the closest spelling if one is near
/// (`hasmap` → `hashmap`), and every valid one.
fn unknown_strategy(s: &str) -> String {
    let names = StrategyKind::ALL.map(StrategyKind::name);
    // Within a third of the name's length: a typo, not another word.
    let closest = names
        .iter()
        .map(|n| (strsim::levenshtein(s, n), n))
        .filter(|(d, n)| *d * 3 <= n.len().max(3))
        .min()
        .map_or_else(String::new, |(_, n)| format!(" (did you mean {n:?}?)"));
    format!("unknown strategy {s:?}{closest}; the strategies are {}", names.join(", "))
}

/// A fully configured strategy: a kind plus, for `lru`, its ratio and backing.
#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    /// A strategy that needs no configuration.
    Plain(StrategyKind),
    /// An LRU cache of `ratio` × keys in front of `backing`.
    Lru {
        /// Fraction of the keys the cache holds, in `(0, 1]`.
        ratio: f64,
        /// The strategy that answers misses (never `lru` itself).
        backing: StrategyKind,
    },
}

impl Strategy {
    /// What a bare `lru` means: a cache of 10 % of the keys over `mmap-index`.
    pub const DEFAULT_LRU: Strategy = Strategy::Lru { ratio: 0.1, backing: StrategyKind::MmapIndex };

    /// Builds a strategy from CLI-style parts; `ratio` and `backing` matter only for `lru`.
    pub fn new(kind: StrategyKind, ratio: f64, backing: StrategyKind) -> Result<Self, OpenError> {
        match kind {
            StrategyKind::Lru => {
                if !(ratio > 0.0 && ratio <= 1.0) {
                    return Err(OpenError::Config(format!("cache ratio {ratio} is not in (0, 1]")));
                }
                if backing == StrategyKind::Lru {
                    return Err(OpenError::Config("lru cannot be backed by lru".into()));
                }
                Ok(Strategy::Lru { ratio, backing })
            }
            other => Ok(Strategy::Plain(other)),
        }
    }

    /// The index sidecar this strategy (or an lru's backing) reads and writes
    /// for `data` with `opts`, if it keeps one.
    pub fn sidecar(&self, data: &Path, opts: &OpenOptions) -> Option<PathBuf> {
        self.reader().default_sidecar(data).map(|default| opts.index_path.clone().unwrap_or(default))
    }

    /// The kind that reads the data file: the strategy's own, or an lru's backing.
    pub fn reader(&self) -> StrategyKind {
        match self {
            Strategy::Plain(kind) | Strategy::Lru { backing: kind, .. } => *kind,
        }
    }

    /// The kind of the outermost strategy.
    pub fn kind(&self) -> StrategyKind {
        match self {
            Strategy::Plain(kind) => *kind,
            Strategy::Lru { .. } => StrategyKind::Lru,
        }
    }
}

/// `scan`, `hashmap`, … or `lru(0.5,mmap-index)`.
impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Plain(kind) => write!(f, "{kind}"),
            Strategy::Lru { ratio, backing } => write!(f, "lru({ratio},{backing})"),
        }
    }
}

/// Parses what [`Display`](fmt::Display) writes, and a bare `lru` as [`Strategy::DEFAULT_LRU`]:
/// the one spelling of a strategy on every command line.
impl FromStr for Strategy {
    type Err = OpenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some(args) = s.strip_prefix("lru(").and_then(|rest| rest.strip_suffix(')')) else {
            return Ok(match s.parse()? {
                StrategyKind::Lru => Strategy::DEFAULT_LRU,
                kind => Strategy::Plain(kind),
            });
        };
        let (ratio, backing) =
            args.split_once(',').ok_or_else(|| OpenError::Config(format!("expected lru(RATIO,BACKING), got {s:?}")))?;
        let ratio =
            ratio.trim().parse().map_err(|_| OpenError::Config(format!("cache ratio {ratio:?} is not a number")))?;
        Strategy::new(StrategyKind::Lru, ratio, backing.trim().parse()?)
    }
}

/// A list of strategies as one command-line argument:
/// `hashmap,mmap-index,lru(0.1,mmap-index)` (commas inside parentheses belong to the strategy).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Strategies(pub Vec<Strategy>);

impl FromStr for Strategies {
    type Err = OpenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mut list, mut depth, mut start) = (Vec::new(), 0_i32, 0);
        for (i, c) in s.char_indices().chain([(s.len(), ',')]) {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    let item = s.get(start..i).unwrap_or_default().trim();
                    if item.is_empty() {
                        return Err(OpenError::Config(format!("empty strategy in the list {s:?}")));
                    }
                    let strategy: Strategy = item.parse()?;
                    if !list.contains(&strategy) {
                        list.push(strategy);
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
        if depth != 0 {
            return Err(OpenError::Config(format!("unbalanced parentheses in the list {s:?}")));
        }
        Ok(Strategies(list))
    }
}

/// Opens `strategy` on the data file at `path`.
pub fn open(path: &Path, strategy: &Strategy, opts: &OpenOptions) -> Result<Box<dyn Lookup>, OpenError> {
    Ok(match strategy {
        Strategy::Plain(kind) => open_plain(path, *kind, opts)?,
        Strategy::Lru { ratio, backing } => Box::new(Lru::new(open_plain(path, *backing, opts)?, *ratio)?),
    })
}

fn open_plain(path: &Path, kind: StrategyKind, opts: &OpenOptions) -> Result<Box<dyn Lookup>, OpenError> {
    Ok(match kind {
        StrategyKind::ScanLines => Box::new(ScanLines::open(path, opts)?),
        StrategyKind::Scan => Box::new(Scan::open(path, opts)?),
        StrategyKind::HashMap => Box::new(HashMapLookup::open(path, opts)?),
        StrategyKind::MmapIndex => Box::new(MmapIndex::open(path, opts)?),
        StrategyKind::PhfIndex => Box::new(PhfIndex::open(path, opts)?),
        StrategyKind::Warming => Box::new(Warming::open(path, opts)?),
        #[cfg(feature = "redis")]
        StrategyKind::Redis => Box::new(crate::redis::RedisLookup::open(path, opts)?),
        #[cfg(feature = "redis")]
        StrategyKind::RedisCluster => Box::new(crate::redis_cluster::RedisClusterLookup::open(path, opts)?),
        #[cfg(not(feature = "redis"))]
        StrategyKind::Redis | StrategyKind::RedisCluster => {
            return Err(OpenError::Config("built without the redis feature".into()));
        }
        StrategyKind::Fst => Box::new(FstIndex::open(path, opts)?),
        #[cfg(feature = "lmdb")]
        StrategyKind::Lmdb => Box::new(EngineLookup::<crate::lmdb::Lmdb>::open(path, opts)?),
        #[cfg(feature = "sqlite")]
        StrategyKind::Sqlite => Box::new(EngineLookup::<crate::sqlite::Sqlite>::open(path, opts)?),
        #[cfg(feature = "cdb")]
        StrategyKind::Cdb => Box::new(EngineLookup::<crate::cdb::Cdb>::open(path, opts)?),
        #[cfg(feature = "redb")]
        StrategyKind::Redb => Box::new(EngineLookup::<crate::redb::Redb>::open(path, opts)?),
        #[cfg(not(feature = "lmdb"))]
        StrategyKind::Lmdb => return Err(OpenError::Config("built without the lmdb feature".into())),
        #[cfg(not(feature = "sqlite"))]
        StrategyKind::Sqlite => return Err(OpenError::Config("built without the sqlite feature".into())),
        #[cfg(not(feature = "cdb"))]
        StrategyKind::Cdb => return Err(OpenError::Config("built without the cdb feature".into())),
        #[cfg(not(feature = "redb"))]
        StrategyKind::Redb => return Err(OpenError::Config("built without the redb feature".into())),
        StrategyKind::Lru => return Err(OpenError::Config("lru needs a ratio and a backing strategy".into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_strategy_is_answered_with_the_closest_and_every_name() {
        let error = |s: &str| s.parse::<StrategyKind>().expect_err("not a strategy").to_string();
        let typo = error("hasmap");
        assert!(typo.contains(r#"unknown strategy "hasmap" (did you mean "hashmap"?)"#), "{typo}");
        assert!(StrategyKind::ALL.iter().all(|k| typo.contains(k.name())), "every name listed: {typo}");
        assert!(error("mmap_index").contains(r#"did you mean "mmap-index"?"#));
        assert!(!error("postgres").contains("did you mean"), "no suggestion far from every name");
        let in_a_list = "scan,lru(0.1,phf-idx)".parse::<Strategies>().expect_err("phf-idx").to_string();
        assert!(in_a_list.contains(r#"did you mean "phf-index"?"#), "{in_a_list}");
    }

    #[test]
    fn labels_round_trip() {
        for kind in StrategyKind::ALL.into_iter().filter(|k| *k != StrategyKind::Lru) {
            let s = Strategy::new(kind, 1.0, StrategyKind::Scan).unwrap();
            assert_eq!(s.to_string().parse::<Strategy>().unwrap(), s);
        }
        let lru: Strategy = "lru(0.25,mmap-index)".parse().unwrap();
        assert_eq!(lru, Strategy::Lru { ratio: 0.25, backing: StrategyKind::MmapIndex });
        assert_eq!(lru.to_string(), "lru(0.25,mmap-index)");
        assert_eq!("lru".parse::<Strategy>().unwrap(), Strategy::DEFAULT_LRU);
        assert_eq!(Strategy::DEFAULT_LRU.to_string(), "lru(0.1,mmap-index)");
        assert!("lru(0,scan)".parse::<Strategy>().is_err());
        assert!("lru(1.5,scan)".parse::<Strategy>().is_err());
        assert!("lru(0.5,lru)".parse::<Strategy>().is_err());
        assert!("nope".parse::<Strategy>().is_err());
        let list: Strategies = "hashmap, lru(0.1,mmap-index),scan,hashmap".parse().unwrap();
        let expected =
            [Strategy::Plain(StrategyKind::HashMap), Strategy::DEFAULT_LRU, Strategy::Plain(StrategyKind::Scan)];
        assert_eq!(list.0, expected, "split at top-level commas, duplicates dropped");
        for bad in ["", "hashmap,", "hashmap,,scan", "lru(0.1,nope)", "lru(0.1"] {
            assert!(bad.parse::<Strategies>().is_err(), "{bad:?}");
        }
    }
}
