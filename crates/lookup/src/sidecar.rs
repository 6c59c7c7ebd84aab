//! The sidecar file an index strategy keeps beside the data: a 128-byte
//! header, then the index's own body ([`Kind`] says whose).
//!
//! The header ties the index to one version of the data file (length, mtime,
//! and a hash of sampled blocks; optionally a hash of all of it) and checksums
//! itself and the body, so a stale, truncated, corrupted or foreign sidecar is
//! detected and rebuilt, never trusted. Bodies are native little-endian; a
//! big-endian machine sees a foreign endian tag and rebuilds. `mmap-index` and
//! `phf-index` share all of this; each lays out and reads its own body.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use bytemuck::{Pod, Zeroable};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::error::{LookupError, OpenError};
use crate::guard::GuardedMap;
use crate::info::StrategyInfo;
use crate::source::DataFile;
use crate::{OpenOptions, Value};

/// First bytes of every sidecar; `\r\n` catches text-mode mangling, as PNG's does.
pub const MAGIC: [u8; 8] = *b"KVBIDX\r\n";
/// Bumped whenever the header's layout or the hash function changes.
pub const VERSION: u32 = 3;
const ENDIAN_TAG: u32 = 0x0102_0304;

/// Which index a sidecar holds: a sidecar of one kind is foreign to the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `mmap-index`: a guide and sorted `(hash, offset)` entries.
    MmapIndex,
    /// `phf-index`: a perfect hash function, slots and an overflow list.
    PhfIndex,
    /// `fst`: a finite-state transducer from keys to record offsets.
    Fst,
    /// The stamp of an `lmdb` store (see `store.rs`).
    #[cfg_attr(not(feature = "lmdb"), allow(dead_code))]
    Lmdb,
    /// The stamp of a `sqlite` store.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    /// The stamp of a `cdb` store.
    #[cfg_attr(not(feature = "cdb"), allow(dead_code))]
    Cdb,
    /// The stamp of a `redb` store.
    #[cfg_attr(not(feature = "redb"), allow(dead_code))]
    Redb,
    /// The stamp of a `rocksdb` store.
    #[cfg_attr(not(feature = "rocksdb"), allow(dead_code))]
    Rocksdb,
}

impl Kind {
    fn tag(self) -> u64 {
        u64::from_le_bytes(match self {
            Kind::MmapIndex => *b"sorted\0\0",
            Kind::PhfIndex => *b"phf\0\0\0\0\0",
            Kind::Fst => *b"fst\0\0\0\0\0",
            Kind::Lmdb => *b"lmdb\0\0\0\0",
            Kind::Sqlite => *b"sqlite\0\0",
            Kind::Cdb => *b"cdb\0\0\0\0\0",
            Kind::Redb => *b"redb\0\0\0\0",
            Kind::Rocksdb => *b"rocksdb\0",
        })
    }
}

/// The fixed-size header at the start of a sidecar.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct Header {
    magic: [u8; 8],
    version: u32,
    endian: u32,
    /// Fingerprint of the data file the index was built from.
    pub data: Fingerprint,
    /// `xxh3_64` of the whole data file.
    pub data_full_hash: u64,
    kind: u64,
    /// Distinct keys indexed.
    pub keys: u64,
    /// `xxh3_64` of the body.
    pub body_hash: u64,
    /// Valid records in the data file.
    pub records: u64,
    /// Records dropped because an earlier record had the same key.
    pub duplicates: u64,
    /// Malformed lines skipped (non-zero only if built leniently).
    pub skipped: u64,
    /// What the kind needs to find its way in the body (sizes of its parts).
    pub layout: [u64; 2],
    header_hash: u64,
}

/// What a kind records about its index, for [`Header::new`].
#[derive(Clone, Copy, Debug)]
pub struct Counts {
    /// Distinct keys indexed.
    pub keys: u64,
    /// Valid records in the data file.
    pub records: u64,
    /// Records dropped because an earlier record had the same key.
    pub duplicates: u64,
    /// Malformed lines skipped.
    pub skipped: u64,
}

impl Counts {
    /// The counts of a file of `records` valid records (`skipped` malformed
    /// lines) holding `keys` distinct keys: the other records are duplicates.
    pub fn new(keys: usize, records: u64, skipped: u64) -> Self {
        Counts { keys: keys as u64, records, duplicates: records.saturating_sub(keys as u64), skipped }
    }
}

/// Cheap identity of a data file: length, mtime and a hash of sampled blocks.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct Fingerprint {
    /// Length in bytes.
    pub len: u64,
    /// Modification time, seconds since the epoch (0 if unknown).
    pub mtime_secs: i64,
    /// Sub-second part of the modification time.
    pub mtime_nanos: u32,
    pad: u32,
    /// `xxh3` of the first and last 64 KiB and 64 evenly spaced 4 KiB blocks.
    pub sample_hash: u64,
}

const HEADER_LEN: usize = size_of::<Header>();
const _: () = assert!(HEADER_LEN == 128);

impl Fingerprint {
    /// Fingerprints a mapped data file (reads about 0.4 MiB whatever its size).
    pub fn of(file: &DataFile) -> Self {
        let (mtime_secs, mtime_nanos) = match file.modified().map(|t| t.duration_since(UNIX_EPOCH)) {
            Some(Ok(d)) => (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos()),
            _ => (0, 0),
        };
        Fingerprint { len: file.len(), mtime_secs, mtime_nanos, pad: 0, sample_hash: sample_hash(file.bytes()) }
    }
}

fn sample_hash(data: &[u8]) -> u64 {
    const EDGE: usize = 64 << 10;
    const BLOCK: usize = 4 << 10;
    const BLOCKS: usize = 64;
    if data.len() <= 2 * EDGE + BLOCKS * BLOCK {
        return xxh3_64(data);
    }
    let mut h = Xxh3::new();
    h.update(data.get(..EDGE).unwrap_or_default());
    for i in 0..BLOCKS {
        let start = data.len() / BLOCKS * i;
        h.update(data.get(start..start + BLOCK).unwrap_or_default());
    }
    h.update(data.get(data.len() - EDGE..).unwrap_or_default());
    h.digest()
}

/// Why an existing sidecar was not reused.
#[derive(Debug)]
pub enum Stale {
    /// There is no sidecar yet.
    Missing,
    /// It could not be opened or mapped.
    Unreadable(std::io::Error),
    /// It is shorter than its header says, or than a header.
    Truncated,
    /// Not a kvbench index, another format version, or another byte order.
    Foreign,
    /// The header's own checksum does not match.
    CorruptHeader,
    /// The body's checksum does not match.
    CorruptBody,
    /// The data file changed since the index was built.
    DataChanged,
    /// Built leniently over malformed lines, but opened in strict mode.
    BuiltLeniently,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stale::Missing => write!(f, "none there yet"),
            Stale::Unreadable(e) => write!(f, "index unreadable ({e})"),
            Stale::Truncated => write!(f, "index truncated"),
            Stale::Foreign => write!(f, "not an index of this kind, version or byte order"),
            Stale::CorruptHeader => write!(f, "index header checksum mismatch"),
            Stale::CorruptBody => write!(f, "index body checksum mismatch"),
            Stale::DataChanged => write!(f, "data file changed since the index was built"),
            Stale::BuiltLeniently => write!(f, "index was built skipping malformed lines"),
        }
    }
}

impl Header {
    /// A header for a `kind` index of `data` whose body is `body` (its parts in order).
    pub fn new(data: &DataFile, kind: Kind, counts: Counts, layout: [u64; 2], body: &[&[u8]]) -> Self {
        let mut hash = Xxh3::new();
        for part in body {
            hash.update(part);
        }
        let mut header = Header {
            magic: MAGIC,
            version: VERSION,
            endian: ENDIAN_TAG,
            data: Fingerprint::of(data),
            data_full_hash: xxh3_64(data.bytes()),
            kind: kind.tag(),
            keys: counts.keys,
            body_hash: hash.digest(),
            records: counts.records,
            duplicates: counts.duplicates,
            skipped: counts.skipped,
            layout,
            header_hash: 0,
        };
        header.header_hash = header.own_hash();
        header
    }

    fn own_hash(&self) -> u64 {
        let bytes = bytemuck::bytes_of(self);
        xxh3_64(bytes.get(..HEADER_LEN - 8).unwrap_or_default())
    }
}

/// A validated sidecar, mapped: its header and body live in the page cache.
pub struct Sidecar {
    map: GuardedMap,
    /// Its header.
    pub header: Header,
}

impl Sidecar {
    /// The body: everything after the header, 16-byte aligned (the map is page-aligned).
    pub fn body(&self) -> &[u8] {
        self.map.get(HEADER_LEN..).unwrap_or_default()
    }

    /// Whether the bytes read so far are the sidecar's as mapped.
    #[inline]
    pub fn intact(&self) -> bool {
        self.map.intact()
    }

    /// Opens `path` and checks it is a `kind` index of `data` as it is now,
    /// whose body is `body_len(header)` bytes long.
    pub fn open(
        path: &Path,
        data: &DataFile,
        kind: Kind,
        verify_fully: bool,
        lenient: bool,
        body_len: impl Fn(&Header) -> Option<usize>,
    ) -> Result<Self, Stale> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Stale::Missing),
            Err(e) => return Err(Stale::Unreadable(e)),
        };
        // SAFETY: read-only private map. If another process rewrites the sidecar
        // in place, we may read garbage, which at worst makes lookups miss (every
        // offset is bounds-checked against the data); a truncation is survived
        // and caught by `intact`. kvbench itself only ever replaces sidecars by
        // rename, which leaves this mapping intact.
        let map = unsafe { GuardedMap::map(&file) }.map_err(Stale::Unreadable)?;
        let header_bytes = map.get(..HEADER_LEN).ok_or(Stale::Truncated)?;
        let header: Header = bytemuck::pod_read_unaligned(header_bytes);
        if header.magic != MAGIC
            || header.version != VERSION
            || header.endian != ENDIAN_TAG
            || header.kind != kind.tag()
        {
            return Err(Stale::Foreign);
        }
        if header.own_hash() != header.header_hash {
            return Err(Stale::CorruptHeader);
        }
        if body_len(&header).and_then(|n| n.checked_add(HEADER_LEN)) != Some(map.len()) {
            return Err(Stale::Truncated);
        }
        if header.data != Fingerprint::of(data) || (verify_fully && header.data_full_hash != xxh3_64(data.bytes())) {
            return Err(Stale::DataChanged);
        }
        if header.skipped > 0 && !lenient {
            return Err(Stale::BuiltLeniently);
        }
        map.advise(memmap2::Advice::Random);
        let sidecar = Sidecar { map, header };
        if xxh3_64(sidecar.body()) != header.body_hash {
            return Err(Stale::CorruptBody);
        }
        Ok(sidecar)
    }

    /// Writes a sidecar of `header` and `body` (temporary file, then rename, so
    /// readers never see a partial one) and maps it.
    ///
    /// Refuses to replace a file that is not a kvbench index (so a mistaken
    /// `--index` can never clobber the data or anything else), and maps the
    /// file it wrote through its own handle, so a concurrent writer of the same
    /// path cannot swap another index under this one.
    pub fn write(path: &Path, data: &DataFile, header: &Header, body: &[&[u8]]) -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        may_replace(path, data)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        let tmp = std::path::PathBuf::from(tmp);
        let result = (|| {
            let mut file = File::options().read(true).write(true).create_new(true).open(&tmp)?;
            file.write_all(bytemuck::bytes_of(header))?;
            for part in body {
                file.write_all(part)?;
            }
            // No fsync: after a crash a torn sidecar fails its checksums and is
            // rebuilt, so durability would only buy a slower build.
            // SAFETY: as in `open`; this handle is ours and the file is only
            // ever replaced by rename, which leaves this mapping intact.
            let map = unsafe { GuardedMap::map(&file) }?;
            std::fs::rename(&tmp, path)?;
            Ok(map)
        })();
        match result {
            Ok(map) => {
                map.advise(memmap2::Advice::Random);
                Ok(Sidecar { map, header: *header })
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

/// Whether `path` may be replaced by a new sidecar: it must not be the data
/// file itself, and must be missing or start with the index magic.
fn may_replace(path: &Path, data: &DataFile) -> std::io::Result<()> {
    use std::io::Read;
    let refuse = |why: &str| Err(std::io::Error::other(format!("refusing to overwrite {}: {why}", path.display())));
    if let (Ok(a), Ok(b)) = (path.canonicalize(), data.path().canonicalize())
        && a == b
    {
        return refuse("it is the data file");
    }
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut magic = [0u8; 6];
    match file.read_exact(&mut magic) {
        Ok(()) if magic == MAGIC[..6] => Ok(()),
        _ => refuse("it is not a kvbench index"),
    }
}

/// `data`'s path with `suffix` appended (`kv.txt` → `kv.txt.kvidx`): where a sidecar goes by default.
pub fn beside(data: &Path, suffix: &str) -> PathBuf {
    let mut name = data.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// How an index kind lays out its sidecar body: what [`Indexed::open`] needs.
pub trait Layout: Sized {
    /// The kind written in the header.
    const KIND: Kind;
    /// The body length `header` implies, or `None` if it makes no sense.
    fn body_len(header: &Header) -> Option<usize>;
    /// Builds the index of `data`: its header and its parts.
    fn build(data: &DataFile, lenient: bool) -> Result<(Header, Self), OpenError>;
    /// The body's parts, in order, as written after the header.
    fn body(&self) -> Vec<&[u8]>;
}

/// Where an index lives: mapped from its sidecar, or in memory when the
/// sidecar could not be written.
enum Store<T> {
    Mapped(Sidecar),
    Owned(Header, T),
}

/// An index's body as [`Indexed::stored`] lends it.
pub enum Stored<'a, T> {
    /// The body bytes of the mapped sidecar (checked against the header).
    Mapped(&'a [u8]),
    /// The parts built in memory.
    Owned(&'a T),
}

/// A mapped data file with an index kept in a sidecar: the opening, reuse,
/// rebuilding, fallback to memory and truncation checks that `mmap-index` and
/// `phf-index` share.
pub struct Indexed<T> {
    /// The data file, mapped.
    pub data: DataFile,
    store: Store<T>,
    /// Where the sidecar is (or would have been).
    pub sidecar_path: PathBuf,
    /// Whether the index came from an existing sidecar (kept apart from the
    /// notes, which are for people and may be reworded).
    pub reused: bool,
    /// What opening did, for [`crate::StrategyInfo::notes`].
    pub notes: Vec<String>,
    /// The sidecar, when this open wrote it.
    pub wrote: Option<PathBuf>,
}

impl<T> std::fmt::Debug for Indexed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexed")
            .field("sidecar", &self.sidecar_path)
            .field("reused", &self.reused)
            .finish_non_exhaustive()
    }
}

impl<T: Layout> Indexed<T> {
    /// Maps the data and reuses the sidecar at `opts.index_path` (else
    /// `default_path`) if it is valid, else builds the index and writes it
    /// there, keeping it in memory if it cannot.
    pub fn open(path: &Path, opts: &OpenOptions, default_path: PathBuf) -> Result<Self, OpenError> {
        let data = DataFile::open(path)?;
        data.advise(memmap2::Advice::Random);
        let sidecar_path = opts.index_path.clone().unwrap_or(default_path);
        let stale =
            match Sidecar::open(&sidecar_path, &data, T::KIND, opts.verify_index_fully, opts.lenient, T::body_len) {
                Ok(sidecar) => {
                    let notes = vec![format!("reused index {}", sidecar_path.display())];
                    let store = Store::Mapped(sidecar);
                    return Ok(Indexed { data, store, sidecar_path, reused: true, notes, wrote: None });
                }
                Err(stale) => stale,
            };
        let (header, parts) = data.vouch(T::build(&data, opts.lenient))?;
        let mut notes = vec![format!("built index ({stale})")];
        let mut wrote = None;
        let store = match Sidecar::write(&sidecar_path, &data, &header, &parts.body()) {
            Ok(sidecar) => {
                notes.push(format!("wrote {}", sidecar_path.display()));
                wrote = Some(sidecar_path.clone());
                Store::Mapped(sidecar)
            }
            Err(e) => {
                notes.push(format!("index kept in memory: cannot write {}: {e}", sidecar_path.display()));
                Store::Owned(header, parts)
            }
        };
        Ok(Indexed { data, store, sidecar_path, reused: false, notes, wrote })
    }

    /// The header of the index.
    pub fn header(&self) -> &Header {
        match &self.store {
            Store::Mapped(s) => &s.header,
            Store::Owned(header, _) => header,
        }
    }

    /// The index's body, mapped or in memory.
    pub fn stored(&self) -> Stored<'_, T> {
        match &self.store {
            Store::Mapped(s) => Stored::Mapped(s.body()),
            Store::Owned(_, parts) => Stored::Owned(parts),
        }
    }

    /// Whether the data and the sidecar are both as mapped (see [`crate::guard`]).
    #[inline]
    pub fn intact(&self) -> bool {
        self.data.intact()
            && match &self.store {
                Store::Mapped(sidecar) => sidecar.intact(),
                Store::Owned(..) => true,
            }
    }

    /// The error for a lookup that found [`Indexed::intact`] false: which file changed.
    #[cold]
    pub fn changed(&self) -> LookupError {
        let path = if self.data.intact() { &self.sidecar_path } else { self.data.path() };
        LookupError::changed(path)
    }

    /// Whether a lookup's answer may stand: a hit was confirmed in the data,
    /// so needs only the data intact; a miss needs the index intact too (a
    /// damaged index can only turn a hit into a miss).
    #[inline]
    pub fn answer_stands(&self, hit: bool) -> bool {
        if hit { self.data.intact() } else { self.intact() }
    }

    /// Maps in every page of the data file and of the sidecar, if mapped ([`crate::Lookup::populate`]).
    pub fn populate(&self) {
        self.data.populate();
        if let Store::Mapped(sidecar) = &self.store {
            sidecar.map.advise(memmap2::Advice::PopulateRead);
        }
    }

    /// What the strategy `name` holds: the header's counts, its
    /// `index_bytes` on the heap (index in memory) or mapped (in the sidecar)
    /// beside the data, plus `heap` bytes it always keeps in memory.
    pub fn info(&self, name: &str, index_bytes: u64, heap: u64) -> StrategyInfo {
        let h = self.header();
        let (index_heap, index_mapped) = match self.store {
            Store::Mapped(_) => (0, index_bytes),
            Store::Owned(..) => (index_bytes, 0),
        };
        StrategyInfo {
            name: name.into(),
            keys: Some(h.keys),
            records: Some(h.records),
            duplicates: Some(h.duplicates),
            skipped: h.skipped,
            heap_bytes: heap + index_heap,
            mapped_bytes: self.data.len() + index_mapped,
            notes: self.notes.clone(),
            wrote: self.wrote.iter().cloned().collect(),
            ..StrategyInfo::default()
        }
    }
}

impl<T> Indexed<T> {
    /// Checks a batch's answers as [`Indexed::answer_stands`] does each one,
    /// reading the intactness flags once for the whole batch.
    pub fn settle(&self, answers: &mut [Result<Option<Value<'_>>, LookupError>])
    where
        T: Layout,
    {
        let (data_ok, all_ok) = (self.data.intact(), self.intact());
        for answer in answers {
            let ok = match answer {
                Ok(Some(_)) => data_ok,
                Ok(None) => all_ok,
                Err(_) => true,
            };
            if !ok {
                *answer = Err(self.changed());
            }
        }
    }
}
