//! The fuzzer's raw bytes: a reader that turns them into a case's choices,
//! and a display of bytes that can be pasted back into a test.

use std::fmt;

/// Bytes shown as an escaped byte-string literal, so a minimal input can be
/// pasted back into a regression test.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

/// Reads choices from the front of a fuzzer's input. Past the end every
/// read gives zero (or nothing), so every input, however short, decodes to
/// some case: libFuzzer's mutations never hit a "too short" dead end.
#[derive(Debug)]
pub struct Input<'a> {
    /// What is left to read.
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    /// Starts reading `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    /// The next byte, or 0 past the end.
    pub fn byte(&mut self) -> u8 {
        let Some((&first, rest)) = self.rest.split_first() else { return 0 };
        self.rest = rest;
        first
    }

    /// The next byte as a flag (its lowest bit).
    pub fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A number in `0..n` from the next byte (`n` at most 256; 0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()).checked_rem(n).unwrap_or(0)
    }

    /// The next `n` bytes, fewer if the input ends first.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        taken
    }

    /// Everything not read yet.
    pub fn rest(self) -> &'a [u8] {
        self.rest
    }
}
