//! The original study's baselines as real programs, and a runner that times
//! any program (a baseline or `kvbench get` itself) as a whole process.
//!
//! The study asked how bash and Python compare, and whether `for line in
//! file` or reading all lines at once is faster. The programs in
//! `benches/baselines/` answer with the code a competent engineer would
//! write, one file each, all with the contract of `kvbench get --data DATA
//! KEY...`, so the same keys give the same bytes whichever program serves them:
//!
//! | module | what |
//! |---|---|
//! | [`baseline`] | [`Baseline`]: each program's name, description, interpreter, and the tools it needs |
//! | [`tool`] | [`Tool`]: a program looked up on `PATH`; [`Unavailable`], why a baseline cannot run here |
//! | [`rusage`] | the `kvbench __rusage` helper: a program's own peak RSS, not its spawner's |
//! | [`scripts`] | [`Scripts`]: the programs, embedded in the binary, written to a temporary directory |
//! | [`measure`](mod@measure) | [`measure()`](measure::measure): per-process and steady-state per-lookup times, answers checked |
//! | [`process`] | [`Program`] and [`run_process`]: one run, its output, wall time, CPU and peak RSS |
//! | [`bench`](mod@bench) | `kvbench bench baselines`: every program beside `kvbench get` per strategy, as result records |
//!
//! ```no_run
//! use kvbench_baselines::{Baseline, Program, Scripts, run_process};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let scripts = Scripts::install()?;
//! for baseline in Baseline::ALL {
//!     if let Err(why) = baseline.check() {
//!         eprintln!("{baseline}: skipped: {why}");
//!         continue;
//!     }
//!     let run = run_process(&Program::baseline(baseline, &scripts), "data.txt".as_ref(), &["key"])?;
//!     println!("{baseline}: {:?}, peak RSS {} bytes", run.wall, run.peak_rss_bytes);
//! }
//! # Ok(())
//! # }
//! ```

pub mod baseline;
pub mod bench;
pub mod measure;
pub mod process;
pub mod rusage;
pub mod scripts;
pub mod tool;

pub use baseline::Baseline;
pub use process::{ProcessRun, Program, RunError, run_process};
pub use scripts::{InstallError, Scripts};
pub use tool::{Tool, Unavailable};
