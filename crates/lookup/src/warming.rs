//! `warming`: answer at once by scanning, while a hashmap builds in the background.
//!
//! Opening costs only what [`Scan`] costs; a background thread builds a
//! [`HashMapLookup`] from the very bytes the scan mapped (so both answer from
//! the same snapshot even if the file is replaced meanwhile) and publishes it
//! once complete, after which every lookup uses it. The switch is a single
//! atomic load on the lookup path, and a lookup never sees a half-built map.
//! If the build fails, lookups keep scanning and [`StrategyInfo::notes`] says
//! why. Ready time counts from the call to open.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{LookupError, OpenError};
use crate::facts::{Facts, Family, Open, Start, WarmUp};
use crate::hashmap::HashMapLookup;
use crate::info::StrategyInfo;
use crate::scan::Scan;
use crate::source::copy_parallel;
use crate::{Lookup, OpenOptions, Value};

/// What kvbench knows about `warming`.
pub(crate) const FACTS: Facts = Facts {
    name: "warming",
    family: Family::Composite,
    store: None,
    // The hashmap it builds, as `hashmap` holds it.
    memory: crate::hashmap::FACTS.memory,
    warm_up: WarmUp::Background,
    memchr_floor: false,
    starts: &[Start::Warm],
    settings: &[],
    open: Open::With(|path, opts| Ok(Box::new(Warming::open(path, opts)?))),
};

/// Scan first, hashmap once it is ready.
pub struct Warming {
    scan: Arc<Scan>,
    state: Arc<State>,
}

struct State {
    opened: Instant,
    map: OnceLock<HashMapLookup>,
    ready_after: OnceLock<Duration>,
    failure: OnceLock<String>,
    done: Mutex<bool>,
    done_signal: Condvar,
}

/// Starts the background build of a [`Warming`] opened with [`Warming::open_deferred`].
#[must_use = "the map is never built unless `start` is called"]
pub struct WarmStart {
    state: Arc<State>,
    scan: Arc<Scan>,
    path: PathBuf,
    opts: OpenOptions,
}

impl Warming {
    /// Opens the scan and starts building the hashmap on a background thread.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        let (warming, start) = Warming::open_deferred(path, opts)?;
        start.start();
        Ok(warming)
    }

    /// Opens the scan only; the build begins when the returned handle is started.
    ///
    /// Lets tests (and benchmarks) observe the not-yet-ready state deterministically.
    pub fn open_deferred(path: &Path, opts: &OpenOptions) -> Result<(Self, WarmStart), OpenError> {
        let opened = Instant::now();
        let scan = Arc::new(Scan::open(path, opts)?);
        let state = Arc::new(State {
            opened,
            map: OnceLock::new(),
            ready_after: OnceLock::new(),
            failure: OnceLock::new(),
            done: Mutex::new(false),
            done_signal: Condvar::new(),
        });
        let start =
            WarmStart { state: Arc::clone(&state), scan: Arc::clone(&scan), path: path.to_owned(), opts: opts.clone() };
        Ok((Warming { scan, state }, start))
    }

    /// Whether the hashmap is serving lookups.
    pub fn is_ready(&self) -> bool {
        self.state.map.get().is_some()
    }

    /// Waits until the build has finished (successfully or not) or `timeout`
    /// passes; returns whether the hashmap is ready.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let done = self.state.done.lock().unwrap_or_else(PoisonError::into_inner);
        let _unused = self
            .state
            .done_signal
            .wait_timeout_while(done, timeout, |done| !*done)
            .unwrap_or_else(PoisonError::into_inner);
        self.is_ready()
    }
}

impl WarmStart {
    /// Spawns the background build; if no thread can be spawned, builds here.
    pub fn start(self) {
        let state = Arc::clone(&self.state);
        let job = move || self.run();
        if let Err(e) = std::thread::Builder::new().name("kvbench-warming".into()).spawn(job) {
            let _ = state.failure.set(format!("could not start the background build: {e}"));
            *state.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
            state.done_signal.notify_all();
        }
    }

    fn run(self) {
        let arena = copy_parallel(self.scan.file().bytes());
        let built = match self.scan.check_data() {
            Ok(()) => HashMapLookup::from_bytes(&self.path, arena, &self.opts).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match built {
            Ok(map) => {
                let _ = self.state.map.set(map);
                let _ = self.state.ready_after.set(self.state.opened.elapsed());
            }
            Err(e) => {
                let _ = self.state.failure.set(format!("background build failed, still scanning: {e}"));
            }
        }
        *self.state.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.state.done_signal.notify_all();
    }
}

impl Lookup for Warming {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        match self.state.map.get() {
            Some(map) => map.get(key),
            None => self.scan.get(key),
        }
    }

    fn check_data(&self) -> Result<(), LookupError> {
        match self.state.map.get() {
            Some(_) => Ok(()),
            None => self.scan.check_data(),
        }
    }

    /// The scan's file: the map, when built, is on the heap.
    fn populate(&self) {
        if self.state.map.get().is_none() {
            self.scan.populate();
        }
    }

    fn info(&self) -> StrategyInfo {
        let scan = self.scan.info();
        let mut info = match self.state.map.get() {
            Some(map) => StrategyInfo { mapped_bytes: scan.mapped_bytes, ..map.info() },
            None => scan,
        };
        info.name = "warming".into();
        info.ready_after = self.state.ready_after.get().copied();
        info.notes.extend(self.state.failure.get().cloned());
        info
    }
}
