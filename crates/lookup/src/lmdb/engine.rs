//! The engine of `lmdb` (its facts are in `lmdb.rs`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

use heed::types::Bytes;
use heed::{CommitOrAbort, Database, Env, EnvFlags, EnvOpenOptions, PutFlags, RoTxn, WithoutTls};

use crate::pool::Pool;
use crate::sidecar::Kind;
use crate::store::{Engine, Record, Tuning};

/// An LMDB environment opened read-only over a store file.
pub struct Lmdb {
    opened: Arc<Opened>,
    /// Tuned: read transactions kept open and reused, one per thread in use
    /// (see `lmdb.rs`); on the defaults, `None`: one begun per lookup or batch.
    txns: Option<Pool<RoTxn<'static, WithoutTls>>>,
}

/// The environment and its main database.
struct Opened {
    /// Without thread-local reader slots (`MDB_NOTLS`), so that a read
    /// transaction may be handed from thread to thread through the pool.
    env: Env<WithoutTls>,
    db: Database<'static, Bytes, Bytes>,
}

/// The environments open in this process, by path. heed refuses to open one
/// path twice in a process, and a server opens a store again on SIGHUP while
/// the old one still serves: the second open shares the first's environment.
/// Sharing is safe because a store file's name carries its content's hash
/// and kvbench only ever replaces stores by rename, never in place.
static OPEN: LazyLock<Mutex<HashMap<PathBuf, Weak<Opened>>>> = LazyLock::new(Default::default);

/// Room LMDB may map beyond the records' bytes: page and branch overhead, rounded generously.
fn map_size(records: &[Record<'_>]) -> usize {
    let bytes: usize = records.iter().map(|r| r.key.len() + r.value.len() + 16).sum();
    (bytes * 2 + (64 << 20)).next_multiple_of(4096)
}

impl Engine for Lmdb {
    const NAME: &'static str = "lmdb";
    const KIND: Kind = Kind::Lmdb;

    fn build(path: &Path, records: &[Record<'_>]) -> Result<(), String> {
        let flags = EnvFlags::NO_SUB_DIR | EnvFlags::NO_LOCK | EnvFlags::NO_SYNC;
        let mut options = EnvOpenOptions::new();
        options.map_size(map_size(records)).max_dbs(0);
        // SAFETY: heed's contract: the file is not opened twice in this process
        // (it is new, in a directory of this build) and no other process writes it.
        let env = unsafe { options.flags(flags).open(path) }.map_err(|e| e.to_string())?;
        let wtxn = env.write_txn().map_err(|e| e.to_string())?;
        let loaded = env.create_databases_and_commit(wtxn, |opener, wtxn| -> heed::Result<_> {
            let db: Database<'_, Bytes, Bytes> = opener.create_database(wtxn, None)?;
            for record in records {
                db.put_with_flags(wtxn, PutFlags::APPEND, record.key, record.value)?;
            }
            Ok(CommitOrAbort::<(), ()>::Commit(()))
        });
        loaded.map_err(|e| e.to_string())?;
        env.force_sync().map_err(|e| e.to_string())?;
        env.prepare_for_closing().wait();
        Ok(())
    }

    fn open(path: &Path, tuning: Tuning, _memory_limit: Option<u64>) -> Result<Self, String> {
        let path = path.canonicalize().map_err(|e| e.to_string())?;
        let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|_, env| env.strong_count() > 0);
        let opened = match open.get(&path).and_then(Weak::upgrade) {
            Some(opened) => opened,
            None => {
                let opened = Arc::new(Opened::open(&path, tuning)?);
                open.insert(path, Arc::downgrade(&opened));
                opened
            }
        };
        Ok(Lmdb { opened, txns: (tuning == Tuning::Tuned).then(Pool::new) })
    }

    fn maps_file(&self) -> bool {
        true
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        self.with_txn(|db, rtxn| Ok(db.get(rtxn, key)?.map(<[u8]>::to_vec)))
    }

    fn get_many(&self, keys: &[&[u8]], push: &mut dyn FnMut(Result<Option<Vec<u8>>, String>)) {
        let ran = self.with_txn(|db, rtxn| {
            for key in keys {
                push(db.get(rtxn, key).map(|v| v.map(<[u8]>::to_vec)).map_err(|e| e.to_string()));
            }
            Ok(())
        });
        if let Err(e) = ran {
            keys.iter().for_each(|_| push(Err(e.clone())));
        }
    }
}

impl Lmdb {
    /// Runs `f` with the database in a read transaction: a pooled one kept
    /// open (tuned), or one begun for the call (the defaults).
    fn with_txn<T>(
        &self,
        f: impl FnOnce(&Database<'static, Bytes, Bytes>, &RoTxn<'_, WithoutTls>) -> heed::Result<T>,
    ) -> Result<T, String> {
        let Opened { env, db } = &*self.opened;
        match &self.txns {
            Some(pool) => pool.with(|| env.clone().static_read_txn(), |rtxn| f(db, rtxn)),
            None => env.read_txn().and_then(|rtxn| f(db, &rtxn)).map_err(|e| e.to_string()),
        }
    }
}

impl Opened {
    fn open(path: &Path, tuning: Tuning) -> Result<Self, String> {
        let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
        let map = usize::try_from(len).map_err(|e| e.to_string())?.next_multiple_of(4096).max(4096);
        let mut flags = EnvFlags::NO_SUB_DIR | EnvFlags::READ_ONLY | EnvFlags::NO_LOCK;
        if tuning == Tuning::Tuned {
            flags |= EnvFlags::NO_READ_AHEAD;
        }
        let mut options = EnvOpenOptions::new().read_txn_without_tls();
        options.map_size(map).max_dbs(0);
        // SAFETY: as in `build`; the store file's name carries its hash, so a
        // rebuilt store is another path, and no process writes a stamped store.
        let env = unsafe { options.flags(flags).open(path) }.map_err(|e| e.to_string())?;
        let rtxn = env.read_txn().map_err(|e| e.to_string())?;
        let db = env
            .open_databases_and_commit(rtxn, |opener, rtxn| -> heed::Result<_> {
                Ok(CommitOrAbort::<_, ()>::Commit(opener.open_database::<Bytes, Bytes>(rtxn, None)?))
            })
            .map_err(|e| e.to_string())?;
        match db {
            CommitOrAbort::Commit(Some(db)) => Ok(Opened { env, db }),
            _ => Err("the LMDB file has no main database".into()),
        }
    }
}
