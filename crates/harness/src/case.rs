//! [`Case`]: one configuration the suite measures, a strategy and how it
//! starts, apart from the suite that runs it, so that what reads a case
//! (the fit estimate, the probe) does not depend on the suite.

use kvbench_lookup::Strategy;
use kvbench_results::{CaseId, CaseStart};

/// One configuration the suite measures.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The strategy and its configuration.
    pub strategy: Strategy,
    /// Delete the index sidecar first (times a cold `mmap-index` build).
    pub fresh_index: bool,
    /// Drop the page cache first and time only the first lookups.
    pub cold: bool,
}

impl Case {
    /// A case that opens `strategy` as the data folder finds it, warm.
    pub fn new(strategy: Strategy) -> Self {
        Case { strategy, fresh_index: false, cold: false }
    }

    /// What results call the case: the strategy and how it started.
    pub fn id(&self) -> CaseId {
        let s = &self.strategy;
        let start = match (self.fresh_index, self.cold, s) {
            (_, true, _) => Some(CaseStart::Cold),
            (true, false, _) => Some(CaseStart::Build),
            (false, false, Strategy::Plain(kind) | Strategy::Defaults(kind)) if kind.keeps_store() => {
                Some(CaseStart::Reopen)
            }
            _ => None,
        };
        CaseId::new(s.to_string(), start)
    }

    /// How tables name the case, e.g. `mmap-index (build)`.
    pub fn label(&self) -> String {
        self.id().to_string()
    }
}
