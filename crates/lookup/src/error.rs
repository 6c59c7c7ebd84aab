//! Typed errors: what went wrong opening a data file, and what a lookup refused.

use std::io;
use std::path::PathBuf;

/// Why one line of a data file is not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineFault {
    /// The line has no space or tab between key and value (includes blank lines).
    #[error("no separator (a space or tab) between key and value")]
    NoSeparator,
    /// The line starts with its separator.
    #[error("empty key")]
    EmptyKey,
    /// The key is longer than [`crate::format::MAX_KEY_LEN`].
    #[error("key of {0} bytes is longer than the limit of {max}", max = crate::format::MAX_KEY_LEN)]
    KeyTooLong(usize),
}

/// Why a key given to [`crate::Lookup::get`] can never be in any data file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyFault {
    /// The key is empty.
    #[error("empty key")]
    Empty,
    /// The key is longer than [`crate::format::MAX_KEY_LEN`].
    #[error("key of {0} bytes is longer than the limit of {max}", max = crate::format::MAX_KEY_LEN)]
    TooLong(usize),
    /// The key contains a space, tab or newline, which end a key in the file.
    #[error("key contains a space, tab or newline")]
    Separator,
}

/// Why a strategy could not be opened on a data file.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file could not be opened, read or mapped.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The path exists but is a directory, socket or device.
    #[error("{path}: not a regular file", path = path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// A line is not a `<key> <value>` record (and lenient mode is off).
    #[error("{path}:{line}: malformed line: {fault} (use --lenient to skip such lines)", path = path.display())]
    Malformed {
        /// The data file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        fault: LineFault,
    },
    /// The file shrank or its end changed while it was being read.
    #[error("{path}: changed while being read (truncated or rewritten in place); try again once it is complete", path = path.display())]
    Changed {
        /// The file concerned.
        path: PathBuf,
    },
    /// The strategy configuration itself is invalid.
    #[error("invalid strategy: {0}")]
    Config(String),
    /// An index could not be built over the file's keys.
    #[error("{path}: cannot build the index: {why}", path = path.display())]
    Index {
        /// The data file.
        path: PathBuf,
        /// What failed.
        why: String,
    },
    /// An engine's store (`lmdb`, `sqlite`, `cdb`, `redb`) could not be used, built or replaced.
    #[error("{path}: {why}", path = path.display())]
    Store {
        /// The store concerned.
        path: PathBuf,
        /// What failed.
        why: String,
    },
    /// A backing server (Redis) could not be reached or refused a command.
    #[error("redis at {url}: {message}")]
    Backend {
        /// The server's URL (without any password).
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The Redis db holds keys kvbench did not load, so it is left alone.
    #[error(
        "redis db at {url} holds {keys} keys not loaded by kvbench; choose another db (redis://host:port/N) or cluster, or flush it"
    )]
    ForeignData {
        /// The db's URL (without any password).
        url: String,
        /// Keys it holds.
        keys: u64,
    },
}

/// Why a lookup gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The key can never be in a data file.
    #[error("invalid key: {0}")]
    InvalidKey(#[from] KeyFault),
    /// The strategy reads the file per lookup and that read failed.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The data file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A mapped data file shrank (or its end was rewritten) since it was
    /// opened, so what the lookup read cannot be trusted; open it again.
    #[error("{path}: the data file changed under the server (truncated or rewritten in place); it must be reopened", path = path.display())]
    DataChanged {
        /// The data file (or its index sidecar).
        path: PathBuf,
    },
    /// An engine could not read its store.
    #[error("{path}: {message}", path = path.display())]
    Store {
        /// The engine's store file.
        path: PathBuf,
        /// What the engine said.
        message: String,
    },
    /// The backing server (Redis) could not answer.
    #[error("redis at {url}: {message}")]
    Backend {
        /// The server's URL (without any password).
        url: String,
        /// What went wrong.
        message: String,
    },
}

impl LookupError {
    /// [`LookupError::DataChanged`] for `path`; out of line, as lookups only take it once.
    #[cold]
    #[inline(never)]
    pub(crate) fn changed(path: &std::path::Path) -> Self {
        LookupError::DataChanged { path: path.to_owned() }
    }
}

impl OpenError {
    pub(crate) fn io(path: &std::path::Path, source: io::Error) -> Self {
        OpenError::Io { path: path.to_owned(), source }
    }
}
