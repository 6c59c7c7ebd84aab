//! The embedded engines (`lmdb`, `sqlite`, `cdb`, `redb`, `rocksdb`): one store each,
//! built from the data file, kept beside it, stamped, checked and reused.
//!
//! A store is a directory (default `<data>.kv<engine>`, or
//! [`OpenOptions::index_path`]) holding two files:
//!
//! - `store-<hash>`: the engine's own file, loaded with every distinct key of
//!   the data file and its value (first occurrence wins, malformed lines as
//!   everywhere: an error, or skipped with `--lenient`), in key order, which is
//!   the fast way to load every engine's B-tree and which cdb does not mind;
//! - `stamp`: a sidecar header (`sidecar.rs`) that ties the store to one
//!   version of the data file, names the store file's length and full hash,
//!   and holds the store file's own [`Fingerprint`] as its body.
//!
//! Opening reuses the store only if the stamp is intact and of this engine,
//! the data file is the one it was built from, and the store file still has
//! its length and sampled hash (its full hash too with
//! [`OpenOptions::verify_index_fully`]); otherwise it rebuilds, in a fresh
//! directory renamed into place, so readers never see half a store. The store
//! file's name carries its hash, so a rebuilt store never has the path of the
//! one it replaces (LMDB refuses to open one path twice in a process).
//!
//! A store is replaced only if it is kvbench's: a file in its place, or a
//! directory without a kvbench stamp, is refused with a clear error, and a
//! replaced store's directory loses only the files kvbench wrote there.
//!
//! Values are copied out of the engine ([`Value::Owned`]): each engine lends
//! them only for a transaction or a call. Once open, an engine needs nothing
//! from the data file, so a data file changed later goes unnoticed until the
//! next open, as with `hashmap`.

// A build without any engine (`--no-default-features`) keeps the facts and leaves the machinery unused.
#![cfg_attr(
    not(any(feature = "lmdb", feature = "sqlite", feature = "cdb", feature = "redb", feature = "rocksdb")),
    allow(dead_code)
)]
use std::fs;
use std::path::{Path, PathBuf};

use rayon::slice::ParallelSliceMut;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{LookupError, OpenError};
use crate::facts::{Facts, Family, Memory, Open, Place, Setting, Start, Store, WarmUp};
use crate::format::{self, check_key};
use crate::info::StrategyInfo;
use crate::sidecar::{Counts, Fingerprint, Header, Kind, Sidecar, Stale};
use crate::source::DataFile;
use crate::{Lookup, OpenOptions, Value};

/// One record to load: a distinct key, its value, and its line's offset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value of the key's first record.
    pub value: &'a [u8],
    /// Offset of that record's line in the data file.
    pub offset: u64,
}

/// Every distinct key of `data` with its first value, sorted by key, and the
/// file's counts: what every engine is loaded with.
pub(crate) fn sorted_records(data: &DataFile, lenient: bool) -> Result<(Vec<Record<'_>>, Counts), OpenError> {
    let parsed = format::parse(data.path(), data.bytes(), lenient, Vec::new, |records: &mut Vec<Record<'_>>, line| {
        records.push(Record { key: line.key, value: line.value, offset: line.offset as u64 });
    })?;
    let mut records = parsed.chunks.concat();
    // A stable sort keeps equal keys in file order, so the first of each run is the first record.
    records.par_sort_by(|a, b| a.key.cmp(b.key));
    records.dedup_by(|later, first| later.key == first.key);
    let counts = Counts::new(records.len(), parsed.records, parsed.skipped);
    Ok((records, counts))
}

/// How an engine is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tuning {
    /// With the settings its facts list ([`Facts::settings`]), as its
    /// maintainers advise for read-only point lookups on a static file.
    Tuned,
    /// On its maintainers' defaults (`sqlite(defaults)`).
    Defaults,
}

impl Tuning {
    /// How `opts` asks for an engine to be opened.
    fn of(opts: &OpenOptions) -> Self {
        if opts.engine_defaults { Tuning::Defaults } else { Tuning::Tuned }
    }
}

/// An embedded engine: how to load a store file and read it back.
pub(crate) trait Engine: Sized + Send + Sync {
    /// The strategy's name.
    const NAME: &'static str;
    /// The stamp's kind: a store of one engine is foreign to the others.
    const KIND: Kind;
    /// Writes a new store file at `path` holding `records` (sorted, distinct keys).
    fn build(path: &Path, records: &[Record<'_>]) -> Result<(), String>;

    /// The file whose length and hash the stamp vouches for in the store at
    /// `store`: the store file itself, or where an engine's store is a
    /// directory (RocksDB's), the one table file that holds its records.
    fn stamped(store: &Path) -> Result<PathBuf, String> {
        Ok(store.to_owned())
    }

    /// Opens the store at `path` for reading, with the settings the engine's
    /// facts list or on its defaults; `memory_limit` is what the process may
    /// use if it is limited ([`OpenOptions::memory_limit`]), for an engine
    /// that sizes a cache to it.
    fn open(path: &Path, tuning: Tuning, memory_limit: Option<u64>) -> Result<Self, String>;

    /// Whether the engine maps its file (its pages then count as file-backed
    /// memory and [`Engine::warm`] maps them in), or reads it with `read()`.
    fn maps_file(&self) -> bool;

    /// Brings in what the engine's lookups read before they run at their
    /// steady speed ([`Lookup::populate`]): by default the pages of the
    /// `store` file wherever this process maps it; an engine with a cache of
    /// its own fills it.
    fn warm(&self, store: &Path) {
        if self.maps_file() {
            populate_maps_of(store);
        }
    }

    /// The value stored for `key` (a valid key), or `None`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String>;

    /// The values for several valid keys, one `push` each in order; engines
    /// with a transaction take one for the whole batch.
    fn get_many(&self, keys: &[&[u8]], push: &mut dyn FnMut(Result<Option<Vec<u8>>, String>)) {
        for key in keys {
            push(self.get(key));
        }
    }
}

/// The facts of an embedded engine called `name`: its store in a directory
/// beside the data, reopened by the default suite after a timed build, and
/// started cold; its build peaks at `build_bytes_per_key` of memory, and its
/// format refuses a store of `limit_bytes` or more; it takes about
/// `build_ns_per_key` to build; it is opened with `settings`. Every engine
/// sorts the records in memory first (40 B/key) and writes a store of
/// 76–114 B/key (at 10M keys), so the four differ only there.
pub(crate) const fn engine_facts(
    name: &'static str,
    build_bytes_per_key: u64,
    build_ns_per_key: u64,
    limit_bytes: Option<u64>,
    settings: &'static [Setting],
    open: Open,
) -> Facts {
    Facts {
        name,
        family: Family::Engine,
        store: Some(Store {
            place: Place::StoreDir,
            build_bytes_per_key,
            disk_bytes_per_key: 120,
            build_ns_per_key,
            limit_bytes,
        }),
        memory: Memory::Mapped,
        warm_up: WarmUp::None,
        memchr_floor: false,
        starts: &[Start::Build, Start::Warm, Start::Cold],
        settings,
        open,
    }
}

/// The stamp inside a store directory.
const STAMP: &str = "stamp";
/// The prefix of the engine's file inside a store directory.
const STORE_PREFIX: &str = "store-";

/// The engine file a stamp names: `store-<full hash>`.
fn store_file(dir: &Path, header: &Header) -> PathBuf {
    dir.join(format!("{STORE_PREFIX}{:016x}", header.layout[1]))
}

/// An engine serving the records of a data file from its store.
pub(crate) struct EngineLookup<E> {
    engine: E,
    header: Header,
    /// The engine's file (or directory).
    store: PathBuf,
    /// The file the stamp vouches for: the store file, or the table file in a store directory.
    stamped: PathBuf,
    store_len: u64,
    notes: Vec<String>,
    wrote: Option<PathBuf>,
}

impl<E> std::fmt::Debug for EngineLookup<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineLookup").field("store", &self.store).finish_non_exhaustive()
    }
}

impl<E: Engine> EngineLookup<E> {
    /// Reuses the store for the data file at `path` if it is valid, else builds it.
    pub(crate) fn open(path: &Path, opts: &OpenOptions) -> Result<Self, OpenError> {
        let data = DataFile::open(path)?;
        // Checking the stamp reads 64 scattered blocks of the data file: without this, each
        // would read ahead as far as the device says (8 MiB on the reference machine), and a
        // cold reopen at 10M keys read 79 % of a file it never needs again.
        data.advise(memmap2::Advice::Random);
        let dir = opts.index_path.clone().unwrap_or_else(|| crate::facts::default_store_path(path, E::NAME));
        let stale = match Self::reuse(&dir, &data, opts) {
            Ok(lookup) => return Ok(lookup),
            Err(stale) => stale,
        };
        // A build reads the whole file in order.
        data.advise(memmap2::Advice::Sequential);
        let failed = |why: String| OpenError::Store { path: dir.clone(), why };
        ours(&dir).map_err(failed)?;
        let (records, counts) = data.vouch(sorted_records(&data, opts.lenient))?;
        let header = build::<E>(&dir, &data, &records, counts).map_err(failed)?;
        drop(records);
        let store = store_file(&dir, &header);
        let opened =
            E::stamped(&store).and_then(|stamped| Ok((E::open(&store, Tuning::of(opts), opts.memory_limit)?, stamped)));
        let (engine, stamped) = opened.map_err(|why| OpenError::Store { path: store.clone(), why })?;
        let notes = vec![format!("built store ({stale})"), format!("wrote {}", dir.display())];
        Ok(EngineLookup { engine, header, store, stamped, store_len: header.layout[0], notes, wrote: Some(dir) })
    }

    /// The store in `dir`, if its stamp and file say it holds this data file's records.
    fn reuse(dir: &Path, data: &DataFile, opts: &OpenOptions) -> Result<Self, Stale> {
        let stamp = Sidecar::open(&dir.join(STAMP), data, E::KIND, opts.verify_index_fully, opts.lenient, |_| {
            Some(size_of::<Fingerprint>())
        })?;
        let header = stamp.header;
        let expected: Fingerprint = bytemuck::pod_read_unaligned(stamp.body());
        let store = store_file(dir, &header);
        let stamped = E::stamped(&store).map_err(|_| Stale::Truncated)?;
        let file = match DataFile::open(&stamped) {
            Ok(file) => file,
            Err(OpenError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(Stale::Truncated);
            }
            Err(e) => return Err(Stale::Unreadable(std::io::Error::other(e.to_string()))),
        };
        if file.len() != header.layout[0] {
            return Err(Stale::Truncated);
        }
        // Its fingerprint samples 64 scattered blocks: with readahead each would read as far as
        // the device says (8 MiB here), and a cold reopen at 10M keys put 525 MiB of RocksDB's
        // table in the page cache before its first lookup (as the data file's stamp did, above).
        file.advise(memmap2::Advice::Random);
        if Fingerprint::of(&file) != expected || (opts.verify_index_fully && xxh3_64(file.bytes()) != header.layout[1])
        {
            return Err(Stale::CorruptBody);
        }
        drop(file);
        let engine = E::open(&store, Tuning::of(opts), opts.memory_limit)
            .map_err(|e| Stale::Unreadable(std::io::Error::other(e)))?;
        let notes = vec![format!("reused store {}", dir.display())];
        Ok(EngineLookup { engine, header, store, stamped, store_len: header.layout[0], notes, wrote: None })
    }

    fn failed(&self, message: String) -> LookupError {
        LookupError::Store { path: self.store.clone(), message }
    }
}

/// Errs unless `dir` is missing or a store kvbench wrote (a directory whose stamp has the sidecar magic).
fn ours(dir: &Path) -> Result<(), String> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let refuse = |what: &str| Err(format!("refusing to replace it: {what}; move it away or choose another --index"));
    if !meta.is_dir() {
        return refuse("it is not a kvbench store (a file is in its place)");
    }
    let magic = fs::read(dir.join(STAMP)).ok().and_then(|stamp| stamp.get(..6).map(<[u8]>::to_vec));
    if magic.as_deref() != Some(&crate::sidecar::MAGIC[..6]) {
        return refuse("it is a directory without a kvbench stamp");
    }
    Ok(())
}

/// Maps in every page of `path` this process maps, whoever mapped it: LMDB
/// and cdb2 keep their maps to themselves, so they are found in
/// `/proc/self/maps` ([`Lookup::populate`]; a hint, failures are ignored).
fn populate_maps_of(path: &Path) {
    let (Ok(path), Ok(maps)) = (path.canonicalize(), fs::read_to_string("/proc/self/maps")) else { return };
    let Some(path) = path.to_str() else { return };
    for line in maps.lines() {
        // `start-end perms offset dev inode`, then the path after some padding.
        let mut fields = line.splitn(6, ' ');
        let range = fields.next().and_then(|r| r.split_once('-'));
        let mapped = fields.nth(4).map(str::trim_start);
        let (Some((start, end)), Some(mapped)) = (range, mapped) else { continue };
        let (Ok(start), Ok(end)) = (usize::from_str_radix(start, 16), usize::from_str_radix(end, 16)) else { continue };
        if mapped == path && end > start {
            // SAFETY: a hint over a range this process has mapped (read-only
            // file pages); it changes no memory, and a refusal is ignored.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_POPULATE_READ) };
        }
    }
}

/// Removes the files kvbench writes in a store directory, then the directory
/// (which fails, leaving it, if anyone else put files there).
fn remove_store_dir(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == STAMP {
            fs::remove_file(entry.path())?;
        } else if name.starts_with(STORE_PREFIX) {
            // An engine's store file, or the directory an engine writes (RocksDB's), all of it kvbench's.
            match entry.file_type()?.is_dir() {
                true => fs::remove_dir_all(entry.path())?,
                false => fs::remove_file(entry.path())?,
            }
        }
    }
    fs::remove_dir(dir)
}

/// Removes an index sidecar file or an engine's store directory at `path`, if any.
pub fn remove_index(path: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => remove_store_dir(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The files of an index sidecar (the file itself) or of an engine's store
/// (the files in its directory, and in a directory the engine keeps there)
/// at `path`; none if there is nothing there.
pub fn index_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let mut files = Vec::new();
            for entry in fs::read_dir(path)? {
                let entry = entry?;
                match entry.file_type()?.is_dir() {
                    true => files.extend(index_files(&entry.path())?),
                    false => files.push(entry.path()),
                }
            }
            Ok(files)
        }
        Ok(_) => Ok(vec![path.to_owned()]),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Bytes on disk of an index sidecar or an engine's store at `path` (0 if there is none).
pub fn index_bytes(path: &Path) -> std::io::Result<u64> {
    index_files(path)?.iter().map(|file| Ok(fs::metadata(file)?.len())).sum()
}

/// Builds a store of `records` in a fresh directory beside `dir`, stamps it,
/// and renames it into place (replacing the old store, which [`ours`] vouched for).
fn build<E: Engine>(dir: &Path, data: &DataFile, records: &[Record<'_>], counts: Counts) -> Result<Header, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp =
        crate::sidecar::beside(dir, &format!(".tmp{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    let result = (|| {
        fs::create_dir(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let building = tmp.join(format!("{STORE_PREFIX}building"));
        E::build(&building, records)?;
        let file = DataFile::open(&E::stamped(&building)?).map_err(|e| e.to_string())?;
        let full_hash = xxh3_64(file.bytes());
        let fingerprint = Fingerprint::of(&file);
        let layout = [file.len(), full_hash];
        drop(file);
        let body = [bytemuck::bytes_of(&fingerprint)];
        let header = Header::new(data, E::KIND, counts, layout, &body);
        fs::rename(&building, store_file(&tmp, &header)).map_err(|e| e.to_string())?;
        Sidecar::write(&tmp.join(STAMP), data, &header, &body).map_err(|e| e.to_string())?;
        if fs::symlink_metadata(dir).is_ok() {
            remove_store_dir(dir).map_err(|e| format!("cannot remove the stale store: {e}"))?;
        }
        fs::rename(&tmp, dir).map_err(|e| format!("cannot move the new store into place: {e}"))?;
        Ok(header)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

impl<E: Engine> Lookup for EngineLookup<E> {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        Ok(self.engine.get(key).map_err(|e| self.failed(e))?.map(Value::Owned))
    }

    fn get_many<'s>(&'s self, keys: &[&[u8]], out: &mut Vec<Result<Option<Value<'s>>, LookupError>>) {
        out.clear();
        if keys.iter().any(|key| check_key(key).is_err()) {
            out.extend(keys.iter().map(|key| self.get(key)));
            return;
        }
        self.engine.get_many(keys, &mut |answer| {
            out.push(answer.map(|value| value.map(Value::Owned)).map_err(|e| self.failed(e)));
        });
    }

    fn info(&self) -> StrategyInfo {
        let (mapped_bytes, read_files) =
            if self.engine.maps_file() { (self.store_len, Vec::new()) } else { (0, vec![self.stamped.clone()]) };
        StrategyInfo {
            name: E::NAME.into(),
            keys: Some(self.header.keys),
            records: Some(self.header.records),
            duplicates: Some(self.header.duplicates),
            skipped: self.header.skipped,
            mapped_bytes,
            read_files,
            notes: self.notes.clone(),
            wrote: self.wrote.iter().cloned().collect(),
            ..StrategyInfo::default()
        }
    }

    fn populate(&self) {
        self.engine.warm(&self.store);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident kB of the mappings of `path` in this process, from `/proc/self/smaps`.
    fn resident_kb(path: &Path) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let path = path.canonicalize().unwrap();
        let mut ours = false;
        let mut kb = 0;
        for line in smaps.lines() {
            if let Some(rss) = line.strip_prefix("Rss:") {
                if ours {
                    kb += rss.trim().trim_end_matches(" kB").parse::<u64>().unwrap();
                }
            } else if line.split_whitespace().nth(1).is_some_and(|f| f.len() == 4 && f.starts_with('r')) {
                ours = line.ends_with(path.to_str().unwrap());
            }
        }
        kb
    }

    #[test]
    fn populate_maps_in_a_map_kvbench_did_not_make() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: a test's own read-only map of a file nobody else writes.
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        assert_eq!(resident_kb(&path), 0, "a fresh map has no pages mapped in");
        populate_maps_of(&path);
        assert_eq!(resident_kb(&path), 1024);
        drop(map);
    }

    #[test]
    fn sorted_records_keep_the_first_value_of_each_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.txt");
        std::fs::write(&path, "b 1\na 2\nb 3\nc\t4\r\na 5").unwrap();
        let data = DataFile::open(&path).unwrap();
        let (records, counts) = sorted_records(&data, false).unwrap();
        let pairs: Vec<(&[u8], &[u8])> = records.iter().map(|r| (r.key, r.value)).collect();
        assert_eq!(pairs, [(&b"a"[..], &b"2"[..]), (b"b", b"1"), (b"c", b"4")]);
        assert_eq!((counts.keys, counts.records, counts.duplicates), (3, 5, 2));
    }
}
