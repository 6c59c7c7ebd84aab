//! What kvbench knows about a strategy, declared once beside its code.
//!
//! Each strategy's file holds a `const FACTS: Facts`; the registry maps a
//! [`crate::StrategyKind`] to it, and everything else asks the facts: the
//! registry's lists ([`crate::StrategyKind::ALL`], [`crate::StrategyKind::ENGINES`]),
//! where a sidecar or store goes, the harness's fit estimate, a probe's
//! warm-up, the suite's default cases. A new strategy then states these
//! things in one place, and the compiler refuses a `Facts` with one missing.

use std::path::{Path, PathBuf};

use crate::error::OpenError;
use crate::{Lookup, OpenOptions};

/// What kvbench knows about one strategy.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    /// The name used on the command line and in results.
    pub name: &'static str,
    /// What kind of answer to "which should I use?" it is.
    pub family: Family,
    /// The sidecar or store it keeps beside the data, if any (built once, then reopened).
    pub store: Option<Store>,
    /// The anonymous memory it holds once open (beyond a store being built).
    pub memory: Memory,
    /// What its lookups need before they run at their steady speed.
    pub warm_up: WarmUp,
    /// Whether its lookups are a memchr pass over the file, so that a probe
    /// also times one bare pass: the floor a full scan is compared with.
    pub memchr_floor: bool,
    /// How the default suite starts it, in the order it runs them (none: not in the default suite).
    pub starts: &'static [Start],
    /// The settings kvbench opens it with beyond its maintainers' defaults,
    /// each with its source; none for kvbench's own strategies. A strategy
    /// with some is also measurable on its defaults (`sqlite(defaults)`).
    pub settings: &'static [Setting],
    /// How to open it (or why this build cannot).
    pub open: Open,
}

/// What kind of answer a strategy is; tables and the report group by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// No index: the file read on every lookup (the floors the others are measured against).
    Baseline,
    /// kvbench's own indexes, that the engines are set beside.
    Own,
    /// Made of other strategies: a cache in front of one, a scan until a hashmap is built.
    Composite,
    /// An embedded engine a user might pick instead of kvbench's own strategies.
    Engine,
    /// A server that must be running (the data loaded into it), not the data file alone.
    Server,
}

/// A sidecar or store a strategy keeps beside the data file.
#[derive(Clone, Copy, Debug)]
pub struct Store {
    /// Where it goes by default.
    pub place: Place,
    /// Peak anonymous bytes per key while building it (its entries sorted in
    /// memory before they are written), measured at 10M keys and rounded up.
    pub build_bytes_per_key: u64,
    /// Bytes per key it takes on disk, rounded up.
    pub disk_bytes_per_key: u64,
    /// Time per key to build it: what a default suite run at 1M keys on the
    /// reference machine measured (2026-12-06), rounded up. Only for the
    /// time a suite plans to take, never a result.
    pub build_ns_per_key: u64,
    /// Its format's limit: a store of this many bytes or more (the data
    /// included) cannot be written (`cdb`'s 32-bit offsets: 4 GiB).
    pub limit_bytes: Option<u64>,
}

/// Where a strategy keeps its sidecar or store for a data file by default.
#[derive(Clone, Copy, Debug)]
pub enum Place {
    /// An index file whose path this function gives (`<data file>.kvidx`, …).
    Sidecar(fn(&Path) -> PathBuf),
    /// An engine's store directory, `<data file>.kv<name>`.
    StoreDir,
    /// The db of the server it asks (`redis`): loaded once, then reused. No
    /// file stands for it, so a build reloads it ([`crate::OpenOptions::reload`])
    /// instead of deleting a store first.
    Server,
}

/// The anonymous memory a strategy holds once open; upper bounds of what the
/// suite measured at 10M keys (peak, not only what stays), rounded up, so
/// that an estimate errs towards skipping a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// Nothing per key: it maps its files, reads them, or asks a server.
    Mapped,
    /// The whole file copied into memory, plus this many bytes per key (a
    /// table of every key built over the copy): a file of long values needs
    /// its size, whatever its key count.
    FileCopy(u64),
    /// Each cached record copied, plus this many bytes around it (allocation
    /// headers, list node, map slot); what it caches over is the backing's.
    PerCachedRecord(u64),
    /// A cache it sizes itself to at most 1/N of the memory the process may
    /// use (`rocksdb`'s block cache, see [`crate::OpenOptions::memory_limit`]):
    /// whatever the file, it fits what there is, so it never decides a fit.
    ShareOfLimit(u64),
}

/// What a strategy's lookups need before they run at their steady speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarmUp {
    /// Nothing: each lookup costs the same from the first.
    None,
    /// A cache to fill: lookups until its hit rate settles, from a key stream
    /// long enough that it does not end up holding the whole stream.
    Cache,
    /// A build in the background to finish: wait until it reports ready.
    Background,
}

/// One setting an engine is opened with beyond its defaults, as its own
/// documentation advises for read-only point lookups on a static file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The setting as the engine spells it, e.g. `immutable=1`.
    pub name: &'static str,
    /// What it buys, and what it costs or assumes.
    pub why: &'static str,
    /// The engine's documentation that advises it (a URL).
    pub source: &'static str,
}

/// How the default suite starts a case of a strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// As the data folder finds it, its files in the page cache: a reopen for
    /// a strategy that keeps a store.
    Warm,
    /// Its sidecar or store deleted first, so that the build is timed.
    Build,
    /// The page cache dropped first, so that the first lookups are timed.
    Cold,
}

/// How to open a strategy on a data file.
pub type Opener = fn(&Path, &OpenOptions) -> Result<Box<dyn Lookup>, OpenError>;

/// Whether this build can open a strategy.
#[derive(Clone, Copy, Debug)]
pub enum Open {
    /// It can, with this.
    With(Opener),
    /// It was built without this cargo feature.
    Without(&'static str),
}

impl Facts {
    /// Where this strategy keeps its sidecar or store for `data` by default, if it keeps one.
    pub fn default_store(&self, data: &Path) -> Option<PathBuf> {
        self.store.and_then(|store| match store.place {
            Place::Sidecar(path) => Some(path(data)),
            Place::StoreDir => Some(default_store_path(data, self.name)),
            Place::Server => None,
        })
    }

    /// Opens the strategy on the data file at `path`.
    pub fn open(&self, path: &Path, opts: &OpenOptions) -> Result<Box<dyn Lookup>, OpenError> {
        match self.open {
            Open::With(open) => open(path, opts),
            Open::Without(feature) => Err(OpenError::Config(format!(
                "{} is not in this build of kvbench: it was built without the `{feature}` feature",
                self.name
            ))),
        }
    }

    /// The cargo feature this build lacks to open the strategy, if it lacks one.
    pub fn missing_feature(&self) -> Option<&'static str> {
        match self.open {
            Open::With(_) => None,
            Open::Without(feature) => Some(feature),
        }
    }
}

/// The facts of a strategy that asks a server called `name` (`redis`,
/// `redis-cluster`): its store is the server's db (loaded once, then reused),
/// nothing beside the data; it holds no memory of its own (the server's is
/// charged from the server's figures), and the default suite leaves it out,
/// as it needs a server running.
pub(crate) const fn server(name: &'static str, open: Open) -> Facts {
    Facts {
        name,
        family: Family::Server,
        store: Some(Store {
            place: Place::Server,
            build_bytes_per_key: 0,
            disk_bytes_per_key: 0,
            build_ns_per_key: SERVER_LOAD_NS_PER_KEY,
            limit_bytes: None,
        }),
        memory: Memory::Mapped,
        warm_up: WarmUp::None,
        memchr_floor: false,
        starts: &[],
        settings: &[],
        open,
    }
}

/// Time per key to load a server's db (pipelined `SET … NX`), rounded up
/// from a load of 1M keys into a local redis-server on the reference machine
/// (3.07 s, 2026-12-06);
/// only for the time a suite plans to take.
const SERVER_LOAD_NS_PER_KEY: u64 = 4_000;

/// Where an engine keeps its store for `data` by default: `<data>.kv<name>`.
pub(crate) fn default_store_path(data: &Path, name: &str) -> PathBuf {
    crate::sidecar::beside(data, &format!(".kv{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strategy_left_out_of_the_build_says_which_feature_it_needs() {
        let facts = Facts { open: Open::Without("sqlite"), ..*crate::StrategyKind::Sqlite.facts() };
        assert_eq!(facts.missing_feature(), Some("sqlite"));
        let error = facts.open(Path::new("data.txt"), &OpenOptions::default()).err().map(|e| e.to_string());
        let error = error.unwrap_or_default();
        assert!(error.contains("sqlite is not in this build") && error.contains("`sqlite` feature"), "{error}");
        assert_eq!(crate::StrategyKind::HashMap.facts().missing_feature(), None);
    }
}
