//! The options that choose and configure a strategy, shared by every command that opens one.

use std::path::PathBuf;

use clap::Args;
use kvbench_lookup::{OpenOptions, Strategy, StrategyKind};

/// Which strategy to open, and how.
#[derive(Args, Debug, Clone)]
pub struct StrategyArgs {
    /// Lookup strategy.
    #[arg(long, short, value_enum, default_value_t = StrategyKind::MmapIndex)]
    pub strategy: StrategyKind,
    /// For `lru`: fraction of the keys the cache holds, in (0, 1].
    #[arg(long, value_name = "RATIO", default_value_t = 0.1)]
    pub cache_ratio: f64,
    /// For `lru`: the strategy behind the cache.
    #[arg(long, value_enum, value_name = "STRATEGY", default_value_t = StrategyKind::MmapIndex)]
    pub cache_backing: StrategyKind,
    /// Skip malformed lines (and report how many) instead of failing on the first.
    #[arg(long)]
    pub lenient: bool,
    /// For `mmap-index`: index sidecar path [default: DATA.kvidx].
    #[arg(long, value_name = "FILE")]
    pub index: Option<PathBuf>,
    /// For `mmap-index`: hash the whole data file before reusing a sidecar.
    #[arg(long)]
    pub verify_index: bool,
    /// For `redis`: the server (and `/N` db) to load the data into and query.
    #[arg(long, value_name = "URL", default_value = kvbench_lookup::DEFAULT_REDIS_URL)]
    pub redis_url: String,
}

impl StrategyArgs {
    /// The configured strategy.
    pub fn strategy(&self) -> anyhow::Result<Strategy> {
        Ok(Strategy::new(self.strategy, self.cache_ratio, self.cache_backing)?)
    }

    /// The open options.
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            lenient: self.lenient,
            index_path: self.index.clone(),
            verify_index_fully: self.verify_index,
            redis_url: Some(self.redis_url.clone()),
        }
    }
}

/// The options that select `strategy` on a kvbench command line (`serve`,
/// `get`), for commands that start kvbench as a child process.
pub fn command_line(strategy: &Strategy) -> Vec<String> {
    match strategy {
        Strategy::Plain(kind) => vec!["--strategy".into(), kind.name().into()],
        Strategy::Lru { ratio, backing } => vec![
            "--strategy".into(),
            "lru".into(),
            "--cache-ratio".into(),
            ratio.to_string(),
            "--cache-backing".into(),
            backing.name().into(),
        ],
    }
}
