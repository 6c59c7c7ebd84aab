//! `kvbench`: thin glue from the command line to the kvbench libraries.

mod cmd;
mod data_args;
mod human;
mod output;
mod strategy_args;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use cmd::bench::{baselines as bench_baselines, r#macro as bench_macro, soak as bench_soak};
use cmd::{compare, export, generate, get, history, import, load, redis_load, report, serve, suite};
use kvbench_harness::alloc::CountingAlloc;

/// Heap accounting for `kvbench probe`; every other command stops the counting
/// first, so no server under test pays for it (see `kvbench_harness::alloc`).
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Measure the ways to serve lookups from a big `<key> <value>` text file.
#[derive(Parser, Debug)]
#[command(name = "kvbench", version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("KVBENCH_BUILD_COMMIT"), ")"), about, propagate_version = true)]
struct Cli {
    /// No progress and no notes on stderr, only errors; the results still go to stdout and files.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a data file of UUID keys and random values (deterministic per seed).
    Gen(generate::GenArgs),
    /// Look keys up in a data file with any strategy and print their values.
    Get(get::GetArgs),
    /// Serve lookups over HTTP and RESP (Redis protocol) with any strategy.
    Serve(serve::ServeArgs),
    /// Load a data file into a Redis db (what the `redis` strategy does on open).
    RedisLoad(redis_load::RedisLoadArgs),
    /// Load a running server (kvbench serve, redis-server, …) and report throughput and latency.
    Load(load::LoadArgs),
    /// The main job: generate the default datasets and measure every strategy.
    Suite(suite::SuiteArgs),
    /// Benchmarks beyond the main job's defaults.
    #[command(subcommand)]
    Bench(Bench),
    /// Convert results to another format (Bencher's BMF) on stdout.
    Export(export::ExportArgs),
    /// Compare two result sets and fail (exit 1) only on a real regression:
    /// worse beyond a threshold in the best and the median of the runs alike.
    Compare(compare::CompareArgs),
    /// Merge several runs of the same code into one result set for `compare`:
    /// median values, spreads that cover every run.
    Merge(compare::MergeArgs),
    /// Turn another harness's output (gungraun's instruction counts) into results-schema records.
    Import(import::ImportArgs),
    /// Draw the charts and a README.md from results (default: this machine's, into results/latest/report/).
    Report(report::ReportArgs),
    /// The history of main: add a run, find where figures stepped or drift.
    #[command(subcommand)]
    History(history::History),
    /// Print a shell completion script, e.g. `kvbench completions bash > /etc/bash_completion.d/kvbench`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print kvbench's man page (roff), e.g. `kvbench man > kvbench.1 && man ./kvbench.1`.
    Man,
    /// Measure one strategy in this process and print a JSON report (used by `suite`).
    #[command(hide = true)]
    Probe(suite::ProbeArgs),
}

#[derive(Subcommand, Debug)]
enum Bench {
    /// Every strategy in a fresh process: open time, memory, per-lookup latency
    /// percentiles (HdrHistogram) per workload; writes the results schema.
    Micro(suite::SuiteArgs),
    /// `kvbench serve` under load, one process per configuration: throughput,
    /// latency, server CPU and RSS over connections, threads, strategies,
    /// keys, value sizes and protocols; writes the results schema.
    Macro(bench_macro::MacroArgs),
    /// The original study's programs (bash grep/awk; Python line scan, read-all,
    /// mmap, dict, LRU) beside `kvbench get` per strategy: per-process time,
    /// steady-state time per lookup and peak RSS; writes the results schema.
    Baselines(bench_baselines::BaselinesArgs),
    /// A long open-loop load at a fraction of the server's maximum: errors,
    /// latency and RSS per slice; fails on any error or on RSS that keeps growing.
    Soak(bench_soak::SoakArgs),
}

fn main() -> ExitCode {
    // `kvbench __rusage PROGRAM…` times one program for `bench baselines`; it
    // must fork before this process allocates anything (see kvbench_baselines::rusage).
    let mut args = std::env::args_os();
    let command = args.nth(1);
    if command.as_ref().is_some_and(|a| a == kvbench_baselines::rusage::HELPER_ARG) {
        return ExitCode::from(kvbench_baselines::rusage::helper_main(args.collect()));
    }
    // Records name the code that measured them, not the directory it runs in.
    kvbench_results::stamp_build_commit(env!("KVBENCH_BUILD_COMMIT"));
    if command.is_none_or(|c| c != "probe") {
        kvbench_harness::alloc::stop_counting();
    }
    let cli = Cli::parse();
    output::set_quiet(cli.quiet);
    if cli.command.prints_to_a_pipe() {
        end_quietly_on_a_closed_pipe();
    }
    let result = match cli.command {
        Command::Gen(args) => generate::run(&args),
        Command::Get(args) => get::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Load(args) => load::run(&args),
        Command::RedisLoad(args) => redis_load::run(&args),
        Command::Suite(args) | Command::Bench(Bench::Micro(args)) => suite::run(&args),
        Command::Bench(Bench::Macro(args)) => bench_macro::run(&args),
        Command::Bench(Bench::Baselines(args)) => bench_baselines::run(&args),
        Command::Bench(Bench::Soak(args)) => bench_soak::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Merge(args) => compare::merge(&args),
        Command::Import(args) => import::run(&args),
        Command::Report(args) => report::run(&args),
        Command::History(command) => history::run(&command),
        Command::Probe(args) => suite::probe(&args),
        Command::Completions { shell } => completions(shell),
        Command::Man => man(),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kvbench: {}", human::error_chain(&err));
            ExitCode::from(2)
        }
    }
}

impl Command {
    /// Whether the command's work is printing to stdout, so that a reader
    /// that stops early (`| head`) should simply end it. (`get` handles a
    /// closed pipe itself, to keep its documented exit status.) Commands that run
    /// servers or child processes, or write to sockets and pipes of their
    /// own, keep Rust's default (a write error, not a signal), so a child
    /// that exits early cannot kill them.
    fn prints_to_a_pipe(&self) -> bool {
        matches!(
            self,
            Command::Export(_)
                | Command::Compare(_)
                | Command::Merge(_)
                | Command::Import(_)
                | Command::Report(_)
                | Command::Completions { .. }
                | Command::Man
        )
    }
}

/// Restores SIGPIPE's default action: `kvbench export … | head` ends like
/// `cat … | head`, quietly, where Rust's ignored SIGPIPE would make the next
/// `println!` panic on the closed pipe.
fn end_quietly_on_a_closed_pipe() {
    // SAFETY: setting a signal's disposition to SIG_DFL installs no handler
    // and touches no Rust state; it runs before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Prints the completion script of `shell` for every subcommand and option.
fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    clap_complete::generate(shell, &mut Cli::command(), "kvbench", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// Prints the man page of kvbench (its subcommands listed, as `--help` shows them).
fn man() -> anyhow::Result<ExitCode> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    Ok(ExitCode::SUCCESS)
}
