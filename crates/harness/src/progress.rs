//! [`Progress`]: what a long measurement reports as it goes, so that the
//! binary can draw a progress bar while the libraries do the measuring.

/// Called by a long run as it goes; every method does nothing by default.
pub trait Progress {
    /// The run has `total` steps.
    fn start(&mut self, total: u64) {
        let _ = total;
    }

    /// What is being measured now (e.g. `hashmap on 1M`).
    fn doing(&mut self, what: &str) {
        let _ = what;
    }

    /// Still working on the current step (a run inside it ended).
    fn tick(&mut self) {}

    /// `steps` more steps are done.
    fn done(&mut self, steps: u64) {
        let _ = steps;
    }

    /// What the run is about to do: said once, before its first step.
    fn plan(&mut self, planned: &crate::suite::Planned) {
        let _ = planned;
    }

    /// A message the user should read now, e.g. why a configuration is skipped.
    fn note(&mut self, message: &str) {
        let _ = message;
    }
}

/// No progress shown (tests, scripts).
impl Progress for () {}
