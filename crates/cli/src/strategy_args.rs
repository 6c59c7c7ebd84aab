//! The options that choose and configure a strategy, shared by every command that opens one.

use std::path::PathBuf;

use clap::Args;
use kvbench_lookup::{OpenOptions, Strategy};

/// Which strategy to open, and how.
#[derive(Args, Debug, Clone)]
pub struct StrategyArgs {
    /// Lookup strategy: scan-lines, scan, hashmap, mmap-index, phf-index, warming,
    /// the embedded engines fst, lmdb, sqlite, cdb, redb, rocksdb (built with
    /// --features rocksdb), the servers redis and redis-cluster (which needs --redis-cluster),
    /// an engine on its defaults, e.g. 'sqlite(defaults)',
    /// or lru(RATIO,BACKING): an LRU cache of RATIO (0, 1] of the keys in front
    /// of BACKING, e.g. 'lru(0.5,hashmap)'; lru alone is lru(0.1,mmap-index).
    #[arg(long, short, value_name = "STRATEGY", default_value = "mmap-index")]
    pub strategy: Strategy,
    /// Skip malformed lines (and report how many) instead of failing on the first.
    #[arg(long)]
    pub lenient: bool,
    /// For `mmap-index` / `phf-index` / `fst`: index sidecar path [default: DATA.kvidx /
    /// DATA.kvphf / DATA.kvfst]; for lmdb, sqlite, cdb, redb, rocksdb: their store folder [default: DATA.kvlmdb, DATA.kvsqlite, …].
    #[arg(long, value_name = "PATH")]
    pub index: Option<PathBuf>,
    /// For the strategies with a sidecar or store: hash the whole data file (and store) before reusing it.
    #[arg(long)]
    pub verify_index: bool,
    /// For `redis`: the server (and `/N` db) to load the data into and query.
    #[arg(long, value_name = "URL", default_value = kvbench_lookup::DEFAULT_REDIS_URL)]
    pub redis_url: String,
    /// For `redis-cluster`: seed node URLs of the Redis Cluster to load the data into and query.
    #[arg(long, value_name = "URL,URL,…", value_delimiter = ',')]
    pub redis_cluster: Vec<String>,
}

impl StrategyArgs {
    /// The open options.
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            lenient: self.lenient,
            index_path: self.index.clone(),
            verify_index_fully: self.verify_index,
            redis_url: Some(self.redis_url.clone()),
            // Empty when not given: opening `redis-cluster` then says to give it.
            redis_cluster: Some(self.redis_cluster.clone()).filter(|urls| !urls.is_empty()),
            reload: false,
            engine_defaults: false,
            memory_limit: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};
    use kvbench_lookup::StrategyKind;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        strategy: StrategyArgs,
    }

    #[test]
    fn help_lists_every_strategy_and_the_lru_form() {
        let help = Cli::command().render_long_help().to_string();
        for kind in StrategyKind::ALL {
            assert!(help.contains(kind.name()), "{kind} missing from {help}");
        }
        assert!(help.contains("lru(RATIO,BACKING)"), "{help}");
    }

    #[test]
    fn one_spelling_parses_every_form() {
        let parse = |s: &str| Cli::try_parse_from(["kvbench", "--strategy", s]).map(|c| c.strategy.strategy);
        assert_eq!(parse("hashmap").unwrap(), Strategy::Plain(StrategyKind::HashMap));
        assert_eq!(parse("lru").unwrap(), Strategy::DEFAULT_LRU);
        assert_eq!(parse("lru(0.5,scan)").unwrap(), Strategy::Lru { ratio: 0.5, backing: StrategyKind::Scan });
        assert!(parse("lru(2,scan)").is_err());
        let cli = Cli::try_parse_from(["kvbench", "--redis-cluster", "redis://a:1,redis://b:2"]).unwrap();
        assert_eq!(cli.strategy.open_options().redis_cluster.unwrap(), ["redis://a:1", "redis://b:2"]);
        assert_eq!(Cli::try_parse_from(["kvbench"]).unwrap().strategy.open_options().redis_cluster, None);
        assert_eq!(
            Cli::try_parse_from(["kvbench"]).unwrap().strategy.strategy,
            Strategy::Plain(StrategyKind::MmapIndex)
        );
    }
}
