//! The subcommands, one file each; `bench` holds the bench subcommands.

pub mod bench;
pub mod compare;
pub mod export;
pub mod generate;
pub mod get;
pub mod history;
pub mod import;
pub mod load;
pub mod redis_load;
pub mod report;
pub mod serve;
pub mod suite;
pub mod suite_table;
