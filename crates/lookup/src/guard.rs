//! Mapped files that survive being truncated under them, and say so.
//!
//! When a mapped file shrinks, a read of a page that now lies wholly past its
//! end raises `SIGBUS`, whose default action kills the process; a read of the
//! part of the last page past the new end sees zeros, with no signal at all.
//! Either would let a server die or answer with bytes the file never held.
//!
//! [`GuardedMap`] closes both holes:
//!
//! - a process-wide `SIGBUS` handler (installed once, on the first map) looks
//!   the faulting address up in a fixed table of the guarded mappings; if it
//!   is theirs, it maps a page of zeros over the faulting page, counts the
//!   fault against that mapping and returns, so the read completes (with
//!   zeros) instead of killing the process. Any other `SIGBUS` is handed back
//!   to the handler that was installed before (by default: die, as before).
//! - [`GuardedMap::intact`] says whether the map can still be trusted: no page
//!   of it has faulted, and its last non-zero byte (recorded when mapped) still
//!   reads the same. A truncation anywhere before that byte zeroes it, faulted
//!   or not, so a caller that copies bytes *then* checks `intact` never hands
//!   on bytes from a shrunken file as if they were data.
//!
//! What it cannot see: a truncation that races the check inside the kernel's
//! zeroing of the last page (a window of nanoseconds), and rewrites in place
//! that keep the length, which read as the file was before or as it is now.
//! A file whose last 64 KiB are zero bytes has no useful sentinel and relies
//! on the fault count alone. If the table is full (over [`SLOTS`] live maps), a new
//! map is left unguarded, as every map was before this module.

use std::fs::File;
use std::io;
use std::ops::Deref;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};

use memmap2::{Advice, Mmap};

/// How many maps can be guarded at once (a server holds 2 per strategy).
pub const SLOTS: usize = 1024;

/// How far back from the end [`GuardedMap`] looks for its sentinel byte.
const SENTINEL_WINDOW: usize = 64 << 10;

/// A read-only file map whose truncation reads as zeros and is detected.
#[derive(Debug)]
pub struct GuardedMap {
    map: Mmap,
    /// The registration that lets the handler recognise this map; `None` if unguarded.
    slot: Option<&'static Slot>,
    /// The slot's fault count, or a count that stays 0 if unguarded (no branch in `intact`).
    faults: &'static AtomicU64,
    /// Offset and value of the last non-zero byte (else the last byte), read again by [`GuardedMap::intact`].
    sentinel: (usize, u8),
}

/// The fault count of unguarded maps: never incremented.
static NO_FAULTS: AtomicU64 = AtomicU64::new(0);

impl GuardedMap {
    /// Maps `file` read-only and registers the map with the `SIGBUS` guard.
    ///
    /// # Safety
    ///
    /// As for [`Mmap::map`]: the bytes change if another process writes the
    /// file in place. Callers must bounds-check every read and treat what
    /// they read as untrusted until [`GuardedMap::intact`] vouches for it.
    pub unsafe fn map(file: &File) -> io::Result<Self> {
        // SAFETY: forwarded to the caller (see above).
        let map = unsafe { Mmap::map(file) }?;
        if map.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot guard an empty map"));
        }
        let slot = register(map.as_ptr() as usize, map.len());
        let faults = slot.map_or(&NO_FAULTS, |slot| &slot.faults);
        let window = map.len().saturating_sub(SENTINEL_WINDOW);
        let last = map.len() - 1;
        let at = map.get(window..).and_then(|tail| tail.iter().rposition(|&b| b != 0)).map_or(last, |at| window + at);
        let sentinel = (at, map.get(at).copied().unwrap_or(0));
        Ok(GuardedMap { map, slot, faults, sentinel })
    }

    /// Whether every byte read from the map so far came from the file as it
    /// was mapped: no page faulted past the file's end and its tail is unchanged.
    ///
    /// Call it *after* copying what was read: it vouches for reads made before it.
    #[inline]
    pub fn intact(&self) -> bool {
        // The reads being vouched for must not be moved after the checks below.
        fence(Ordering::Acquire);
        let (at, byte) = self.sentinel;
        // SAFETY: `at` is inside the map (checked when it was recorded); a
        // volatile read so the compiler reads the file's current byte.
        let tail_same = unsafe { std::ptr::read_volatile(self.map.as_ptr().add(at)) } == byte;
        tail_same && self.faults.load(Ordering::Acquire) == 0
    }

    /// Whether a truncation of this map would be survived (false if the table was full).
    pub fn is_guarded(&self) -> bool {
        self.slot.is_some()
    }

    /// Pages of this map that were read past the file's end and replaced by zeros.
    pub fn faults(&self) -> u64 {
        self.faults.load(Ordering::Relaxed)
    }

    /// Tells the kernel how the map will be read; a hint, so failures are ignored.
    pub fn advise(&self, advice: Advice) {
        let _ = self.map.advise(advice);
    }
}

impl Deref for GuardedMap {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for GuardedMap {
    fn drop(&mut self) {
        // Unregistered before `map` is unmapped (fields drop after this), so
        // the handler never matches an address that may be reused.
        if let Some(slot) = self.slot {
            slot.release();
        }
    }
}

/// One guarded map's address range and its fault count, readable from the handler.
#[derive(Debug)]
struct Slot {
    /// First address, `FREE`, or `CLAIMED` while being filled in.
    start: AtomicUsize,
    /// One past the last page's end.
    end: AtomicUsize,
    faults: AtomicU64,
}

const FREE: usize = 0;
const CLAIMED: usize = usize::MAX;

impl Slot {
    const fn new() -> Self {
        Slot { start: AtomicUsize::new(FREE), end: AtomicUsize::new(0), faults: AtomicU64::new(0) }
    }

    /// Whether `addr` lies in this slot's map (false while free or being filled in).
    fn covers(&self, addr: usize) -> bool {
        let start = self.start.load(Ordering::Acquire);
        start != FREE && start != CLAIMED && start <= addr && addr < self.end.load(Ordering::Acquire)
    }

    fn release(&self) {
        self.start.store(CLAIMED, Ordering::Release);
        self.end.store(0, Ordering::Release);
        self.start.store(FREE, Ordering::Release);
    }
}

/// Fixed so the handler can search it without locks or allocation.
static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

/// Registers a map of `len` bytes at `start`; `None` if the guard cannot be
/// installed or the table is full.
fn register(start: usize, len: usize) -> Option<&'static Slot> {
    let page = installed()?.page;
    let end = start.checked_add(len.checked_next_multiple_of(page)?)?;
    let slot = TABLE
        .iter()
        .find(|slot| slot.start.compare_exchange(FREE, CLAIMED, Ordering::AcqRel, Ordering::Relaxed).is_ok())?;
    slot.faults.store(0, Ordering::Relaxed);
    slot.end.store(end, Ordering::Release);
    slot.start.store(start, Ordering::Release);
    Some(slot)
}

/// The installed handler's context: the page size, and what handled `SIGBUS` before.
struct Guard {
    page: usize,
    previous: libc::sigaction,
}

// SAFETY: `sigaction` is plain data (a handler address, a mask, flags).
unsafe impl Sync for Guard {}
// SAFETY: as above.
unsafe impl Send for Guard {}

static GUARD: OnceLock<Option<Guard>> = OnceLock::new();

/// Installs the handler once per process; `None` if that failed.
fn installed() -> Option<&'static Guard> {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    // The context is stored before the handler is installed, because the
    // handler may run as soon as it is.
    let guard = GUARD.get_or_init(prepare).as_ref()?;
    INSTALLED.get_or_init(install).then_some(guard)
}

/// The page size and the current `SIGBUS` action.
fn prepare() -> Option<Guard> {
    // SAFETY: plain libc calls; `previous` is zero-initialised plain data the kernel fills in.
    unsafe {
        let page = usize::try_from(libc::sysconf(libc::_SC_PAGESIZE)).ok().filter(|p| p.is_power_of_two())?;
        let mut previous: libc::sigaction = std::mem::zeroed();
        (libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) == 0).then_some(Guard { page, previous })
    }
}

/// Makes [`on_sigbus`] the `SIGBUS` handler.
fn install() -> bool {
    // SAFETY: a zero-initialised action filled in with a handler of the
    // SA_SIGINFO signature; the handler only touches statics and raw syscalls.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0
    }
}

/// The `SIGBUS` handler: zeros over a faulting page of a guarded map, else
/// the previous handler. Only atomics and raw syscalls: async-signal-safe.
extern "C" fn on_sigbus(_signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let guard = GUARD.get().and_then(Option::as_ref);
    if let Some(guard) = guard
        && let Some(slot) = TABLE.iter().find(|slot| slot.covers(addr))
    {
        // Counted before the zeros appear, so a thread that reads them and
        // then checks `intact` sees the count.
        slot.faults.fetch_add(1, Ordering::SeqCst);
        let page = addr & !(guard.page - 1);
        // SAFETY: the page lies inside a live guarded map (its owner is
        // reading it, so it cannot be unmapped meanwhile); MAP_FIXED replaces
        // just that page, and the map's own munmap later removes it with the rest.
        let zeros = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                guard.page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zeros != libc::MAP_FAILED {
            return;
        }
    }
    // Not ours (or the page could not be replaced): restore the previous
    // action and return; the faulting instruction runs again and meets it.
    if let Some(guard) = guard {
        // SAFETY: restores a sigaction the kernel gave us.
        unsafe { libc::sigaction(libc::SIGBUS, &guard.previous, std::ptr::null_mut()) };
    } else {
        // SAFETY: as above, with the default action.
        unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
    }
}
