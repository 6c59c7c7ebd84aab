//! Serde for the types kvbench parses at its edge (strategies, workloads):
//! written as the label a person types (`lru(0.1,mmap-index)`, `zipf:0.99`)
//! and read back through the same `FromStr`, so a serialized value says what
//! the command line would and there is one parser.
//!
//! Use with `#[serde(with = "crate::text")]`, or `crate::text::many` for a `Vec`.

use std::fmt::Display;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serializer, de::Error};

/// Writes `value` as its label.
pub fn serialize<T: Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Reads a value from its label.
pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: FromStr<Err: Display>,
    D: Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|e| D::Error::custom(format!("{text:?}: {e}")))
}

/// The same for a list: each item as its label.
pub mod many {
    use super::*;
    use serde::ser::SerializeSeq;

    /// Writes each item as its label.
    pub fn serialize<T: Display, S: Serializer>(values: &[T], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(values.len()))?;
        for value in values {
            seq.serialize_element(&value.to_string())?;
        }
        seq.end()
    }

    /// Reads each item from its label.
    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Vec<T>, D::Error>
    where
        T: FromStr<Err: Display>,
        D: Deserializer<'de>,
    {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts.iter().map(|t| t.parse().map_err(|e| D::Error::custom(format!("{t:?}: {e}")))).collect()
    }
}
