//! The RESP parser ([`kvbench_server::Parser`]) against itself
//! and a model: the same stream must give the same commands read whole, in
//! pieces and byte by byte, every answer must stay within the limits, and
//! commands encoded from known arguments must come out as the RESP rules and
//! the limits say ([`Cmd::verdict`], computed without the parser's code).

use kvbench_server::Limits;
use kvbench_server::{Limit, Parser, ProtocolError, RespLimits};

use crate::input::{Bytes, Input};

/// The arguments of one parsed command.
pub type Command = Vec<Vec<u8>>;

/// What a connection makes of a byte stream.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    /// The commands parsed, in order.
    pub commands: Vec<Command>,
    /// The protocol error that closed the connection, if any.
    pub error: Option<ProtocolError>,
    /// Bytes not consumed by the commands (an incomplete command, or where the error was found).
    pub left: usize,
}

/// The limits the server runs with, mapped as `resp.rs` maps them.
pub fn server_limits() -> RespLimits {
    let limits = Limits::default();
    RespLimits {
        max_args: limits.max_resp_args,
        max_bulk: limits.max_resp_bulk_bytes,
        max_command: limits.max_resp_command_bytes,
        max_inline: limits.max_resp_inline_bytes,
    }
}

/// Feeds `data` to one parser in pieces ending at `cuts` (sorted), as
/// `resp.rs` does with each read (parse every complete command, drop its
/// bytes, read more), asserting what must hold of every answer along the way.
pub fn drive(data: &[u8], cuts: &[usize], limits: &RespLimits) -> Outcome {
    let mut parser = Parser::default();
    let mut input: Vec<u8> = Vec::new();
    let mut commands = Vec::new();
    let (mut fed, mut consumed) = (0, 0);
    for end in cuts.iter().copied().filter(|&c| c < data.len()).chain([data.len()]) {
        input.extend_from_slice(&data[fed..end.max(fed)]);
        fed = end.max(fed);
        loop {
            match parser.parse(&input, limits) {
                Ok(Some(used)) => {
                    let args = parser.args();
                    // `used == 0` would make the server's loop execute the same empty command forever.
                    assert!((1..=input.len()).contains(&used), "used {used} of {}", input.len());
                    assert!(args.iter().all(|r| r.start <= r.end && r.end <= used), "{args:?} outside {used}");
                    assert!(args.len() <= limits.max_args, "{} args over {limits:?}", args.len());
                    if input[0] == b'*' {
                        assert!(args.iter().all(|r| r.len() <= limits.max_bulk), "bulk over {limits:?}");
                        assert!(args.is_empty() || used <= limits.max_command, "{used} bytes over {limits:?}");
                    } else {
                        assert!(used <= limits.max_inline, "inline line of {used} bytes over {limits:?}");
                    }
                    commands.push(args.iter().map(|r| input[r.clone()].to_vec()).collect());
                    input.drain(..used);
                    consumed += used;
                }
                Ok(None) => break,
                // The error may come before the rest is read: count what was sent, not what was read.
                Err(error) => return Outcome { commands, error: Some(error), left: data.len() - consumed },
            }
        }
    }
    Outcome { commands, error: None, left: input.len() }
}

/// One command, valid by construction.
#[derive(Clone, Debug)]
pub enum Cmd {
    /// An array of bulk strings (at least one).
    Array(Vec<Bytes>),
    /// `*0` or `*-1`: an empty command, which is skipped.
    Empty(&'static str),
    /// An inline command: whitespace runs (`args.len() + 1` of them: leading,
    /// between, trailing) around the arguments, ended by CRLF or LF. Build it
    /// with [`Cmd::inline`], which keeps it valid.
    Inline {
        /// The arguments: non-empty, without space, tab or newline.
        args: Vec<Bytes>,
        /// Runs of spaces and tabs around them.
        gaps: Vec<Bytes>,
        /// End the line with CRLF rather than LF.
        crlf: bool,
    },
}

impl Cmd {
    /// An inline command of `args` (each must be non-empty and free of space,
    /// tab and newline), made valid: `gaps` padded or cut to `args.len() + 1`,
    /// a separator between arguments, no leading `*` (that would be an array),
    /// and no bare LF after a trailing `\r` (that `\r` would join the line end).
    pub fn inline(args: Vec<Bytes>, mut gaps: Vec<Bytes>, mut crlf: bool) -> Cmd {
        gaps.resize(args.len() + 1, Bytes::default());
        let last = gaps.len() - 1;
        for gap in gaps.iter_mut().take(last).skip(1) {
            if gap.0.is_empty() {
                gap.0.push(b' ');
            }
        }
        if gaps[0].0.is_empty() && args.first().is_some_and(|a| a.0.first() == Some(&b'*')) {
            gaps[0].0.push(b'\t');
        }
        if gaps[last].0.is_empty() && args.last().is_some_and(|a| a.0.ends_with(b"\r")) {
            crlf = true;
        }
        Cmd::Inline { args, gaps, crlf }
    }

    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Cmd::Array(args) => {
                let mut out = format!("*{}\r\n", args.len()).into_bytes();
                for arg in args {
                    out.extend_from_slice(format!("${}\r\n", arg.0.len()).as_bytes());
                    out.extend_from_slice(&arg.0);
                    out.extend_from_slice(b"\r\n");
                }
                out
            }
            Cmd::Empty(header) => [header.as_bytes(), b"\r\n"].concat(),
            Cmd::Inline { args, gaps, crlf } => {
                let mut out = gaps.first().map(|g| g.0.clone()).unwrap_or_default();
                for (arg, gap) in args.iter().zip(gaps.iter().skip(1)) {
                    out.extend_from_slice(&arg.0);
                    out.extend_from_slice(&gap.0);
                }
                out.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
                out
            }
        }
    }

    /// What the parser must answer for this command alone, from the RESP
    /// rules and the limits (computed without the parser's code).
    pub fn verdict(&self, limits: &RespLimits) -> Result<Command, ProtocolError> {
        match self {
            Cmd::Array(args) => {
                if args.len() > limits.max_args {
                    return Err(ProtocolError::OverLimit(Limit::Args(limits.max_args)));
                }
                let mut end = format!("*{}\r\n", args.len()).len();
                for arg in args {
                    if arg.0.len() > limits.max_bulk {
                        return Err(ProtocolError::OverLimit(Limit::Bulk(limits.max_bulk)));
                    }
                    end += format!("${}\r\n", arg.0.len()).len() + arg.0.len() + 2;
                    if end > limits.max_command {
                        return Err(ProtocolError::OverLimit(Limit::Command(limits.max_command)));
                    }
                }
                Ok(args.iter().map(|a| a.0.clone()).collect())
            }
            Cmd::Empty(_) => Ok(Vec::new()),
            Cmd::Inline { args, .. } => {
                if self.encode().len() > limits.max_inline {
                    return Err(ProtocolError::OverLimit(Limit::Inline(limits.max_inline)));
                }
                if args.len() > limits.max_args {
                    return Err(ProtocolError::OverLimit(Limit::Args(limits.max_args)));
                }
                Ok(args.iter().map(|a| a.0.clone()).collect())
            }
        }
    }
}

/// A change to a valid stream; positions are taken modulo the stream's length.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Overwrite the byte at a position.
    Replace(usize, u8),
    /// Insert a byte before a position.
    Insert(usize, u8),
    /// Remove the byte at a position.
    Delete(usize),
    /// Cut the stream at a position.
    Truncate(usize),
}

impl Mutation {
    /// Applies the change; returns the first position it may have touched.
    pub fn apply(&self, data: &mut Vec<u8>) -> usize {
        let at = |i: usize, len: usize| i.checked_rem(len).unwrap_or(0);
        match *self {
            Mutation::Replace(i, b) if !data.is_empty() => {
                let p = at(i, data.len());
                data[p] = b;
                p
            }
            Mutation::Insert(i, b) => {
                let p = at(i, data.len() + 1);
                data.insert(p, b);
                p
            }
            Mutation::Delete(i) if !data.is_empty() => {
                let p = at(i, data.len());
                data.remove(p);
                p
            }
            Mutation::Truncate(i) => {
                let p = at(i, data.len() + 1);
                data.truncate(p);
                p
            }
            Mutation::Replace(..) | Mutation::Delete(_) => data.len(),
        }
    }
}

/// One RESP fuzz case.
#[derive(Clone, Debug)]
pub struct RespCase {
    /// What the client sends.
    pub data: Bytes,
    /// Valid commands `data` was made from, if any.
    pub commands: Vec<Cmd>,
    /// Bytes of `data` before the first one a mutation may have touched.
    pub intact: usize,
    /// Whether `data` was changed after encoding the commands.
    pub mutated: bool,
    /// Where the reads end, for the incremental run (modulo `data.len() + 1`).
    pub cuts: Vec<usize>,
    /// Feed one byte per read instead.
    pub byte_at_a_time: bool,
    /// The parser's limits.
    pub limits: RespLimits,
}

impl RespCase {
    /// A case of raw bytes: no known commands.
    pub fn raw(data: Vec<u8>, cuts: Vec<usize>, byte_at_a_time: bool, limits: RespLimits) -> Self {
        RespCase {
            intact: data.len(),
            data: Bytes(data),
            commands: Vec::new(),
            mutated: false,
            cuts,
            byte_at_a_time,
            limits,
        }
    }

    /// A case of `commands` encoded, then changed by `mutations`.
    pub fn encoded(
        commands: Vec<Cmd>,
        mutations: &[Mutation],
        cuts: Vec<usize>,
        byte_at_a_time: bool,
        limits: RespLimits,
    ) -> Self {
        let mut data: Vec<u8> = commands.iter().flat_map(Cmd::encode).collect();
        let intact = mutations.iter().map(|m| m.apply(&mut data)).min().unwrap_or(usize::MAX).min(data.len());
        let mutated = !mutations.is_empty();
        RespCase { data: Bytes(data), commands, intact, mutated, cuts, byte_at_a_time, limits }
    }

    /// Decodes a libFuzzer input. A 6-byte header, then the payload:
    ///
    /// - byte 0, flags: bit 0 small limits (else the server's), bit 1 one
    ///   byte per read, bit 2 the payload describes commands (else it is
    ///   the wire bytes themselves);
    /// - bytes 1–4, the small limits: arguments (mod 10), bulk (mod 80),
    ///   command (× 300 / 256), inline line (mod 160);
    /// - byte 5, reads of this many bytes each (mod 64; 0: one read).
    ///
    /// So `000000*1\r\n$4\r\nPING\r\n` is that stream under the server's
    /// limits, read in pieces of 48 bytes. Described commands are read by
    /// [`commands_from`] and [`mutations_from`].
    pub fn from_fuzz(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let flags = input.byte();
        let small = RespLimits {
            max_args: input.below(10),
            max_bulk: input.below(80),
            max_command: usize::from(input.byte()) * 300 / 256,
            max_inline: input.below(160),
        };
        let limits = if flags & 1 == 1 { small } else { server_limits() };
        let step = input.below(64);
        let byte_at_a_time = flags & 2 == 2;
        let mut case = if flags & 4 == 4 {
            let commands = commands_from(&mut input);
            let mutations = mutations_from(&mut input);
            RespCase::encoded(commands, &mutations, Vec::new(), byte_at_a_time, limits)
        } else {
            RespCase::raw(input.rest().to_vec(), Vec::new(), byte_at_a_time, limits)
        };
        if step > 0 {
            case.cuts = (step..case.data.0.len()).step_by(step).collect();
        }
        case
    }
}

/// Up to 5 commands from `input`: a kind byte each (arrays, empty arrays,
/// inline commands, as the proptest generator weighs them), then its parts.
pub fn commands_from(input: &mut Input<'_>) -> Vec<Cmd> {
    let count = input.below(6);
    (0..count)
        .map(|_| match input.below(8) {
            0..=3 => Cmd::Array((0..1 + input.below(5)).map(|_| bulk_from(input)).collect()),
            4 => Cmd::Empty(if input.flag() { "*-1" } else { "*0" }),
            _ => {
                let args: Vec<Bytes> = (0..input.below(6)).map(|_| word_from(input)).collect();
                let gaps = (0..=args.len())
                    .map(|_| Bytes((0..input.below(3)).map(|_| if input.flag() { b'\t' } else { b' ' }).collect()))
                    .collect();
                Cmd::inline(args, gaps, input.flag())
            }
        })
        .collect()
}

/// A bulk string: mostly up to 12 bytes of the input, sometimes 60–299 copies of one byte.
fn bulk_from(input: &mut Input<'_>) -> Bytes {
    if input.below(9) == 0 {
        Bytes(vec![input.byte(); 60 + input.below(240)])
    } else {
        let len = input.below(13);
        Bytes(input.take(len).to_vec())
    }
}

/// An inline argument: 1–9 bytes of the input, with space, tab and newline
/// (which end an argument) turned into `_`.
fn word_from(input: &mut Input<'_>) -> Bytes {
    let len = 1 + input.below(9);
    let mut word: Vec<u8> = input.take(len).iter().map(|&b| if b" \t\n".contains(&b) { b'_' } else { b }).collect();
    if word.is_empty() {
        word.push(b'w');
    }
    Bytes(word)
}

/// Up to 3 mutations from `input`: a kind byte, a 2-byte position and a byte each.
pub fn mutations_from(input: &mut Input<'_>) -> Vec<Mutation> {
    let count = input.below(4);
    (0..count)
        .map(|_| {
            let kind = input.below(4);
            let at = usize::from(u16::from_le_bytes([input.byte(), input.byte()]));
            let byte = input.byte();
            match kind {
                0 => Mutation::Replace(at, byte),
                1 => Mutation::Insert(at, byte),
                2 => Mutation::Delete(at),
                _ => Mutation::Truncate(at),
            }
        })
        .collect()
}

/// Every property of one RESP case (see [`drive`] for those of each answer);
/// panics on the first that fails.
pub fn check(case: &RespCase) {
    let data = &case.data.0;
    let whole = drive(data, &[], &case.limits);
    let cuts: Vec<usize> = if case.byte_at_a_time {
        (1..data.len()).collect()
    } else {
        let mut cuts: Vec<usize> = case.cuts.iter().map(|&c| c % (data.len() + 1)).collect();
        cuts.sort_unstable();
        cuts
    };
    let pieces = drive(data, &cuts, &case.limits);
    assert_eq!(pieces, whole, "read in pieces ending at {cuts:?}");
    // Commands whose bytes are intact must come out as the rules say, in order.
    let mut start = 0;
    for (n, cmd) in case.commands.iter().enumerate() {
        let end = start + cmd.encode().len();
        if end > case.intact {
            break;
        }
        match cmd.verdict(&case.limits) {
            Ok(args) => assert_eq!(whole.commands.get(n), Some(&args), "command {n}"),
            Err(error) => {
                assert_eq!(whole.commands.len(), n, "commands before the refused one");
                assert_eq!(whole.error, Some(error), "the refused command's error");
                assert_eq!(whole.left, data.len() - start, "bytes left from the refused command");
                return;
            }
        }
        start = end;
    }
    if !case.mutated && !case.commands.is_empty() {
        // Intact and all accepted: exactly these commands, nothing left over.
        assert_eq!(whole.commands.len(), case.commands.len(), "command count");
        assert_eq!((whole.error, whole.left), (None, 0), "nothing after the last command");
    }
}
