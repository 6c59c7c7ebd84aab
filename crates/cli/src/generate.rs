//! `kvbench gen`: write a generated data file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kvbench_workload::dataset::write_atomically;
use kvbench_workload::{Count, GenSpec, ValueLen, generate};

use crate::human;

/// Options of `kvbench gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    /// Number of lines (keys): 10000, 10k, 1M, …
    #[arg(long, value_name = "N")]
    keys: Count,
    /// File to write (replaced atomically when complete).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Seed: the same seed gives a byte-identical file.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Value length distribution: normal:MEAN,SD | uniform:MIN..MAX | fixed:N.
    #[arg(long, value_name = "DIST", default_value_t = ValueLen::default())]
    value_len: ValueLen,
}

/// A progress bar on stderr that shows itself only on a terminal.
pub fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {human_pos}/{human_len} ({eta})")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// Runs `kvbench gen`.
pub fn run(args: &GenArgs) -> anyhow::Result<ExitCode> {
    let spec = GenSpec { keys: args.keys.0, seed: args.seed, value_len: args.value_len };
    let bar = progress_bar(spec.keys, "generating");
    let start = Instant::now();
    let summary = write_atomically(&args.out, |out| generate(&spec, out, |done| bar.set_position(done)))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} keys, {} to {} in {}",
        summary.keys,
        human::bytes(summary.bytes),
        args.out.display(),
        human::nanos(start.elapsed().as_nanos() as f64)
    );
    Ok(ExitCode::SUCCESS)
}
