//! The RESP request parser: arrays of bulk strings, and inline commands.
//!
//! It works in place on the connection's input buffer and returns argument
//! ranges into it, so parsing a pipelined batch allocates nothing. Every
//! length is checked against [`RespLimits`] before any byte is waited for, so
//! a client announcing a 2^40-byte string is refused at once, not buffered.
//! A command that arrives in pieces is resumed where the last piece ended,
//! so a client trickling a big command costs one pass over it, not one per piece.

use std::ops::Range;

/// Bounds on one RESP command.
#[derive(Clone, Copy, Debug)]
pub struct RespLimits {
    /// Most arguments (command name included).
    pub max_args: usize,
    /// Longest bulk string.
    pub max_bulk: usize,
    /// Most bytes the whole command may take.
    pub max_command: usize,
    /// Longest inline command line (Redis allows 64 KiB).
    pub max_inline: usize,
}

/// Why the input is not RESP; the connection answers `-ERR Protocol error: …` and closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// `*N` with N not a number.
    #[error("invalid multibulk length")]
    ArrayLength,
    /// `$N` with N not a number, or negative.
    #[error("invalid bulk length")]
    BulkLength,
    /// An array element that is not a bulk string.
    #[error("expected '$', got '{}'", *.0 as char)]
    ExpectedBulk(u8),
    /// A bulk string not followed by `\r\n`, or a header line ending in a bare `\n`.
    #[error("missing CRLF")]
    MissingCrlf,
    /// A `*N` or `$N` header line too long to hold a number.
    #[error("too big request")]
    TooBig,
    /// A command past one of the server's limits, which the message names.
    #[error("{0}")]
    OverLimit(Limit),
}

/// One of [`RespLimits`], with its value: what a refused command overran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Limit {
    /// [`RespLimits::max_args`].
    #[error("more than {0} arguments in one command (the limit; kvbench serve --max-resp-args)")]
    Args(usize),
    /// [`RespLimits::max_bulk`].
    #[error("a bulk string over {0} bytes (the limit; kvbench serve --max-resp-bulk)")]
    Bulk(usize),
    /// [`RespLimits::max_command`].
    #[error("a command over {0} bytes (the limit; kvbench serve --max-resp-command)")]
    Command(usize),
    /// [`RespLimits::max_inline`].
    #[error("an inline command over {0} bytes (the limit, as in Redis)")]
    Inline(usize),
}

/// Longest `*N` / `$N` header line.
const MAX_HEADER_LINE: usize = 24;

/// A command being parsed: what is known so far, kept across reads.
#[derive(Debug, Default)]
pub struct Parser {
    /// Argument ranges found so far (all of them once the command is complete).
    args: Vec<Range<usize>>,
    /// Where to resume: the next array element, or how far an inline line was scanned.
    pos: usize,
    /// For an array, how many elements it announced.
    expected: Option<usize>,
    /// The last call completed a command; the next one starts afresh.
    complete: bool,
}

impl Parser {
    /// Parses the command at the start of `buf`, resuming where the previous
    /// call stopped: until a command completes, `buf` must hold the same
    /// bytes, possibly with more appended.
    ///
    /// Returns `Ok(Some(n))` when a whole command of `n` bytes was parsed
    /// ([`Parser::args`] is empty for an empty array or a blank inline line,
    /// which are skipped), and `Ok(None)` when more bytes are needed.
    pub fn parse(&mut self, buf: &[u8], limits: &RespLimits) -> Result<Option<usize>, ProtocolError> {
        if self.complete {
            self.args.clear();
            (self.pos, self.expected, self.complete) = (0, None, false);
        }
        let done = match buf.first() {
            None => None,
            Some(b'*') => self.parse_array(buf, limits)?,
            Some(_) => self.parse_inline(buf, limits)?,
        };
        self.complete = done.is_some();
        Ok(done)
    }

    /// The arguments of the command the last [`Parser::parse`] completed, as ranges of its buffer.
    pub fn args(&self) -> &[Range<usize>] {
        &self.args
    }

    fn parse_array(&mut self, buf: &[u8], limits: &RespLimits) -> Result<Option<usize>, ProtocolError> {
        let expected = match self.expected {
            Some(expected) => expected,
            None => {
                let Some((header, next)) = header_line(buf, 0)? else { return Ok(None) };
                let digits = buf.get(1..header).ok_or(ProtocolError::ArrayLength)?;
                let count = parse_int(digits).ok_or(ProtocolError::ArrayLength)?;
                if count <= 0 {
                    return Ok(Some(next));
                }
                let count = usize::try_from(count).map_err(|_| ProtocolError::ArrayLength)?;
                if count > limits.max_args {
                    return Err(ProtocolError::OverLimit(Limit::Args(limits.max_args)));
                }
                self.pos = next;
                *self.expected.insert(count)
            }
        };
        while self.args.len() < expected {
            let pos = self.pos;
            let Some(&kind) = buf.get(pos) else { return Ok(None) };
            if kind != b'$' {
                return Err(ProtocolError::ExpectedBulk(kind));
            }
            let Some((header, start)) = header_line(buf, pos)? else { return Ok(None) };
            let len = buf
                .get(pos + 1..header)
                .and_then(parse_int)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(ProtocolError::BulkLength)?;
            if len > limits.max_bulk {
                return Err(ProtocolError::OverLimit(Limit::Bulk(limits.max_bulk)));
            }
            let end = start + len;
            if end + 2 > limits.max_command {
                return Err(ProtocolError::OverLimit(Limit::Command(limits.max_command)));
            }
            let Some(terminator) = buf.get(end..end + 2) else { return Ok(None) };
            if terminator != b"\r\n" {
                return Err(ProtocolError::MissingCrlf);
            }
            self.args.push(start..end);
            self.pos = end + 2;
        }
        Ok(Some(self.pos))
    }

    /// An inline command: one line, arguments separated by spaces or tabs (no quoting).
    fn parse_inline(&mut self, buf: &[u8], limits: &RespLimits) -> Result<Option<usize>, ProtocolError> {
        let window = buf.get(..limits.max_inline).unwrap_or(buf);
        let unread = window.get(self.pos..).unwrap_or_default();
        let Some(nl) = memchr::memchr(b'\n', unread).map(|i| self.pos + i) else {
            self.pos = window.len();
            let over = window.len() == limits.max_inline;
            return if over { Err(ProtocolError::OverLimit(Limit::Inline(limits.max_inline))) } else { Ok(None) };
        };
        let line_end = if nl > 0 && buf.get(nl - 1) == Some(&b'\r') { nl - 1 } else { nl };
        let mut start = None;
        for (i, &byte) in buf.get(..line_end).unwrap_or_default().iter().enumerate() {
            match (byte == b' ' || byte == b'\t', start) {
                (true, Some(s)) => {
                    self.push_inline(s..i, limits)?;
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            self.push_inline(s..line_end, limits)?;
        }
        Ok(Some(nl + 1))
    }

    /// Adds an inline argument, failing at once past the limit (not after splitting the whole line).
    fn push_inline(&mut self, arg: Range<usize>, limits: &RespLimits) -> Result<(), ProtocolError> {
        if self.args.len() == limits.max_args {
            return Err(ProtocolError::OverLimit(Limit::Args(limits.max_args)));
        }
        self.args.push(arg);
        Ok(())
    }
}

/// Finds the `\r\n` ending the header line at `from`: `(end of content, start of next)`.
fn header_line(buf: &[u8], from: usize) -> Result<Option<(usize, usize)>, ProtocolError> {
    let window = buf.get(from..).unwrap_or_default();
    let window = window.get(..MAX_HEADER_LINE).unwrap_or(window);
    match memchr::memchr(b'\n', window) {
        Some(nl) if nl > 0 && window.get(nl - 1) == Some(&b'\r') => Ok(Some((from + nl - 1, from + nl + 1))),
        Some(_) => Err(ProtocolError::MissingCrlf),
        None if window.len() == MAX_HEADER_LINE => Err(ProtocolError::TooBig),
        None => Ok(None),
    }
}

/// A decimal integer with an optional `-`, at most 18 digits (no overflow).
fn parse_int(digits: &[u8]) -> Option<i64> {
    let (negative, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    Some(if negative { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: RespLimits = RespLimits { max_args: 8, max_bulk: 64, max_command: 256, max_inline: 128 };

    /// Bytes consumed and the arguments, as slices.
    type Parsed<'a> = Option<(usize, Vec<&'a [u8]>)>;

    fn parse(buf: &[u8]) -> Result<Parsed<'_>, ProtocolError> {
        let mut parser = Parser::default();
        Ok(parser.parse(buf, &LIMITS)?.map(|n| (n, parser.args().iter().map(|r| &buf[r.clone()]).collect())))
    }

    #[test]
    fn arrays_of_bulk_strings() {
        let get = b"*2\r\n$3\r\nGET\r\n$5\r\nk e y\r\n";
        assert_eq!(parse(get), Ok(Some((get.len(), vec![&b"GET"[..], b"k e y"]))));
        let pipelined = [&get[..], b"*1\r\n$4\r\nPING\r\n"].concat();
        assert_eq!(parse(&pipelined), Ok(Some((get.len(), vec![&b"GET"[..], b"k e y"]))));
        assert_eq!(parse(b"*1\r\n$0\r\n\r\n"), Ok(Some((10, vec![&b""[..]]))));
        assert_eq!(parse(b"*0\r\n"), Ok(Some((4, vec![]))));
        assert_eq!(parse(b"*-1\r\n"), Ok(Some((5, vec![]))));
    }

    #[test]
    fn incomplete_input_waits() {
        let get = b"*2\r\n$3\r\nGET\r\n$5\r\nk e y\r\n";
        for cut in 0..get.len() {
            assert_eq!(parse(&get[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn byte_at_a_time_resumes_and_then_starts_afresh() {
        let two = b"*2\r\n$3\r\nGET\r\n$5\r\nk e y\r\nget  k2\r\n*1\r\n$4\r\nPING\r\n";
        let mut parser = Parser::default();
        let mut start = 0;
        let mut commands = Vec::new();
        for end in 1..=two.len() {
            let buf = &two[start..end];
            if let Some(used) = parser.parse(buf, &LIMITS).unwrap() {
                commands.push(parser.args().iter().map(|r| buf[r.clone()].to_vec()).collect::<Vec<_>>());
                start += used;
            }
        }
        let expect: [&[&[u8]]; 3] = [&[b"GET", b"k e y"], &[b"get", b"k2"], &[b"PING"]];
        assert_eq!(commands, expect);
        assert_eq!(start, two.len());
    }

    #[test]
    fn bad_input_is_refused_without_waiting() {
        assert_eq!(parse(b"*x\r\n"), Err(ProtocolError::ArrayLength));
        assert_eq!(parse(b"*9\r\n"), Err(ProtocolError::OverLimit(Limit::Args(8))));
        assert_eq!(parse(b"*1\r\n$1099511627776\r\n"), Err(ProtocolError::OverLimit(Limit::Bulk(64))));
        assert_eq!(parse(b"*1\r\n$-5\r\n"), Err(ProtocolError::BulkLength));
        assert_eq!(parse(b"*1\r\n:5\r\n"), Err(ProtocolError::ExpectedBulk(b':')));
        assert_eq!(parse(b"*1\r\n$3\r\nabcXY"), Err(ProtocolError::MissingCrlf));
        assert_eq!(parse(b"*1\n"), Err(ProtocolError::MissingCrlf));
        assert_eq!(parse(b"*11111111111111111111111111111"), Err(ProtocolError::TooBig));
        assert_eq!(parse(b"*1\r\n$99999999999999999999\r\n"), Err(ProtocolError::BulkLength));
        let mut many = b"*8\r\n".to_vec();
        for _ in 0..8 {
            many.extend_from_slice(b"$60\r\n");
            many.extend_from_slice(&[b'a'; 60]);
            many.extend_from_slice(b"\r\n");
        }
        assert_eq!(parse(&many), Err(ProtocolError::OverLimit(Limit::Command(256))));
        assert_eq!(parse(&[b'a'; 300]), Err(ProtocolError::OverLimit(Limit::Inline(128))));
        assert_eq!(
            parse(&[b'a'; 128]),
            Err(ProtocolError::OverLimit(Limit::Inline(128))),
            "inline lines have their own limit"
        );
    }

    #[test]
    fn inline_commands() {
        assert_eq!(parse(b"PING\r\n"), Ok(Some((6, vec![&b"PING"[..]]))));
        assert_eq!(parse(b"  get \t key  \n"), Ok(Some((14, vec![&b"get"[..], b"key"]))));
        assert_eq!(parse(b"\r\n"), Ok(Some((2, vec![]))));
        assert_eq!(parse(b"GET key"), Ok(None));
        assert_eq!(parse(b"a b c d e f g h i\n"), Err(ProtocolError::OverLimit(Limit::Args(8))));
    }
}
