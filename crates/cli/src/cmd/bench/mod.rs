//! The bench subcommands (`bench micro` is the suite).

pub mod baselines;
pub mod r#macro;
pub mod soak;
