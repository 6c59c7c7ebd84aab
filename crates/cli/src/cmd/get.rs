//! `kvbench get`: the seed's "script that gives me the answer", for every strategy.
//!
//! Exit status: 0 when every key was found, 1 when some were not (each is
//! reported as `not found: KEY` on stderr), 2 on a usage or data error.

use std::ffi::OsString;
use std::io::{ErrorKind, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use kvbench_lookup::check_key;

use crate::human;
use crate::strategy_args::StrategyArgs;

/// Options of `kvbench get`.
#[derive(Args, Debug)]
pub struct GetArgs {
    /// The data file of `<key> <value>` lines.
    #[arg(long, short, value_name = "FILE")]
    data: PathBuf,
    #[command(flatten)]
    strategy: StrategyArgs,
    /// Print what the strategy did (index reused or built, timings) on stderr.
    #[arg(long, short)]
    verbose: bool,
    /// Keys to look up; each value is printed on its own line.
    #[arg(required = true, value_name = "KEY")]
    keys: Vec<OsString>,
}

/// Runs `kvbench get`.
pub fn run(args: &GetArgs) -> anyhow::Result<ExitCode> {
    for key in &args.keys {
        check_key(key.as_encoded_bytes()).with_context(|| format!("invalid key {key:?}"))?;
    }
    let strategy = &args.strategy.strategy;
    let start = Instant::now();
    let lookup = kvbench_lookup::open(&args.data, strategy, &args.strategy.open_options())?;
    let info = lookup.info();
    if args.verbose {
        crate::output::say(format_args!("{strategy}: opened in {}", human::nanos(start.elapsed().as_nanos() as f64)));
        for note in &info.notes {
            crate::output::say(format_args!("{strategy}: {note}"));
        }
    }
    // Said without -v: the user asked for them (--lenient) or did not expect them (a new file on their disk).
    if info.skipped > 0 {
        crate::output::say(format_args!(
            "{strategy}: skipped {} malformed {}",
            info.skipped,
            human::plural(info.skipped, "line")
        ));
    }
    for path in &info.wrote {
        let size = std::fs::metadata(path).map_or_else(|_| String::new(), |m| format!(" ({})", human::bytes(m.len())));
        crate::output::say(format_args!(
            "{strategy}: wrote the index {}{size}; later runs reuse it (--index FILE puts it elsewhere)",
            path.display()
        ));
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut missing = false;
    for key in &args.keys {
        match lookup.get(key.as_encoded_bytes())? {
            Some(value) => {
                let written = out.write_all(&value).and_then(|()| out.write_all(b"\n"));
                if let Err(e) = written {
                    if e.kind() == ErrorKind::BrokenPipe {
                        return Ok(ExitCode::SUCCESS);
                    }
                    bail!("cannot write to stdout: {e}");
                }
            }
            None => {
                missing = true;
                eprintln!("not found: {}", key.to_string_lossy());
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => bail!("cannot write to stdout: {e}"),
        _ => {}
    }
    Ok(if missing { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
