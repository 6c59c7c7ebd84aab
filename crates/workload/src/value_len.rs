//! Value-length distributions for generated data.

use std::fmt;
use std::str::FromStr;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Normal};

/// Longest value the generator writes (1 MiB): bigger lines are not this
/// benchmark's subject, and the bound keeps buffer sizes sane.
pub const MAX_VALUE_LEN: usize = 1 << 20;

/// How long generated values are, in bytes (always at least 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueLen {
    /// Every value has this length: `fixed:300`.
    Fixed(usize),
    /// Uniform over `min..=max`: `uniform:20..40`.
    Uniform {
        /// Shortest length.
        min: usize,
        /// Longest length (inclusive).
        max: usize,
    },
    /// Normal, rounded and clamped to `1..=2*mean-1` so it stays symmetric
    /// (mean = median): `normal:30,5`.
    Normal {
        /// Mean and median length.
        mean: usize,
        /// Standard deviation before clamping.
        sd: f64,
    },
}

/// The original data's shape: mean ≈ median ≈ 30 bytes; results name it
/// [`kvbench_results::DEFAULT_VALUE_LEN`] (a test keeps the two alike).
impl Default for ValueLen {
    fn default() -> Self {
        ValueLen::Normal { mean: 30, sd: 5.0 }
    }
}

impl ValueLen {
    /// Draws one length.
    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        match *self {
            ValueLen::Fixed(n) => n,
            ValueLen::Uniform { min, max } => rng.random_range(min..=max),
            ValueLen::Normal { mean, sd } => match Normal::new(mean as f64, sd) {
                Ok(normal) => (normal.sample(rng).round() as usize).clamp(1, 2 * mean - 1),
                Err(_) => mean,
            },
        }
    }

    /// The distribution's mean length.
    pub fn mean(&self) -> f64 {
        match *self {
            ValueLen::Fixed(n) => n as f64,
            ValueLen::Uniform { min, max } => (min + max) as f64 / 2.0,
            ValueLen::Normal { mean, .. } => mean as f64,
        }
    }
}

impl fmt::Display for ValueLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueLen::Fixed(n) => write!(f, "fixed:{n}"),
            ValueLen::Uniform { min, max } => write!(f, "uniform:{min}..{max}"),
            ValueLen::Normal { mean, sd } => write!(f, "normal:{mean},{sd}"),
        }
    }
}

/// Why a value-length distribution could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid value length {0:?}: expected fixed:N, uniform:MIN..MAX or normal:MEAN,SD with lengths from 1 to 1048576"
)]
pub struct ParseValueLenError(String);

impl FromStr for ValueLen {
    type Err = ParseValueLenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseValueLenError(s.to_owned());
        let (kind, args) = s.split_once(':').ok_or_else(err)?;
        let len = |x: &str| x.trim().parse::<usize>().ok().filter(|n| (1..=MAX_VALUE_LEN).contains(n)).ok_or_else(err);
        match kind {
            "fixed" => Ok(ValueLen::Fixed(len(args)?)),
            "uniform" => {
                let (min, max) = args.split_once("..=").or_else(|| args.split_once("..")).ok_or_else(err)?;
                let (min, max) = (len(min)?, len(max)?);
                if min > max {
                    return Err(err());
                }
                Ok(ValueLen::Uniform { min, max })
            }
            "normal" => {
                let (mean, sd) = args.split_once(',').ok_or_else(err)?;
                let sd: f64 = sd.trim().parse().ok().filter(|sd: &f64| sd.is_finite() && *sd >= 0.0).ok_or_else(err)?;
                Ok(ValueLen::Normal { mean: len(mean)?, sd })
            }
            _ => Err(err()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in ["fixed:300", "uniform:20..40", "normal:30,5"] {
            assert_eq!(s.parse::<ValueLen>().unwrap().to_string(), s);
        }
        assert_eq!("uniform:1..=3".parse::<ValueLen>().unwrap(), ValueLen::Uniform { min: 1, max: 3 });
        for bad in
            ["", "fixed", "fixed:0", "fixed:x", "uniform:5..2", "normal:30", "normal:30,-1", "zipf:1", "fixed:1048577"]
        {
            assert!(bad.parse::<ValueLen>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_is_what_results_call_the_default() {
        assert_eq!(ValueLen::default().to_string(), kvbench_results::DEFAULT_VALUE_LEN);
    }
}
