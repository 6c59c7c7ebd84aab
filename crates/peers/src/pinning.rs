//! Which CPUs a benchmark's servers and load generator run on, so that on a
//! small machine they do not take turns on one core.

use std::fmt;

/// The CPU layout of a macro benchmark: the load generator on the last CPU, a
/// single-threaded server on the first, a multi-threaded one on all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pinning {
    cpus: usize,
    taskset: bool,
}

impl Pinning {
    /// This machine's layout: active with 2+ CPUs and `taskset` installed.
    pub fn detect() -> Pinning {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let taskset = std::process::Command::new("taskset").arg("-V").output().is_ok_and(|o| o.status.success());
        Pinning { cpus, taskset }
    }

    /// No pinning at all: every process runs where the scheduler puts it.
    pub fn none() -> Pinning {
        Pinning { cpus: 1, taskset: false }
    }

    /// Whether processes are pinned.
    pub fn active(&self) -> bool {
        self.cpus >= 2 && self.taskset
    }

    /// Pins this process to the load generator's CPU; threads started from
    /// here on (the load generator's) inherit it.
    pub fn pin_this_process(&self) {
        if let Some(cpu) = self.client_cpu() {
            pin(std::process::id(), cpu);
        }
    }

    /// The load generator's CPU (also wrk's), when pinned.
    pub fn client_cpu(&self) -> Option<usize> {
        self.active().then(|| self.cpus - 1)
    }

    /// The CPU of a cluster's node `i` (from 0), when pinned: round-robin over
    /// every CPU but the load generator's (on 2 CPUs, all nodes share CPU 0).
    pub fn node_cpu(&self, i: usize) -> Option<usize> {
        self.active().then(|| i % (self.cpus - 1))
    }

    /// The `taskset -c` list for a server with `threads` threads, when pinned.
    pub fn server_cpus(&self, threads: usize) -> Option<String> {
        self.active().then(|| if threads == 1 { "0".to_owned() } else { format!("0-{}", self.cpus - 1) })
    }
}

/// One line for the user: where each process runs.
impl fmt::Display for Pinning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.active() {
            let last = self.cpus - 1;
            write!(
                f,
                "pinning: load generator on CPU {last}, 1-thread servers on CPU 0, multi-thread servers on CPUs 0-{last} (shared), {}",
                match last {
                    1 => "Redis Cluster nodes all on CPU 0 (with a server in front of them, if any)".to_owned(),
                    _ => format!("Redis Cluster nodes one per CPU over CPUs 0-{}, in turn", last - 1),
                }
            )
        } else {
            f.write_str("pinning: none (needs 2+ CPUs and taskset)")
        }
    }
}

/// Pins the running process `pid` (its main thread: the request path of a
/// single-threaded server) to `cpu`; for servers started by someone else.
pub fn pin(pid: u32, cpu: usize) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and
    // sched_setaffinity only read and write that set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_machine_with_two_cpus_and_taskset_pins() {
        let none = Pinning::none();
        assert!(!none.active() && none.client_cpu().is_none() && none.server_cpus(1).is_none());
        let four = Pinning { cpus: 4, taskset: true };
        assert_eq!(
            (four.client_cpu(), four.server_cpus(1), four.server_cpus(2)),
            (Some(3), Some("0".into()), Some("0-3".into()))
        );
        assert!(!Pinning { cpus: 4, taskset: false }.active());
        assert!(four.to_string().contains("CPU 3") && none.to_string().contains("none"));
        assert_eq!([0, 1, 2, 3].map(|i| four.node_cpu(i)), [Some(0), Some(1), Some(2), Some(0)]);
        let two = Pinning { cpus: 2, taskset: true };
        assert_eq!([0, 1, 2].map(|i| two.node_cpu(i)), [Some(0); 3]);
        assert!(two.to_string().contains("nodes all on CPU 0") && four.to_string().contains("CPUs 0-2, in turn"));
        assert_eq!(none.node_cpu(0), None);
    }
}
