//! Choosing a strategy: its name, its configuration, and opening it.
//!
//! Adding a strategy means its file (its code and its `FACTS`, see
//! [`Facts`]), its `mod` line in `lib.rs`, and one line in the list below:
//! the variant, [`StrategyKind::ALL`], [`StrategyKind::facts`] and everything
//! derived from the facts follow from it. (The report, which reads only
//! results, spells its lists of own strategies and engines itself:
//! `crates/cli/tests/report_names.rs` fails until they match the families.)

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::OpenError;
use crate::facts::{Facts, Family};
use crate::lru::Lru;
use crate::{Lookup, OpenOptions};

/// Declares [`StrategyKind`] from one list of `Variant => file`, in table
/// order: the enum, [`StrategyKind::ALL`] and the one match from a kind to
/// its file's `FACTS`, so that none of them can miss a strategy.
macro_rules! strategies {
    ($($(#[$doc:meta])* $kind:ident => $file:ident,)+) => {
        /// The strategies by name, as the CLI and results spell them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum StrategyKind {
            $($(#[$doc])* $kind,)+
        }

        impl StrategyKind {
            /// Every strategy, in the order tables list them.
            pub const ALL: [StrategyKind; [$(StrategyKind::$kind),+].len()] = [$(StrategyKind::$kind),+];

            /// What kvbench knows about this strategy, declared in its file.
            pub const fn facts(self) -> &'static Facts {
                match self {
                    $(StrategyKind::$kind => &crate::$file::FACTS,)+
                }
            }
        }
    };
}

strategies! {
    /// Naive line-by-line read of the file on every lookup (baseline).
    ScanLines => scan_lines,
    /// memmem search of the mmapped file on every lookup.
    Scan => scan,
    /// All records in a packed in-memory ahash table.
    HashMap => hashmap,
    /// Mmapped file + sorted hash index persisted in a sidecar file.
    MmapIndex => mmap_index,
    /// Mmapped file + minimal perfect hash to slots, persisted in a sidecar file.
    PhfIndex => phf_index,
    /// LRU cache of a fraction of the keys over another strategy.
    Lru => lru,
    /// Scan until a background-built hashmap is ready.
    Warming => warming,
    /// Mmapped file + a finite-state transducer from keys to offsets, in a sidecar file.
    Fst => fst_index,
    /// The records in an LMDB environment (heed).
    Lmdb => lmdb,
    /// The records in a SQLite `WITHOUT ROWID` table (rusqlite, bundled).
    Sqlite => sqlite,
    /// The records in a constant database (cdb2).
    Cdb => cdb,
    /// The records in a redb table.
    Redb => redb,
    /// The records in a RocksDB table, opened read-only (the `rocksdb` feature).
    Rocksdb => rocksdb,
    /// The same lookups over a real Redis server (loaded from the data file).
    Redis => redis,
    /// The same lookups over a Redis Cluster's primaries (loaded from the data file).
    RedisCluster => redis_cluster,
}

/// The kinds of `family` in [`StrategyKind::ALL`]'s order, `N` of them
/// ([`family_len`]); evaluated at compile time, where an index out of range
/// is a compile error rather than a panic.
#[allow(clippy::indexing_slicing)]
const fn of_family<const N: usize>(family: Family) -> [StrategyKind; N] {
    let mut out = [StrategyKind::ScanLines; N];
    let (mut i, mut n) = (0, 0);
    while i < StrategyKind::ALL.len() {
        if StrategyKind::ALL[i].facts().family as u8 == family as u8 {
            out[n] = StrategyKind::ALL[i];
            n += 1;
        }
        i += 1;
    }
    out
}

/// How many kinds are of `family`.
#[allow(clippy::indexing_slicing)]
const fn family_len(family: Family) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < StrategyKind::ALL.len() {
        if StrategyKind::ALL[i].facts().family as u8 == family as u8 {
            n += 1;
        }
        i += 1;
    }
    n
}

impl StrategyKind {
    /// The embedded engines a user might pick instead of kvbench's own strategies
    /// ([`Family::Engine`]), in table order.
    pub const ENGINES: [StrategyKind; family_len(Family::Engine)] = of_family(Family::Engine);

    /// The name used on the command line and in results.
    pub const fn name(self) -> &'static str {
        self.facts().name
    }

    /// Whether this kind answers from a server that must be running (`redis`,
    /// `redis-cluster`), not from the data file alone.
    pub fn needs_server(self) -> bool {
        self.facts().family == Family::Server
    }

    /// Whether this kind keeps an index or store (built once, then reopened):
    /// beside the data, or a server's db.
    pub fn keeps_store(self) -> bool {
        self.facts().store.is_some()
    }

    /// Whether this build can open this kind: it needs no cargo feature the
    /// build was compiled without (e.g. `rocksdb`, off by default).
    pub fn is_built(self) -> bool {
        self.facts().missing_feature().is_none()
    }

    /// Where this kind keeps its index sidecar (a file) or engine store (a
    /// directory) for `data` by default, if it keeps one; [`crate::remove_index`] removes either.
    pub fn default_sidecar(self, data: &Path) -> Option<PathBuf> {
        self.facts().default_store(data)
    }

    /// The configurations of this kind that the default suite measures:
    /// `lru` at each of its suite ratios over [`Strategy::DEFAULT_LRU`]'s
    /// backing, any other kind as it is.
    pub fn suite_strategies(self) -> Vec<Strategy> {
        match self {
            StrategyKind::Lru => crate::lru::SUITE_RATIOS
                .into_iter()
                .map(|ratio| Strategy::Lru { ratio, backing: Strategy::DEFAULT_LRU.reader() })
                .collect(),
            kind => vec![Strategy::Plain(kind)],
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
    /// An engine on its maintainers' defaults (`sqlite(defaults)`), without
    /// the settings its facts list: what those settings buy is its difference
    /// from `Plain`. Only a kind with settings has one.
    Defaults(StrategyKind),
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
            Strategy::Plain(kind) | Strategy::Defaults(kind) | Strategy::Lru { backing: kind, .. } => *kind,
        }
    }

    /// The kind of the outermost strategy.
    pub fn kind(&self) -> StrategyKind {
        match self {
            Strategy::Plain(kind) | Strategy::Defaults(kind) => *kind,
            Strategy::Lru { .. } => StrategyKind::Lru,
        }
    }
}

/// The suffix that names an engine on its defaults: `sqlite(defaults)`.
const DEFAULTS: &str = "(defaults)";

/// `scan`, `hashmap`, …, `sqlite(defaults)` or `lru(0.5,mmap-index)`.
impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Plain(kind) => write!(f, "{kind}"),
            Strategy::Defaults(kind) => write!(f, "{kind}{DEFAULTS}"),
            Strategy::Lru { ratio, backing } => write!(f, "lru({ratio},{backing})"),
        }
    }
}

/// Parses what [`Display`](fmt::Display) writes, and a bare `lru` as [`Strategy::DEFAULT_LRU`]:
/// the one spelling of a strategy on every command line.
impl FromStr for Strategy {
    type Err = OpenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(name) = s.strip_suffix(DEFAULTS) {
            let kind: StrategyKind = name.parse()?;
            if kind.facts().settings.is_empty() {
                let tuned: Vec<&str> =
                    StrategyKind::ALL.iter().filter(|k| !k.facts().settings.is_empty()).map(|k| k.name()).collect();
                return Err(OpenError::Config(format!(
                    "{kind} has no settings beyond its defaults, so no {kind}{DEFAULTS}; the engines that do: {}",
                    tuned.join(", ")
                )));
            }
            return Ok(Strategy::Defaults(kind));
        }
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
        Strategy::Defaults(kind) => open_plain(path, *kind, &OpenOptions { engine_defaults: true, ..opts.clone() })?,
        Strategy::Lru { ratio, backing } => Box::new(Lru::new(open_plain(path, *backing, opts)?, *ratio)?),
    })
}

fn open_plain(path: &Path, kind: StrategyKind, opts: &OpenOptions) -> Result<Box<dyn Lookup>, OpenError> {
    kind.facts().open(path, opts)
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
    fn every_kind_has_facts_that_hold_together() {
        let names: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.facts().name).collect();
        for (i, kind) in StrategyKind::ALL.into_iter().enumerate() {
            let facts = kind.facts();
            assert!(!names[..i].contains(&facts.name), "{kind}: a name of its own");
            assert_eq!(facts.name.parse::<StrategyKind>().unwrap(), kind);
            if facts.starts.contains(&crate::Start::Build) {
                assert!(facts.store.is_some(), "{kind}: only a store can be built");
            }
            assert_eq!(
                facts.family == Family::Server,
                facts.starts.is_empty(),
                "{kind}: only servers sit out the suite"
            );
        }
        // The lists derived from the facts, as they were spelled before.
        use StrategyKind::*;
        assert_eq!(StrategyKind::ENGINES, [Fst, Lmdb, Sqlite, Cdb, Redb, Rocksdb]);
        let keeps: Vec<StrategyKind> = StrategyKind::ALL.into_iter().filter(|k| k.keeps_store()).collect();
        assert_eq!(keeps, [MmapIndex, PhfIndex, Fst, Lmdb, Sqlite, Cdb, Redb, Rocksdb, Redis, RedisCluster]);
        let servers: Vec<StrategyKind> = StrategyKind::ALL.into_iter().filter(|k| k.needs_server()).collect();
        assert_eq!(servers, [Redis, RedisCluster]);
    }

    #[test]
    fn facts_agree_with_what_opening_does() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.txt");
        std::fs::write(&data, "a 1\nb 2\nc 3\n").unwrap();
        let files = || {
            let mut names: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
            names.sort();
            names
        };
        for kind in
            StrategyKind::ALL.into_iter().filter(|k| *k != StrategyKind::Lru && !k.needs_server() && k.is_built())
        {
            let opened = open(&data, &Strategy::Plain(kind), &OpenOptions::default()).unwrap();
            let store = kind.default_sidecar(&data);
            assert_eq!(opened.info().wrote, Vec::from_iter(store.clone()), "{kind}: keeps a store ⇔ opening writes it");
            let expected: Vec<PathBuf> = std::iter::once(data.clone()).chain(store.clone()).collect();
            assert_eq!(files(), expected, "{kind}: nothing else appears beside the data");
            drop(opened);
            if let Some(store) = store {
                crate::remove_index(&store).unwrap();
            }
        }
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
        // An engine on its defaults: only one with settings of its own has them.
        let tuned: Vec<StrategyKind> =
            StrategyKind::ALL.into_iter().filter(|k| !k.facts().settings.is_empty()).collect();
        assert_eq!(tuned, [StrategyKind::Lmdb, StrategyKind::Sqlite, StrategyKind::Redb, StrategyKind::Rocksdb]);
        for kind in tuned {
            let defaults: Strategy = format!("{kind}(defaults)").parse().unwrap();
            assert_eq!(
                (defaults.clone(), defaults.to_string()),
                (Strategy::Defaults(kind), format!("{kind}(defaults)"))
            );
            assert_eq!((defaults.kind(), defaults.reader()), (kind, kind), "the same store as {kind}");
        }
        let error = "cdb(defaults)".parse::<Strategy>().unwrap_err().to_string();
        assert!(error.contains("cdb has no settings") && error.contains("lmdb, sqlite, redb"), "{error}");
        let list: Strategies = "hashmap, lru(0.1,mmap-index),scan,hashmap".parse().unwrap();
        let expected =
            [Strategy::Plain(StrategyKind::HashMap), Strategy::DEFAULT_LRU, Strategy::Plain(StrategyKind::Scan)];
        assert_eq!(list.0, expected, "split at top-level commas, duplicates dropped");
        for bad in ["", "hashmap,", "hashmap,,scan", "lru(0.1,nope)", "lru(0.1"] {
            assert!(bad.parse::<Strategies>().is_err(), "{bad:?}");
        }
    }
}
