//! A memory limit for child processes that counts the page cache: a cgroup
//! (v1 `memory.limit_in_bytes`, or v2 `memory.max`, whichever memory
//! controller this process is under), so that a file larger than the limit
//! is served the way it would be on a machine with that much memory.
//!
//! [`MemoryLimit::create`] makes a child of this process's own memory cgroup
//! (so a limit already above it still applies), a process joins it with
//! [`join`] (a probe joins itself before it opens anything, so nothing it
//! charges escapes), and dropping the [`MemoryLimit`] removes the group once
//! its processes have exited. Creating one needs root (or a delegated
//! hierarchy); the error says so.
//!
//! Page-cache pages are charged to the group that first read them: a file
//! already cached by another group is served from memory the limit does not
//! see. A probe under a limit therefore evicts its files after joining (and
//! reads them in again, inside it).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Which cgroup interface the memory controller is under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// cgroup v1: a `memory` hierarchy of its own, limit in `memory.limit_in_bytes`.
    V1,
    /// cgroup v2: the unified hierarchy, limit in `memory.max`.
    V2,
}

impl Version {
    /// The file holding a group's limit.
    fn limit_file(self) -> &'static str {
        match self {
            Version::V1 => "memory.limit_in_bytes",
            Version::V2 => "memory.max",
        }
    }
}

/// Why a memory limit could not be set up or read.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// No memory controller is mounted for this process.
    #[error("no cgroup memory controller found for this process (in /proc/self/cgroup and /proc/self/mountinfo)")]
    NoController,
    /// The process joined a group but no limit reads back from its own cgroup.
    #[error("joined {dir} but no memory limit reads back from /proc/self/cgroup", dir = dir.display())]
    NotApplied {
        /// The group joined.
        dir: PathBuf,
    },
    /// A cgroup file could not be read or written.
    #[error(
        "cannot set a memory limit: {path}: {source}{hint}",
        path = path.display(),
        hint = if source.kind() == std::io::ErrorKind::PermissionDenied {
            " (a memory limit needs root, or a cgroup delegated to this user)"
        } else {
            ""
        }
    )]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Io { path: path.to_owned(), source }
}

/// A cgroup with a memory limit, removed when dropped.
#[derive(Debug)]
pub struct MemoryLimit {
    dir: PathBuf,
    bytes: u64,
}

impl MemoryLimit {
    /// Makes a new group under this process's memory cgroup, limited to `bytes` (page cache included).
    pub fn create(bytes: u64) -> Result<Self, CgroupError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let (version, own) = own_group()?;
        remove_orphans(&own);
        let name = format!("kvbench-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let dir = own.join(name);
        if version == Version::V2 {
            // The parent must hand the memory controller down to its children.
            let control = own.join("cgroup.subtree_control");
            let enabled = std::fs::read_to_string(&control).map_err(io(&control))?;
            if !enabled.split_whitespace().any(|c| c == "memory") {
                std::fs::write(&control, "+memory").map_err(io(&control))?;
            }
        }
        std::fs::create_dir(&dir).map_err(io(&dir))?;
        let mut limit = MemoryLimit { dir, bytes };
        let file = limit.dir.join(version.limit_file());
        std::fs::write(&file, bytes.to_string()).map_err(io(&file))?;
        // The kernel keeps the limit in whole pages: what it holds is the limit the probes read back.
        let held = std::fs::read_to_string(&file).ok().and_then(|s| s.trim().parse().ok());
        limit.bytes = held.unwrap_or(bytes / 4096 * 4096);
        if version == Version::V1 {
            // No swap here, but where there is some, the limit must not move the excess to it.
            let swappiness = limit.dir.join("memory.swappiness");
            let _ = std::fs::write(swappiness, "0");
        }
        Ok(limit)
    }

    /// The group's folder, which [`join`] takes.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The limit, in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Removes the empty groups beside ours that a kvbench process no longer
/// running made (`kvbench-<pid>-<n>`): a run killed before its `Drop` leaves
/// its group behind, and the next run clears it. A group still holding a
/// process refuses removal and stays.
fn remove_orphans(own: &Path) {
    let Ok(entries) = std::fs::read_dir(own) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix("kvbench-")?.split('-').next()?.parse::<u32>().ok());
        if let Some(pid) = pid
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

impl Drop for MemoryLimit {
    fn drop(&mut self) {
        // Fails only while a process is still in the group; nothing else to do then.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Moves this process into the group at `dir` (made by [`MemoryLimit::create`]).
pub fn join(dir: &Path) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    std::fs::write(&procs, std::process::id().to_string()).map_err(io(&procs))
}

/// The memory limit this process is under, read back from its own cgroup
/// (`None` when unlimited or when there is no memory controller).
pub fn current_limit() -> Option<u64> {
    let (version, dir) = own_group().ok()?;
    let text = std::fs::read_to_string(dir.join(version.limit_file())).ok()?;
    // v2 writes `max`; v1 a huge number (page-rounded i64::MAX) for no limit.
    text.trim().parse::<u64>().ok().filter(|&b| b < (1 << 62))
}

/// The memory controller's version and this process's group folder in it.
fn own_group() -> Result<(Version, PathBuf), CgroupError> {
    let groups = std::fs::read_to_string("/proc/self/cgroup").map_err(io(Path::new("/proc/self/cgroup")))?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").map_err(io(Path::new("/proc/self/mountinfo")))?;
    locate(&groups, &mounts).ok_or(CgroupError::NoController)
}

/// Finds the memory controller in `/proc/self/cgroup` (`groups`) and where it
/// is mounted in `/proc/self/mountinfo` (`mounts`): v1 if a `memory`
/// hierarchy exists, else v2.
fn locate(groups: &str, mounts: &str) -> Option<(Version, PathBuf)> {
    let entries: Vec<(&str, &str)> = groups
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            Some((controllers, path))
        })
        .collect();
    // mountinfo: id parent dev root mountpoint options… - fstype source super-options
    let mount = |wanted: &str, memory: bool| {
        mounts.lines().find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let fields: Vec<&str> = left.split(' ').collect();
            let mut tail = right.split(' ');
            let (fstype, _, options) = (tail.next()?, tail.next()?, tail.next().unwrap_or(""));
            let fits = fstype == wanted && (!memory || options.split(',').any(|o| o == "memory"));
            if !fits {
                return None;
            }
            Some((PathBuf::from(*fields.get(4)?), (*fields.get(3)?).to_owned()))
        })
    };
    let under = |(point, root): (PathBuf, String), path: &str| {
        let rel = path.strip_prefix(root.trim_end_matches('/')).unwrap_or(path);
        point.join(rel.trim_start_matches('/'))
    };
    if let Some((_, path)) = entries.iter().find(|(c, _)| c.split(',').any(|c| c == "memory")) {
        return Some((Version::V1, under(mount("cgroup", true)?, path)));
    }
    let (_, path) = entries.iter().find(|(c, _)| c.is_empty())?;
    Some((Version::V2, under(mount("cgroup2", false)?, path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &str = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

    #[test]
    fn the_memory_controller_is_found_in_v1_then_v2() {
        let hybrid = "9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n";
        assert_eq!(locate(hybrid, MOUNTS), Some((Version::V1, PathBuf::from("/sys/fs/cgroup/memory/process_api/abc"))));
        let unified = "0::/user.slice/session-1.scope\n";
        let v2 = "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            locate(unified, v2),
            Some((Version::V2, PathBuf::from("/sys/fs/cgroup/user.slice/session-1.scope")))
        );
        assert_eq!(locate("0::/\n", "1 0 0:1 / / rw - ext4 /dev/vda rw\n"), None);
        assert_eq!(locate("", MOUNTS), None);
    }

    #[test]
    fn a_mount_whose_root_is_the_group_itself_is_not_joined_twice() {
        // In a container the hierarchy is often mounted at the container's own group.
        let mounts = "35 31 0:32 /docker/x /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
        assert_eq!(locate("4:memory:/docker/x\n", mounts), Some((Version::V1, PathBuf::from("/sys/fs/cgroup/memory"))));
    }
}
