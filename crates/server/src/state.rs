//! The data source and the strategy currently serving it.
//!
//! Requests read the current [`Served`] through an [`ArcSwap`]: a reload
//! builds a complete new strategy off the request path and swaps the pointer,
//! so a request sees either the old data or the new, never a half-built state,
//! and the old strategy lives until its last request finishes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use kvbench_lookup::{Lookup, LookupError, OpenError, OpenOptions, Strategy, Value};
use tokio::sync::Notify;

use crate::metrics::Metrics;

/// Where the data comes from and how to serve it; opened at start and on every reload.
#[derive(Clone, Debug)]
pub struct DataSource {
    /// The data file.
    pub path: PathBuf,
    /// The strategy serving it.
    pub strategy: Strategy,
    /// How the strategy opens the file.
    pub options: OpenOptions,
}

impl DataSource {
    /// Opens the strategy on the file as it is now (blocking: may read the whole file).
    pub fn open(&self) -> Result<Served, OpenError> {
        let start = Instant::now();
        let lookup = kvbench_lookup::open(&self.path, &self.strategy, &self.options)?;
        let info = lookup.info();
        Ok(Served {
            keys: info.keys.or(info.records).unwrap_or(0),
            name: info.name,
            lookup,
            open_time: start.elapsed(),
            changed: AtomicBool::new(false),
        })
    }
}

/// One opened strategy and what requests report about it.
pub struct Served {
    /// The strategy answering lookups.
    pub lookup: Box<dyn Lookup>,
    /// Its label, e.g. `mmap-index`.
    pub name: String,
    /// Keys it serves (`DBSIZE`, `kvbench_keys`).
    pub keys: u64,
    /// How long it took to open.
    pub open_time: Duration,
    /// Set once a lookup found the file changed under it (see [`Shared::lookup`]).
    changed: AtomicBool,
}

impl Served {
    /// Whether a lookup found the file changed under this strategy.
    pub fn changed(&self) -> bool {
        self.changed.load(Ordering::Relaxed)
    }
}

/// Everything the connections share.
pub(crate) struct Shared {
    pub source: DataSource,
    pub current: ArcSwap<Served>,
    pub metrics: Metrics,
    /// Wakes the reload task (SIGHUP, [`crate::Server::reload`], a changed file).
    pub reload: Notify,
}

/// How long a changed data file must keep its size and mtime before it is
/// reopened, so a file being rewritten in place is not loaded half-written.
const QUIET: Duration = Duration::from_millis(200);
/// Give up waiting for the file to settle after this long and reload anyway.
const QUIET_LIMIT: Duration = Duration::from_secs(5);
/// After a failed reload caused by a changed file, try again this much later.
const RETRY: Duration = Duration::from_secs(1);

impl Shared {
    pub fn new(source: DataSource, served: Served) -> Self {
        Shared { source, current: ArcSwap::from_pointee(served), metrics: Metrics::default(), reload: Notify::new() }
    }

    /// Looks `key` up in `served`, hands its value to `copy`, and only then
    /// checks the file was intact, so no copied byte can come from a file
    /// truncated meanwhile. A changed file asks for a reload (once per opened
    /// strategy) and the request gets the error.
    pub fn lookup<T>(
        &self,
        served: &Served,
        key: &[u8],
        copy: impl FnOnce(&[u8]) -> T,
    ) -> Result<Option<T>, LookupError> {
        let start = Instant::now();
        let found = served.lookup.get(key);
        self.metrics.lookup(start.elapsed());
        let checked = found.and_then(|value| {
            let copied = value.map(|v| copy(&v));
            served.lookup.check_data().map(|()| copied)
        });
        self.changed(served, &checked);
        checked
    }

    /// [`Shared::lookup`] for several keys at once, through the strategy's
    /// batched path ([`Lookup::get_many`]): `each` gets every key's value (or
    /// `None`, or the key's own error) in order, then the file is checked.
    /// The latency histogram gets the batch's time per key for each key.
    pub fn lookup_many(
        &self,
        served: &Served,
        keys: &[&[u8]],
        each: impl FnMut(Result<Option<&[u8]>, LookupError>),
    ) -> Result<(), LookupError> {
        let start = Instant::now();
        // One key (a client that does not pipeline): `get`, with no batch to allocate.
        if let [key] = keys {
            let found = served.lookup.get(key);
            self.metrics.lookup(start.elapsed());
            return self.hand_out(served, [found], each);
        }
        let mut answers = Vec::with_capacity(keys.len());
        served.lookup.get_many(keys, &mut answers);
        let n = u32::try_from(keys.len().max(1)).unwrap_or(u32::MAX);
        self.metrics.lookups(start.elapsed() / n, u64::from(n));
        self.hand_out(served, answers, each)
    }

    /// Gives `each` every answer (a value, `None`, or a key's own error), then
    /// checks the file: the first other error, or the check's, is the result.
    fn hand_out<'v>(
        &self,
        served: &Served,
        answers: impl IntoIterator<Item = Result<Option<Value<'v>>, LookupError>>,
        mut each: impl FnMut(Result<Option<&[u8]>, LookupError>),
    ) -> Result<(), LookupError> {
        let mut failed = None;
        for answer in answers {
            match answer {
                Ok(value) => each(Ok(value.as_deref())),
                Err(err @ LookupError::InvalidKey(_)) => each(Err(err)),
                Err(err) => {
                    failed.get_or_insert(err);
                }
            }
        }
        let checked = failed.map_or_else(|| served.lookup.check_data(), Err);
        self.changed(served, &checked);
        checked
    }

    /// Asks for a reload (once per opened strategy) when `result` found the file changed.
    fn changed<T>(&self, served: &Served, result: &Result<T, LookupError>) {
        if let Err(LookupError::DataChanged { path }) = result
            && !served.changed.swap(true, Ordering::Relaxed)
        {
            crate::log(format_args!("{} changed under the server; reloading", path.display()));
            self.reload.notify_one();
        }
    }

    /// Reloads whenever asked, forever (spawned once by the server). A reload
    /// for a changed file first waits for the file to settle, and is retried
    /// while it fails, since meanwhile every lookup of that strategy fails.
    pub async fn reload_on_request(self: Arc<Self>) {
        loop {
            self.reload.notified().await;
            let changed = self.current.load().changed();
            if changed {
                settled(&self.source.path).await;
            }
            if !self.reload().await && self.current.load().changed() {
                tokio::time::sleep(RETRY).await;
                self.reload.notify_one();
            }
        }
    }

    /// Opens the source again off the request threads and swaps it in; on
    /// failure the old data keeps being served and the error is logged.
    /// Returns whether it succeeded.
    pub async fn reload(self: &Arc<Self>) -> bool {
        let source = self.source.clone();
        let start = Instant::now();
        let opened = tokio::task::spawn_blocking(move || source.open()).await;
        let path = self.source.path.display();
        match opened {
            Ok(Ok(served)) => {
                crate::log(format_args!(
                    "reloaded {path}: {} keys with {} in {:.1} ms",
                    served.keys,
                    served.name,
                    start.elapsed().as_secs_f64() * 1e3
                ));
                self.current.store(Arc::new(served));
                self.metrics.reloaded(true);
                true
            }
            Ok(Err(err)) => {
                crate::log(format_args!("reload failed, still serving the previous data: {err}"));
                self.metrics.reloaded(false);
                false
            }
            Err(join) => {
                crate::log(format_args!("reload failed, still serving the previous data: {join}"));
                self.metrics.reloaded(false);
                false
            }
        }
    }
}

/// Waits until `path` keeps its size and mtime for [`QUIET`] (at most [`QUIET_LIMIT`]).
async fn settled(path: &Path) {
    let stamp = || std::fs::metadata(path).ok().map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
    let start = Instant::now();
    let mut last = stamp();
    while start.elapsed() < QUIET_LIMIT {
        tokio::time::sleep(QUIET).await;
        let now = stamp();
        if now == last {
            return;
        }
        last = now;
    }
}
