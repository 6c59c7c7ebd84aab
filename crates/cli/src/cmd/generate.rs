//! `kvbench gen`: write a generated data file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use kvbench_workload::write_atomically;
use kvbench_workload::{Count, Dataset, ValueLen, generate};

use crate::human;
use crate::output::progress_bar;

/// Options of `kvbench gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    /// Number of lines (keys): 10000, 10k, 1M, …
    #[arg(long, value_name = "N")]
    keys: Count,
    /// File to write (replaced atomically when complete).
    #[arg(long, value_name = "FILE", required_unless_present = "out_dir", conflicts_with = "out_dir")]
    out: Option<PathBuf>,
    /// Or: write into this folder under the name `suite` looks for
    /// (`kv-<N>-<value-len>-s<seed>.txt`), skipping it if already there.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Seed: the same seed gives a byte-identical file.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Value length distribution: normal:MEAN,SD | uniform:MIN..MAX | fixed:N.
    #[arg(long, value_name = "DIST", default_value_t = ValueLen::default())]
    value_len: ValueLen,
}

/// Runs `kvbench gen`.
pub fn run(args: &GenArgs) -> anyhow::Result<ExitCode> {
    let dataset = Dataset { keys: args.keys, value_len: args.value_len, seed: args.seed };
    let bar = progress_bar(args.keys.0, "generating");
    let start = Instant::now();
    let (path, summary) = match (&args.out, &args.out_dir) {
        (Some(path), _) => {
            let write = |out: &mut _| generate(&dataset.spec(), out, |done| bar.set_position(done));
            let summary = write_atomically(path, write).with_context(|| format!("cannot write {}", path.display()))?;
            (path.clone(), Some(summary))
        }
        (None, Some(dir)) => dataset
            .ensure(dir, |done| bar.set_position(done))
            .with_context(|| format!("cannot write into {}", dir.display()))?,
        (None, None) => anyhow::bail!("give --out FILE or --out-dir DIR"),
    };
    bar.finish_and_clear();
    match summary {
        Some(s) => crate::output::say(format_args!(
            "wrote {} {}, {} to {} in {}",
            s.keys,
            human::plural(s.keys, "key"),
            human::bytes(s.bytes),
            path.display(),
            human::nanos(start.elapsed().as_nanos() as f64)
        )),
        None => crate::output::say(format_args!("{} already exists", path.display())),
    }
    Ok(ExitCode::SUCCESS)
}
