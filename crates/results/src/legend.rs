//! How to read the suite's tables: one text for the terminal
//! ([`Legend::text`], after `kvbench suite`'s tables) and the report
//! ([`Legend::markdown`], under its main table), each term explained once.
//!
//! Each output lists the [`Term`]s its table shows; the terminal also knows
//! what its run measured of its own costs ([`Measured`]), which the legend
//! then states.

use crate::schema::Record;
use crate::table::Format;
use crate::units::nanos;

/// A column, or a family of columns, of a suite table that the legend explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// Lookups back to back (`LookupMean`): throughput.
    Overlapped,
    /// Each lookup waits for the previous answer (`ChainLatency`): latency.
    Chained,
    /// Each lookup timed on its own: the percentiles, or the slowest.
    Alone,
    /// Lookups timed per run in each of the three ways (the terminal's `lookups timed`).
    Timed,
    /// Lookups timed alone per run (the report's `n`).
    TimedAlone,
    /// Cases opened with the page cache dropped.
    Cold,
    /// Which figures are CPU time and which wall time.
    CpuTime,
    /// Memory and bytes per key.
    Memory,
    /// Open and ready times.
    Start,
    /// System calls that read a file, per lookup.
    Reads,
}

/// What a run measured of its own costs, and the harness's rules, stated
/// where they are known (the terminal, which has the probes' reports).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// The seed of the runs' shuffled order.
    pub seed: u64,
    /// Per lookup, the loop fetching the next key (included in overlapped figures).
    pub loop_ns: f64,
    /// The chained loop's own cost per lookup (subtracted).
    pub chain_floor_ns: f64,
    /// The cost of reading the clock (subtracted from lookups timed alone).
    pub clock_ns: f64,
    /// The clock's tick.
    pub clock_tick_ns: f64,
    /// The median share of wall time the probes ran in their timed rounds; `None` when unknown.
    pub cpu_share: Option<f64>,
    /// Lookups that must lie beyond a percentile for it to be shown.
    pub min_beyond: f64,
    /// A lookup slower than this is timed one by one only.
    pub slow_op_ns: f64,
}

/// The legend of a suite table.
#[derive(Clone, Debug, PartialEq)]
pub struct Legend {
    /// Fresh-process runs each figure is the median of: the fewest and the
    /// most of any figure ([`Legend::runs_of`]); they differ when runs were
    /// added only where the answer needed them (`kvbench suite` without `--full`).
    pub runs: (u32, u32),
    /// The confidence level of the figures' intervals, when they have one ([`Legend::level_of`]).
    pub level: Option<f64>,
    /// What the table shows, in the order to explain it.
    pub terms: Vec<Term>,
    /// The run's own costs and seed, where known.
    pub measured: Option<Measured>,
}

impl Legend {
    /// The confidence level of the first of `records` that has one.
    pub fn level_of<'a>(records: impl IntoIterator<Item = &'a Record>) -> Option<f64> {
        records.into_iter().find_map(|r| r.spread.and_then(|s| s.level))
    }

    /// The fewest and the most runs any of `records` is the median of (1 when none says).
    pub fn runs_of<'a>(records: impl IntoIterator<Item = &'a Record>) -> (u32, u32) {
        let runs: Vec<u32> = records.into_iter().filter_map(|r| r.runs).collect();
        (runs.iter().copied().min().unwrap_or(1), runs.iter().copied().max().unwrap_or(1))
    }

    /// For the terminal: `How to read it.`, then one bullet per term.
    pub fn text(&self) -> String {
        let mut out = format!("How to read it. {}", self.intro(Format::Text));
        for term in &self.terms {
            match title(*term) {
                Some(title) => out.push_str(&format!("\n- {title}: {}", self.explain(*term, Format::Text))),
                None => out.push_str(&format!("\n- {}", self.explain(*term, Format::Text))),
            }
        }
        out
    }

    /// For the report: one paragraph, each term in bold.
    pub fn markdown(&self) -> String {
        let mut out = self.intro(Format::Markdown);
        for term in &self.terms {
            let text = self.explain(*term, Format::Markdown);
            match title(*term) {
                Some(title) => out.push_str(&format!(" **{title}**: {text}")),
                None => out.push_str(&format!(" {}", capitalized(&text))),
            }
        }
        out
    }

    /// What a figure is and what its interval says.
    fn intro(&self, format: Format) -> String {
        let (fewest, most) = self.runs;
        let order = match (self.measured, fewest == most) {
            (Some(m), true) => format!("all runs of all cases in one shuffled order (seed {})", m.seed),
            (Some(m), false) => format!("each round of runs in one shuffled order (seed {})", m.seed),
            (None, _) => "in shuffled order".to_owned(),
        };
        let level = self
            .level
            .map_or_else(String::new, |l| format!("; the true median lies inside with {:.0}% confidence", l * 100.0));
        let interval = match format {
            Format::Text | Format::Csv => "-a%/+b%",
            Format::Markdown => "`-a%/+b%`",
        };
        let (runs, stopping) = if fewest == most {
            (format!("the median of {most} runs"), String::new())
        } else {
            let first = if fewest == 1 { "once".to_owned() } else { format!("{fewest} times") };
            let stopping = format!(
                " Every case ran {first}; a case ran again (up to {most} runs) only while the runs could not yet \
                 tell it from the best for a timed goal of \"What to use\" (p50, p99, start; a single run's \
                 figure v counted as v/{f} to {f}v), so a figure of one run has no interval.",
                f = crate::recommend::SINGLE_RUN_SPREAD
            );
            ("the median of its runs".to_owned(), stopping)
        };
        format!(
            "Each figure is {runs}, each in a fresh process, {order}; {interval} is its confidence \
             interval (distribution-free, from the runs{level}), as lopsided as the runs were.{stopping}"
        )
    }

    /// What `term` means, with what was measured of it where known.
    fn explain(&self, term: Term, format: Format) -> String {
        let m = self.measured;
        let ns = |of: fn(&Measured) -> f64| m.as_ref().map(|m| format!("~{}", nanos_1(of(m))));
        match term {
            Term::Overlapped => {
                let fetch = ns(|m| m.loop_ns).map_or_else(String::new, |loop_ns| {
                    format!(" It includes {loop_ns} per lookup of the loop fetching the next key.")
                });
                format!(
                    "lookups back to back over independent keys; the CPU overlaps their cache misses, so this is \
                     one thread's throughput (1 / lookups per second), not the wait for one answer.{fetch}"
                )
            }
            Term::Chained => format!(
                "each lookup starts only after the previous answer arrived (its key depends on that answer, and an \
                 lfence separates them): the latency of one lookup when lookups do not overlap; the loop's own {} \
                 subtracted.",
                ns(|m| m.chain_floor_ns).unwrap_or_else(|| "cost".into())
            ),
            Term::Alone => {
                let clock = match (ns(|m| m.clock_ns), ns(|m| m.clock_tick_ns)) {
                    (Some(cost), Some(tick)) => {
                        format!("{cost} of clock reads subtracted (the clock moves in {tick} ticks)")
                    }
                    _ => "the clock's cost subtracted".to_owned(),
                };
                let rule = m.map_or_else(
                    || "enough lookups were timed beyond it".to_owned(),
                    |m| {
                        format!(
                            "at least {} lookups lie beyond it (p99: {})",
                            m.min_beyond,
                            (m.min_beyond / 0.01).round()
                        )
                    },
                );
                // A narrow terminal table writes the slowest as `max 2.46 ms`; the report always counts them.
                let slowest = match format {
                    Format::Text | Format::Csv => "`max`; --wide shows n and every interval",
                    Format::Markdown => "`max of n`",
                };
                format!(
                    "each lookup timed on its own (HdrHistogram), {clock}. A percentile is shown only when {rule}, \
                     otherwise the slowest of the n timed ({slowest})."
                )
            }
            Term::Timed => format!(
                "overlapped / chained / alone. {} is timed one by one only ('one by one'): its overlapped and \
                 chained figures are the mean of those lookups, which do not overlap by more than a cache miss.",
                m.map_or_else(
                    || "A slow lookup".to_owned(),
                    |m| format!("A lookup slower than {}", nanos(m.slow_op_ns))
                )
            ),
            Term::TimedAlone => "lookups timed alone per run.".to_owned(),
            Term::Cold => "the page cache dropped before opening; the first lookup, then the median of the next ones \
                           (warm where opening read the whole file: see the cold-start notes)."
                .to_owned(),
            Term::CpuTime => {
                let share = m.map_or_else(String::new, |m| {
                    let share = m.cpu_share.map_or_else(|| "?".into(), |s| format!("{:.0}%", s * 100.0));
                    format!("; the probes ran for {share} of the wall time of those rounds")
                });
                format!(
                    "overlapped and chained are CPU time of the probe's thread (time the machine gave to other work \
                     does not count{share}); alone is wall time."
                )
            }
            Term::Memory => "growth of the probe process over its state before opening, after all lookups and after \
                             malloc_trim (memory the allocator kept after freeing it is not charged); resident B/key \
                             counts anonymous and file-backed (page cache of mapped files) memory per key."
                .to_owned(),
            Term::Start => "open is the time from calling open until the strategy can answer (an index built or \
                            reused, a table loaded, a server connected); ready adds the time until its lookups run \
                            at the speed shown (its files' pages mapped in, an engine's cache filled, then the \
                            lookups before the per-round time settled; `warming`: its hashmap built), the wait a \
                            restarted service really has."
                .to_owned(),
            Term::Reads => "system calls that read a file (`read`, `pread`) per lookup: an engine reading its store \
                            into a cache of its own, a scan reading lines; a strategy that maps its files makes none."
                .to_owned(),
        }
    }
}

/// The word a term's explanation starts with; `None` for a sentence of its own.
fn title(term: Term) -> Option<&'static str> {
    match term {
        Term::Overlapped => Some("overlapped"),
        Term::Chained => Some("chained"),
        Term::Alone => Some("alone"),
        Term::Timed => Some("lookups timed (per run)"),
        Term::TimedAlone => Some("n"),
        Term::Cold => Some("cold"),
        Term::CpuTime => None,
        Term::Memory => Some("memory"),
        Term::Start => Some("open, ready"),
        Term::Reads => Some("reads"),
    }
}

/// A cost in nanoseconds with one decimal, as the legend states it: `2.5 ns`.
fn nanos_1(ns: f64) -> String {
    format!("{ns:.1} ns")
}

/// `text` with its first letter in capitals, to start a sentence.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured() -> Measured {
        Measured {
            seed: 7,
            loop_ns: 1.3,
            chain_floor_ns: 2.0,
            clock_ns: 20.0,
            clock_tick_ns: 0.5,
            cpu_share: Some(0.93),
            min_beyond: 5.0,
            slow_op_ns: 20_000.0,
        }
    }

    #[test]
    fn the_terminal_states_its_costs_and_the_report_its_terms() {
        let terms = vec![Term::Overlapped, Term::Alone, Term::CpuTime];
        let legend = Legend { runs: (5, 5), level: Some(0.9375), terms, measured: Some(measured()) };
        let text = legend.text();
        assert!(text.starts_with("How to read it. Each figure is the median of 5 runs"), "{text}");
        assert!(text.contains("(seed 7)") && text.contains("with 94% confidence"), "{text}");
        assert!(text.contains("\n- overlapped: lookups back") && text.contains("~1.3 ns per lookup"), "{text}");
        assert!(text.contains("at least 5 lookups lie beyond it (p99: 500)"), "{text}");
        assert!(text.contains("\n- overlapped and chained are CPU time") && text.contains("ran for 93%"), "{text}");
        let md = Legend { measured: None, ..legend }.markdown();
        assert!(md.starts_with("Each figure is the median of 5 runs, each in a fresh process, in shuffled order; "));
        assert!(md.contains("`-a%/+b%`") && md.contains(" **overlapped**: lookups") && md.contains(" Overlapped and"));
        assert!(!md.contains("seed") && !md.contains('\n'), "{md}");
    }

    #[test]
    fn a_legend_takes_the_level_of_the_records() {
        assert_eq!(Legend::level_of(&[]), None);
    }
}
