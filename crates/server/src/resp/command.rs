//! The RESP commands kvbench answers, and the replies it writes.
//!
//! Reads are served (`GET`, `MGET`, `EXISTS`, `DBSIZE`); the handshake and
//! introspection commands that `redis-cli`, `redis-benchmark` and client
//! libraries send on connect get harmless answers; anything else, including
//! every write, gets a clear `-ERR` (the data is read-only).

use std::io::Write;
use std::ops::Range;

use kvbench_lookup::LookupError;

use crate::state::Shared;

/// What the connection does after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read the next command.
    Continue,
    /// Flush the replies and close (after `QUIT`).
    Close,
}

/// The commands understood, by name (matched case-insensitively).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Get,
    MGet,
    Exists,
    DbSize,
    Ping,
    Echo,
    Quit,
    Hello,
    Client,
    Command,
    Config,
    Select,
    Info,
}

const COMMANDS: [(&[u8], Verb); 13] = [
    (b"get", Verb::Get),
    (b"mget", Verb::MGet),
    (b"exists", Verb::Exists),
    (b"dbsize", Verb::DbSize),
    (b"ping", Verb::Ping),
    (b"echo", Verb::Echo),
    (b"quit", Verb::Quit),
    (b"hello", Verb::Hello),
    (b"client", Verb::Client),
    (b"command", Verb::Command),
    (b"config", Verb::Config),
    (b"select", Verb::Select),
    (b"info", Verb::Info),
];

/// One connection's view: its id and the shared server state.
pub struct Session<'a> {
    /// The server state.
    pub(crate) shared: &'a Shared,
    /// Connection number, for `CLIENT ID` and `HELLO`.
    pub id: u64,
}

impl Session<'_> {
    /// Executes the command whose arguments are `args` (ranges into `buf`),
    /// appending its reply to `out`.
    pub fn execute(&self, buf: &[u8], args: &[Range<usize>], out: &mut Vec<u8>) -> Flow {
        // Ranges come from the parser and lie within `buf`; one that did not would read as empty.
        let at = |r: &Range<usize>| buf.get(r.clone()).unwrap_or_default();
        let arg = |i: usize| args.get(i).map(at);
        let Some(name) = arg(0) else { return Flow::Continue };
        let argc = args.len().saturating_sub(1);
        let Some(command) = COMMANDS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, c)| *c) else {
            let message = format!(
                "unknown or unsupported command '{}': kvbench serves read-only data \
                 (GET, MGET, EXISTS, DBSIZE, PING, ECHO, QUIT, HELLO, CLIENT, COMMAND, CONFIG GET, SELECT 0, INFO)",
                String::from_utf8_lossy(name)
            );
            return self.refuse(out, &message);
        };
        let arity_ok = match command {
            Verb::Get | Verb::Echo | Verb::Select => argc == 1,
            Verb::MGet | Verb::Exists | Verb::Client | Verb::Config => argc >= 1,
            Verb::DbSize | Verb::Quit => argc == 0,
            Verb::Ping => argc <= 1,
            Verb::Hello | Verb::Command | Verb::Info => true,
        };
        if !arity_ok {
            let name = String::from_utf8_lossy(name).to_lowercase();
            return self.refuse(out, &format!("wrong number of arguments for '{name}' command"));
        }
        let keys = || args.iter().skip(1).map(at);
        let first = arg(1).unwrap_or_default();
        let mut flow = Flow::Continue;
        let failed = match command {
            Verb::Get => self.get(first, out),
            Verb::MGet => self.mget(keys(), argc, out),
            Verb::Exists => self.exists(keys(), out),
            Verb::DbSize => int(out, self.shared.current.load().keys as i64),
            Verb::Ping => match arg(1) {
                Some(message) => bulk(out, message),
                None => simple(out, "PONG"),
            },
            Verb::Echo => bulk(out, first),
            Verb::Quit => {
                flow = Flow::Close;
                simple(out, "OK")
            }
            Verb::Hello => self.hello(arg(1), out),
            Verb::Client => self.client(first, out),
            Verb::Command => command_info(arg(1), out),
            Verb::Config => config(first, keys().skip(1), out),
            Verb::Select => select(first, out),
            Verb::Info => self.info(out),
        };
        self.shared.metrics.resp_command(failed);
        flow
    }

    fn refuse(&self, out: &mut Vec<u8>, message: &str) -> Flow {
        error_reply(out, "ERR", message);
        self.shared.metrics.resp_command(true);
        Flow::Continue
    }

    /// `GET`: a bulk string, or a null bulk when absent. Returns whether it replied with an error.
    fn get(&self, key: &[u8], out: &mut Vec<u8>) -> bool {
        let served = self.shared.current.load();
        let mark = out.len();
        match self.shared.lookup(&served, key, |value| bulk(out, value)) {
            Ok(Some(_)) => false,
            Ok(None) => null(out),
            Err(err) => {
                out.truncate(mark);
                lookup_error(out, &err)
            }
        }
    }

    /// `MGET`: an array of values and nulls; one invalid key fails the whole command.
    fn mget<'k>(&self, keys: impl Iterator<Item = &'k [u8]> + Clone, count: usize, out: &mut Vec<u8>) -> bool {
        let served = self.shared.current.load();
        let mark = out.len();
        array(out, count);
        for key in keys {
            match self.shared.lookup(&served, key, |value| bulk(out, value)) {
                Ok(Some(_)) => false,
                Ok(None) => null(out),
                Err(err) => {
                    out.truncate(mark);
                    return lookup_error(out, &err);
                }
            };
        }
        false
    }

    /// `EXISTS`: how many of the keys are present (a repeated key counts each time, as in Redis).
    fn exists<'k>(&self, keys: impl Iterator<Item = &'k [u8]>, out: &mut Vec<u8>) -> bool {
        let served = self.shared.current.load();
        let mut found = 0;
        for key in keys {
            match self.shared.lookup(&served, key, |_| ()) {
                Ok(value) => found += i64::from(value.is_some()),
                Err(err) => return lookup_error(out, &err),
            }
        }
        int(out, found)
    }

    /// `HELLO [2]`: the server's description as a flat map; RESP3 is refused, so clients fall back to RESP2.
    fn hello(&self, version: Option<&[u8]>, out: &mut Vec<u8>) -> bool {
        if version.is_some_and(|v| v != b"2") {
            error_reply(out, "NOPROTO", "unsupported protocol version: kvbench speaks RESP2");
            return true;
        }
        array(out, 14);
        for (field, value) in [("server", "kvbench"), ("version", env!("CARGO_PKG_VERSION"))] {
            bulk(out, field.as_bytes());
            bulk(out, value.as_bytes());
        }
        bulk(out, b"proto");
        int(out, 2);
        bulk(out, b"id");
        int(out, self.id as i64);
        for (field, value) in [("mode", "standalone"), ("role", "master")] {
            bulk(out, field.as_bytes());
            bulk(out, value.as_bytes());
        }
        bulk(out, b"modules");
        array(out, 0)
    }

    /// `CLIENT ID|GETNAME|SETNAME|SETINFO|…`: what client libraries send on connect.
    fn client(&self, sub: &[u8], out: &mut Vec<u8>) -> bool {
        let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
        if is("id") {
            int(out, self.id as i64)
        } else if is("getname") {
            null(out)
        } else if ["setname", "setinfo", "no-evict", "no-touch"].into_iter().any(is) {
            simple(out, "OK")
        } else if is("reply") {
            // Replies are always sent: agreeing to OFF or SKIP would desynchronise the client.
            error_reply(out, "ERR", "CLIENT REPLY is not supported: every command gets a reply");
            true
        } else {
            error_reply(out, "ERR", &format!("CLIENT {} is not supported", String::from_utf8_lossy(sub)));
            true
        }
    }

    /// `INFO`: enough for tools that print the server version and key count.
    fn info(&self, out: &mut Vec<u8>) -> bool {
        let served = self.shared.current.load();
        let text = format!(
            "# Server\r\nredis_version:7.0.0\r\nkvbench_version:{}\r\nkvbench_strategy:{}\r\n\
             # Keyspace\r\ndb0:keys={},expires=0,avg_ttl=0\r\n",
            env!("CARGO_PKG_VERSION"),
            served.name,
            served.keys
        );
        bulk(out, text.as_bytes())
    }
}

/// `COMMAND`, `COMMAND COUNT`, `COMMAND DOCS`: an empty command table (clients then use no hints).
fn command_info(sub: Option<&[u8]>, out: &mut Vec<u8>) -> bool {
    match sub {
        Some(sub) if sub.eq_ignore_ascii_case(b"count") => int(out, COMMANDS.len() as i64),
        _ => array(out, 0),
    }
}

/// `CONFIG GET name…`: the few settings benchmark tools read; `CONFIG SET` and others are refused.
fn config<'a>(sub: &[u8], names: impl Iterator<Item = &'a [u8]>, out: &mut Vec<u8>) -> bool {
    if !sub.eq_ignore_ascii_case(b"get") {
        error_reply(out, "ERR", "only CONFIG GET is supported: kvbench's configuration is read-only");
        return true;
    }
    const SETTINGS: [(&str, &str); 3] = [("save", ""), ("appendonly", "no"), ("databases", "1")];
    let found: Vec<_> = names
        .flat_map(|name| SETTINGS.iter().filter(move |(setting, _)| name.eq_ignore_ascii_case(setting.as_bytes())))
        .collect();
    array(out, found.len() * 2);
    for (setting, value) in found {
        bulk(out, setting.as_bytes());
        bulk(out, value.as_bytes());
    }
    false
}

/// `SELECT 0` is accepted (there is one database); any other index is out of range.
fn select(index: &[u8], out: &mut Vec<u8>) -> bool {
    if index == b"0" {
        simple(out, "OK")
    } else {
        error_reply(out, "ERR", "DB index is out of range");
        true
    }
}

fn lookup_error(out: &mut Vec<u8>, err: &LookupError) -> bool {
    error_reply(out, "ERR", &err.to_string());
    true
}

// The writers return `false` ("no error") so command arms can end with them.

/// `+message`.
pub fn simple(out: &mut Vec<u8>, message: &str) -> bool {
    out.extend_from_slice(b"+");
    out.extend_from_slice(message.as_bytes());
    out.extend_from_slice(b"\r\n");
    false
}

/// `-KIND message` (newlines in the message are replaced: they would end the reply).
pub fn error_reply(out: &mut Vec<u8>, kind: &str, message: &str) {
    out.extend_from_slice(b"-");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b" ");
    out.extend(message.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    out.extend_from_slice(b"\r\n");
}

/// `$len\r\nbytes\r\n`.
pub fn bulk(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let _ = write!(out, "${}\r\n", bytes.len());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    false
}

/// The null bulk string, `$-1`.
pub fn null(out: &mut Vec<u8>) -> bool {
    out.extend_from_slice(b"$-1\r\n");
    false
}

/// `:n`.
pub fn int(out: &mut Vec<u8>, n: i64) -> bool {
    let _ = write!(out, ":{n}\r\n");
    false
}

/// `*len`, followed by that many replies.
pub fn array(out: &mut Vec<u8>, len: usize) -> bool {
    let _ = write!(out, "*{len}\r\n");
    false
}
