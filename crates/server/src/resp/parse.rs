//! The RESP request parser: arrays of bulk strings, and inline commands.
//!
//! It works in place on the connection's input buffer and returns argument
//! ranges into it, so parsing a pipelined batch allocates nothing. Every
//! length is checked against [`RespLimits`] before any byte is waited for, so
//! a client announcing a 2^40-byte string is refused at once, not buffered.

use std::ops::Range;

/// Bounds on one RESP command.
#[derive(Clone, Copy, Debug)]
pub struct RespLimits {
    /// Most arguments (command name included).
    pub max_args: usize,
    /// Longest bulk string.
    pub max_bulk: usize,
    /// Most bytes the whole command may take; also the longest inline command.
    pub max_command: usize,
}

/// Why the input is not RESP; the connection answers `-ERR Protocol error: …` and closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// `*N` with N not a number or over the limit.
    #[error("invalid multibulk length")]
    ArrayLength,
    /// `$N` with N not a number, negative, or over the limit.
    #[error("invalid bulk length")]
    BulkLength,
    /// An array element that is not a bulk string.
    #[error("expected '$', got '{}'", *.0 as char)]
    ExpectedBulk(u8),
    /// A bulk string not followed by `\r\n`, or a header line ending in a bare `\n`.
    #[error("missing CRLF")]
    MissingCrlf,
    /// A command (or header line) longer than the limit.
    #[error("too big request")]
    TooBig,
}

/// Longest `*N` / `$N` header line.
const MAX_HEADER_LINE: usize = 24;

/// Parses the command at the start of `buf`, replacing `args` with the byte
/// ranges of its arguments.
///
/// Returns `Ok(Some(n))` when a whole command of `n` bytes was parsed (`args`
/// is empty for an empty array or a blank inline line, which are skipped), and
/// `Ok(None)` when more bytes are needed.
pub fn parse_command(
    buf: &[u8],
    limits: &RespLimits,
    args: &mut Vec<Range<usize>>,
) -> Result<Option<usize>, ProtocolError> {
    args.clear();
    match buf.first() {
        None => Ok(None),
        Some(b'*') => parse_array(buf, limits, args),
        Some(_) => parse_inline(buf, limits, args),
    }
}

fn parse_array(buf: &[u8], limits: &RespLimits, args: &mut Vec<Range<usize>>) -> Result<Option<usize>, ProtocolError> {
    let Some((header, mut pos)) = header_line(buf, 0)? else { return Ok(None) };
    let count = parse_int(&buf[1..header]).ok_or(ProtocolError::ArrayLength)?;
    if count <= 0 {
        return Ok(Some(pos));
    }
    let count = usize::try_from(count).map_err(|_| ProtocolError::ArrayLength)?;
    if count > limits.max_args {
        return Err(ProtocolError::ArrayLength);
    }
    for _ in 0..count {
        let Some(&kind) = buf.get(pos) else { return Ok(None) };
        if kind != b'$' {
            return Err(ProtocolError::ExpectedBulk(kind));
        }
        let Some((header, start)) = header_line(buf, pos)? else { return Ok(None) };
        let len = parse_int(&buf[pos + 1..header])
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= limits.max_bulk)
            .ok_or(ProtocolError::BulkLength)?;
        let end = start + len;
        if end + 2 > limits.max_command {
            return Err(ProtocolError::TooBig);
        }
        let Some(terminator) = buf.get(end..end + 2) else { return Ok(None) };
        if terminator != b"\r\n" {
            return Err(ProtocolError::MissingCrlf);
        }
        args.push(start..end);
        pos = end + 2;
    }
    Ok(Some(pos))
}

/// Finds the `\r\n` ending the header line at `from`: `(end of content, start of next)`.
fn header_line(buf: &[u8], from: usize) -> Result<Option<(usize, usize)>, ProtocolError> {
    let window = &buf[from..buf.len().min(from + MAX_HEADER_LINE)];
    match memchr::memchr(b'\n', window) {
        Some(nl) if nl > 0 && window[nl - 1] == b'\r' => Ok(Some((from + nl - 1, from + nl + 1))),
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

/// An inline command: one line, arguments separated by spaces or tabs (no quoting).
fn parse_inline(buf: &[u8], limits: &RespLimits, args: &mut Vec<Range<usize>>) -> Result<Option<usize>, ProtocolError> {
    let window = &buf[..buf.len().min(limits.max_command)];
    let Some(nl) = memchr::memchr(b'\n', window) else {
        return if window.len() == limits.max_command { Err(ProtocolError::TooBig) } else { Ok(None) };
    };
    let line_end = if nl > 0 && buf[nl - 1] == b'\r' { nl - 1 } else { nl };
    let mut start = None;
    for (i, &byte) in buf[..line_end].iter().enumerate() {
        match (byte == b' ' || byte == b'\t', start) {
            (true, Some(s)) => {
                args.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        args.push(s..line_end);
    }
    if args.len() > limits.max_args {
        return Err(ProtocolError::ArrayLength);
    }
    Ok(Some(nl + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: RespLimits = RespLimits { max_args: 8, max_bulk: 64, max_command: 256 };

    /// Bytes consumed and the arguments, as slices.
    type Parsed<'a> = Option<(usize, Vec<&'a [u8]>)>;

    fn parse(buf: &[u8]) -> Result<Parsed<'_>, ProtocolError> {
        let mut args = Vec::new();
        Ok(parse_command(buf, &LIMITS, &mut args)?.map(|n| (n, args.into_iter().map(|r| &buf[r]).collect())))
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
    fn bad_input_is_refused_without_waiting() {
        assert_eq!(parse(b"*x\r\n"), Err(ProtocolError::ArrayLength));
        assert_eq!(parse(b"*9\r\n"), Err(ProtocolError::ArrayLength));
        assert_eq!(parse(b"*1\r\n$1099511627776\r\n"), Err(ProtocolError::BulkLength));
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
        assert_eq!(parse(&many), Err(ProtocolError::TooBig));
        assert_eq!(parse(&[b'a'; 300]), Err(ProtocolError::TooBig));
    }

    #[test]
    fn inline_commands() {
        assert_eq!(parse(b"PING\r\n"), Ok(Some((6, vec![&b"PING"[..]]))));
        assert_eq!(parse(b"  get \t key  \n"), Ok(Some((14, vec![&b"get"[..], b"key"]))));
        assert_eq!(parse(b"\r\n"), Ok(Some((2, vec![]))));
        assert_eq!(parse(b"GET key"), Ok(None));
        assert_eq!(parse(b"a b c d e f g h i\n"), Err(ProtocolError::ArrayLength));
    }
}
