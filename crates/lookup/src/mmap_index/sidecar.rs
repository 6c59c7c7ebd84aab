//! The index sidecar file: a 128-byte header, the guide, then the sorted entries.
//!
//! The header ties the index to one version of the data file (length, mtime,
//! and a hash of sampled blocks; optionally a hash of all of it) and checksums
//! itself and the body (guide and entries), so a stale, truncated or
//! corrupted sidecar is detected and rebuilt, never trusted. Entries are native little-endian
//! `(hash, offset)` pairs; a big-endian machine sees a foreign endian tag and
//! rebuilds.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::UNIX_EPOCH;

use bytemuck::{Pod, Zeroable};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use super::{IndexRef, guide_len};
use crate::guard::GuardedMap;
use crate::source::DataFile;

/// First bytes of every sidecar; `\r\n` catches text-mode mangling, as PNG's does.
pub const MAGIC: [u8; 8] = *b"KVBIDX\r\n";
/// Bumped whenever the layout or the hash function changes.
pub const VERSION: u32 = 2;
const ENDIAN_TAG: u32 = 0x0102_0304;

/// One index entry: the stable 64-bit hash of a key and its line's offset.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Pod, Zeroable)]
pub struct Entry {
    /// `xxh3_64` of the key (stable across runs and machines).
    pub hash: u64,
    /// Offset of the record's line in the data file.
    pub offset: u64,
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
    /// Number of entries following the guide.
    pub entries: u64,
    /// `xxh3_64` of the body: guide then entries.
    pub body_hash: u64,
    /// Valid records in the data file.
    pub records: u64,
    /// Records dropped because an earlier record had the same key.
    pub duplicates: u64,
    /// Malformed lines skipped (non-zero only if built leniently).
    pub skipped: u64,
    /// The guide has `2^guide_bits + 1` slots.
    pub guide_bits: u64,
    reserved: [u64; 2],
    header_hash: u64,
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
            Stale::Missing => write!(f, "no index yet"),
            Stale::Unreadable(e) => write!(f, "index unreadable ({e})"),
            Stale::Truncated => write!(f, "index truncated"),
            Stale::Foreign => write!(f, "not an index of this version or byte order"),
            Stale::CorruptHeader => write!(f, "index header checksum mismatch"),
            Stale::CorruptBody => write!(f, "index body checksum mismatch"),
            Stale::DataChanged => write!(f, "data file changed since the index was built"),
            Stale::BuiltLeniently => write!(f, "index was built skipping malformed lines"),
        }
    }
}

impl Header {
    /// A header for `index` built from `data`.
    pub fn new(data: &DataFile, index: IndexRef<'_>, records: u64, duplicates: u64, skipped: u64) -> Self {
        let mut header = Header {
            magic: MAGIC,
            version: VERSION,
            endian: ENDIAN_TAG,
            data: Fingerprint::of(data),
            data_full_hash: xxh3_64(data.bytes()),
            entries: index.entries.len() as u64,
            body_hash: index.body_hash(),
            records,
            duplicates,
            skipped,
            guide_bits: u64::from(index.guide_bits()),
            reserved: [0; 2],
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

/// A validated sidecar, mapped: its header and entries live in the page cache.
pub struct Sidecar {
    map: GuardedMap,
    /// Its header.
    pub header: Header,
}

impl Sidecar {
    /// The guide and the entries, as a searchable index.
    pub fn index(&self) -> IndexRef<'_> {
        let guide_len = guide_len(self.header.guide_bits).unwrap_or(0);
        let body = self.map.get(HEADER_LEN..).unwrap_or_default();
        let (guide, entries) = body.split_at(body.len().min(guide_len * 8));
        // `open` checked the lengths; the map is page-aligned and the header
        // and guide sizes are multiples of 16, so the casts hold.
        IndexRef::new(
            bytemuck::try_cast_slice(guide).unwrap_or_default(),
            bytemuck::try_cast_slice(entries).unwrap_or_default(),
        )
    }

    /// Whether the index bytes read so far are the sidecar's as mapped.
    #[inline]
    pub fn intact(&self) -> bool {
        self.map.intact()
    }

    /// Opens `path` and checks it belongs to `data` as it is now.
    pub fn open(path: &Path, data: &DataFile, verify_fully: bool, lenient: bool) -> Result<Self, Stale> {
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
        if header.magic != MAGIC || header.version != VERSION || header.endian != ENDIAN_TAG {
            return Err(Stale::Foreign);
        }
        if header.own_hash() != header.header_hash {
            return Err(Stale::CorruptHeader);
        }
        let expected_len = usize::try_from(header.entries)
            .ok()
            .and_then(|n| n.checked_mul(size_of::<Entry>()))
            .zip(guide_len(header.guide_bits))
            .and_then(|(entries, guide)| entries.checked_add(guide.checked_mul(8)?)?.checked_add(HEADER_LEN));
        if expected_len != Some(map.len()) {
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
        if sidecar.index().body_hash() != header.body_hash {
            return Err(Stale::CorruptBody);
        }
        Ok(sidecar)
    }

    /// Writes a sidecar (temporary file, then rename, so readers never see a
    /// partial one) and maps it.
    ///
    /// Refuses to replace a file that is not a kvbench index (so a mistaken
    /// `--index` can never clobber the data or anything else), and maps the
    /// file it wrote through its own handle, so a concurrent writer of the same
    /// path cannot swap another index under this one.
    pub fn write(path: &Path, data: &DataFile, header: &Header, index: IndexRef<'_>) -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        may_replace(path, data)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        let tmp = std::path::PathBuf::from(tmp);
        let result = (|| {
            let mut file = File::options().read(true).write(true).create_new(true).open(&tmp)?;
            file.write_all(bytemuck::bytes_of(header))?;
            file.write_all(bytemuck::cast_slice(index.guide))?;
            file.write_all(bytemuck::cast_slice(index.entries))?;
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
