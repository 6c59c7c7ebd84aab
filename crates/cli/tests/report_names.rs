//! The report spells the strategies it groups (kvbench-report depends only on
//! kvbench-results, not on kvbench-lookup); this crate sees both, so it
//! checks that the report's lists are the strategies' declared families.

use kvbench_lookup::{Family, StrategyKind};

fn names_of(family: Family) -> Vec<&'static str> {
    StrategyKind::ALL.into_iter().filter(|k| k.facts().family == family).map(StrategyKind::name).collect()
}

#[test]
fn the_reports_lists_are_the_strategies_families() {
    assert_eq!(kvbench_report::data::OWN.to_vec(), names_of(Family::Own));
    assert_eq!(kvbench_report::data::ENGINES.to_vec(), names_of(Family::Engine));
}
