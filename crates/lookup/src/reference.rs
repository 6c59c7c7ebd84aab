//! The obviously-correct model every strategy is tested against.
//!
//! Written independently of [`crate::record`] on purpose, with plain slice
//! methods and a `BTreeMap`, so a bug in the shared parser cannot hide by
//! agreeing with itself.

use std::collections::BTreeMap;

use crate::error::LookupError;
use crate::format::{MAX_KEY_LEN, check_key};
use crate::info::StrategyInfo;
use crate::{Lookup, Value};

/// Every valid record of a file in a `BTreeMap`, first occurrence kept.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    /// 1-based numbers of the malformed lines.
    pub malformed: Vec<u64>,
    /// Records whose key appeared before.
    pub duplicates: u64,
}

impl Reference {
    /// Parses `data` the simple way, recording malformed lines instead of failing.
    pub fn from_bytes(data: &[u8]) -> Self {
        let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        if data.is_empty() || data.ends_with(b"\n") {
            lines.pop();
        }
        let mut reference = Reference::default();
        for (number, line) in (1..).zip(lines) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match line.iter().position(|&b| b == b' ' || b == b'\t') {
                Some(sep) if sep > 0 && sep <= MAX_KEY_LEN => {
                    let (key, rest) = line.split_at(sep);
                    if reference.map.contains_key(key) {
                        reference.duplicates += 1;
                    } else {
                        reference.map.insert(key.to_vec(), rest.get(1..).unwrap_or_default().to_vec());
                    }
                }
                _ => reference.malformed.push(number),
            }
        }
        reference
    }

    /// The value of `key`, if present.
    pub fn value(&self, key: &[u8]) -> Option<&[u8]> {
        self.map.get(key).map(Vec::as_slice)
    }

    /// Every distinct key, in byte order.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.map.keys().map(Vec::as_slice)
    }

    /// Distinct keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no valid records.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl Lookup for Reference {
    fn get(&self, key: &[u8]) -> Result<Option<Value<'_>>, LookupError> {
        check_key(key)?;
        Ok(self.value(key).map(Value::Borrowed))
    }

    fn info(&self) -> StrategyInfo {
        StrategyInfo { name: "reference".into(), keys: Some(self.map.len() as u64), ..StrategyInfo::default() }
    }
}
