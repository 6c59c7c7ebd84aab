//! How charts look: one embedded font, one colour per strategy everywhere.

use std::sync::Once;

use kvbench_results::{PYTHON_DICT, REDIS_CLUSTER_SERVER, REDIS_SERVER};
use plotters::style::{FontStyle, RGBColor};

/// The font family every chart asks for (registered from the embedded DejaVu Sans).
pub const FONT: &str = "sans-serif";
/// Width and height of every chart, in pixels.
pub const SIZE: (u32, u32) = (1100, 650);

/// Registers the embedded fonts with plotters (once per process).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is valid; if plotters ever refused it, text would
        // fall back to missing glyphs, which the chart tests would catch.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The colour of a strategy, the same in every chart (by its base name).
pub fn color(strategy: &str) -> RGBColor {
    // `kvbench hashmap` (a baseline run of `kvbench get`) is hashmap's colour.
    let strategy = strategy.strip_prefix("kvbench ").unwrap_or(strategy);
    let base = strategy.split([' ', '(']).next().unwrap_or(strategy);
    match base {
        "scan-lines" => RGBColor(127, 127, 127),
        "scan" => RGBColor(140, 86, 75),
        "hashmap" => RGBColor(31, 119, 180),
        "mmap-index" => RGBColor(44, 160, 44),
        "phf-index" => RGBColor(0, 128, 128),
        "lru" if strategy.contains("hashmap") => RGBColor(148, 103, 189),
        "lru" => RGBColor(255, 127, 14),
        "warming" => RGBColor(214, 39, 40),
        "memchr" => RGBColor(23, 190, 207),
        // The engines: navy, magenta, gold, dark green, salmon, olive: hues the strategies above leave free.
        "fst" => RGBColor(25, 25, 112),
        "lmdb" => RGBColor(139, 0, 139),
        "sqlite" => RGBColor(230, 171, 2),
        "cdb" => RGBColor(0, 100, 0),
        "redb" => RGBColor(250, 128, 114),
        "rocksdb" => RGBColor(128, 128, 0),
        REDIS_SERVER => RGBColor(220, 20, 60),
        // Redis Cluster in darker and lighter reds: kvbench in front of it, and asked directly.
        "redis-cluster" => RGBColor(139, 26, 26),
        REDIS_CLUSTER_SERVER => RGBColor(255, 99, 71),
        PYTHON_DICT => RGBColor(60, 60, 60),
        // The baselines: bash in earth tones, Python in pinks and purples.
        "bash-grep" => RGBColor(166, 118, 29),
        "bash-awk" => RGBColor(102, 102, 51),
        "py-lines" => RGBColor(231, 41, 138),
        "py-readall" => RGBColor(247, 129, 191),
        "py-mmap" => RGBColor(117, 112, 179),
        "py-dict" => RGBColor(60, 60, 60),
        "py-lru" => RGBColor(190, 174, 212),
        _ => RGBColor(188, 189, 34),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ENGINES, OWN};

    #[test]
    fn every_strategy_has_a_colour_of_its_own() {
        let others = ["scan-lines", "scan", "lru(0.1,hashmap)", "lru(0.1,mmap-index)", "warming", "memchr pass"];
        let names: Vec<&str> = OWN.into_iter().chain(ENGINES).chain(others).collect();
        let colours: Vec<RGBColor> = names.iter().map(|n| color(n)).collect();
        for (i, c) in colours.iter().enumerate() {
            assert_ne!(*c, color("an unknown strategy"), "{} has the fallback colour", names[i]);
            assert!(!colours[..i].contains(c), "{} shares a colour", names[i]);
        }
        assert_eq!(color("lmdb (reopen)"), color("lmdb (build)"), "a strategy's cases share its colour");
    }
}
