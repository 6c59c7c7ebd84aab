//! [`Baseline`]: the programs of `benches/baselines/`, by name.

use std::fmt;

use crate::scripts::{ScriptFile, embed};
use crate::tool::{Tool, Unavailable};

/// One baseline program of `benches/baselines/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Baseline {
    /// `grep.sh`: one `grep -m1` per key.
    BashGrep,
    /// `awk.sh`: one awk pass for all the keys.
    BashAwk,
    /// `py_lines.py`: `for line in file` per key.
    PyLines,
    /// `py_readall.py`: all lines read at once, then scanned per key.
    PyReadall,
    /// `py_mmap.py`: the mapped file searched per key.
    PyMmap,
    /// `py_dict.py`: every record loaded into a dict.
    PyDict,
    /// `py_lru.py`: an LRU cache of a fraction of the keys over the mmap search.
    PyLru,
}

impl Baseline {
    /// Every baseline, in the order reports list them.
    pub const ALL: [Baseline; 7] = [
        Baseline::BashGrep,
        Baseline::BashAwk,
        Baseline::PyLines,
        Baseline::PyReadall,
        Baseline::PyMmap,
        Baseline::PyDict,
        Baseline::PyLru,
    ];

    /// Its name on the command line and in results, e.g. `py-dict`.
    pub fn name(self) -> &'static str {
        match self {
            Baseline::BashGrep => "bash-grep",
            Baseline::BashAwk => "bash-awk",
            Baseline::PyLines => "py-lines",
            Baseline::PyReadall => "py-readall",
            Baseline::PyMmap => "py-mmap",
            Baseline::PyDict => "py-dict",
            Baseline::PyLru => "py-lru",
        }
    }

    /// What it does, in one line.
    pub fn description(self) -> &'static str {
        match self {
            Baseline::BashGrep => "bash: one `grep -m1 '^KEY[ \\t]'` per key",
            Baseline::BashAwk => "bash: one awk pass over the file for all the keys",
            Baseline::PyLines => "Python: `for line in file` until the key, per key",
            Baseline::PyReadall => "Python: all lines read at once (`readlines()`), scanned per key",
            Baseline::PyMmap => "Python: the file mmapped, searched with `find(b\"\\n\" + key)` per key",
            Baseline::PyDict => "Python: every record loaded into a dict (first record wins)",
            Baseline::PyLru => "Python: `functools.lru_cache` of 10 % of the keys over the mmap search",
        }
    }

    /// Its file of `benches/baselines/`, embedded in the binary.
    pub fn script(self) -> ScriptFile {
        match self {
            Baseline::BashGrep => embed!("grep.sh"),
            Baseline::BashAwk => embed!("awk.sh"),
            Baseline::PyLines => embed!("py_lines.py"),
            Baseline::PyReadall => embed!("py_readall.py"),
            Baseline::PyMmap => embed!("py_mmap.py"),
            Baseline::PyDict => embed!("py_dict.py"),
            Baseline::PyLru => embed!("py_lru.py"),
        }
    }

    /// The program that runs its script.
    pub fn interpreter(self) -> Tool {
        self.tools()[0]
    }

    /// Every program it needs on `PATH`, its interpreter first.
    pub fn tools(self) -> &'static [Tool] {
        match self {
            Baseline::BashGrep => &[Tool::Bash, Tool::Grep],
            Baseline::BashAwk => &[Tool::Bash, Tool::Awk],
            Baseline::PyLines | Baseline::PyReadall | Baseline::PyMmap | Baseline::PyDict | Baseline::PyLru => {
                &[Tool::Python3]
            }
        }
    }

    /// `Ok` if it can run here, or why not (the first program it needs that is missing).
    pub fn check(self) -> Result<(), Unavailable> {
        match self.tools().iter().find(|tool| tool.find().is_none()) {
            Some(&tool) => Err(Unavailable::Missing(tool)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Baseline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(feature = "clap")]
impl clap::ValueEnum for Baseline {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.description()))
    }
}
