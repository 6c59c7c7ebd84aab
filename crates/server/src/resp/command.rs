//! The RESP commands kvbench answers, and the replies it writes.
//!
//! Reads are served (`GET`, `MGET`, `EXISTS`, `DBSIZE`), alone or in a
//! `MULTI`/`EXEC` transaction (what redis-py's default pipeline sends); the
//! handshake and introspection commands that `redis-cli`, `redis-benchmark`
//! and client libraries send on connect get harmless answers; anything else,
//! including every write, gets a clear `-ERR` (the data is read-only).
//!
//! Both protocol versions are spoken: RESP2 until a client sends `HELLO 3`
//! (redis-py 8 and node-redis 5 do on connect), RESP3 after it. They differ
//! here only in the null (`$-1` / `_`), maps (`CONFIG GET`, `HELLO`: flat
//! arrays / `%`) and `INFO`'s text (bulk / verbatim string).
//!
//! Keys follow Redis's semantics: a key is any byte string, and one that
//! cannot be in the data file (empty, over 1 KiB, with a space or newline) is
//! simply absent: nil for `GET`, a nil element of `MGET`, not counted by
//! `EXISTS`. Only a failure to read the data is an error.

use std::fmt::Write as _;
use std::io::Write;
use std::ops::Range;

use kvbench_lookup::LookupError;

use crate::state::{Served, Shared};

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
    Auth,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
}

const COMMANDS: [(&[u8], Verb); 19] = [
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
    (b"auth", Verb::Auth),
    (b"multi", Verb::Multi),
    (b"exec", Verb::Exec),
    (b"discard", Verb::Discard),
    (b"watch", Verb::Watch),
    (b"unwatch", Verb::Unwatch),
];

/// The command named `name` with `argc` arguments, or why it is refused.
fn verb(name: &[u8], argc: usize) -> Result<Verb, String> {
    let Some(verb) = COMMANDS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, c)| *c) else {
        return Err(format!(
            "unknown or unsupported command '{}': kvbench serves read-only data (GET, MGET, EXISTS, DBSIZE, \
             PING, ECHO, QUIT, HELLO, AUTH, CLIENT, COMMAND, CONFIG GET, SELECT 0, INFO, MULTI/EXEC)",
            String::from_utf8_lossy(name)
        ));
    };
    let arity_ok = match verb {
        Verb::Get | Verb::Echo | Verb::Select => argc == 1,
        Verb::MGet | Verb::Exists | Verb::Client | Verb::Config | Verb::Watch => argc >= 1,
        Verb::Auth => (1..=2).contains(&argc),
        Verb::DbSize | Verb::Quit | Verb::Multi | Verb::Exec | Verb::Discard | Verb::Unwatch => argc == 0,
        Verb::Ping => argc <= 1,
        Verb::Hello | Verb::Command | Verb::Info => true,
    };
    if !arity_ok {
        let name = String::from_utf8_lossy(name).to_lowercase();
        return Err(format!("wrong number of arguments for '{name}' command"));
    }
    Ok(verb)
}

/// The most bytes of commands one `MULTI` may queue: what bounds the memory a transaction holds.
pub const MAX_TRANSACTION_BYTES: usize = 16 * 1024 * 1024;

/// The commands queued since `MULTI`, their arguments copied into one buffer.
#[derive(Debug, Default)]
struct Transaction {
    /// Every queued argument's bytes, one after another.
    bytes: Vec<u8>,
    /// Each queued command and its arguments' ranges in `bytes`.
    commands: Vec<(Verb, Vec<Range<usize>>)>,
    /// A command was refused while queueing: `EXEC` answers `-EXECABORT`.
    failed: bool,
}

impl Transaction {
    /// Queues a command; `false` if it would take the transaction past [`MAX_TRANSACTION_BYTES`].
    fn queue<'b>(&mut self, verb: Verb, args: impl Iterator<Item = &'b [u8]> + Clone) -> bool {
        let size: usize = args.clone().map(<[u8]>::len).sum();
        if self.bytes.len() + size > MAX_TRANSACTION_BYTES {
            return false;
        }
        let ranges = args
            .map(|arg| {
                let start = self.bytes.len();
                self.bytes.extend_from_slice(arg);
                start..self.bytes.len()
            })
            .collect();
        self.commands.push((verb, ranges));
        true
    }
}

/// The protocol version a connection speaks, chosen by `HELLO`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Proto {
    /// RESP2, what every connection starts with.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

/// One connection's view: its id, protocol and name, and the shared server state.
pub struct Session<'a> {
    /// The server state.
    shared: &'a Shared,
    /// Connection number, for `CLIENT ID` and `HELLO`.
    id: u64,
    /// The protocol the replies are written in.
    proto: Proto,
    /// The name given by `CLIENT SETNAME` or `HELLO … SETNAME`.
    name: Option<Vec<u8>>,
    /// The commands queued since `MULTI`, if one is open.
    transaction: Option<Transaction>,
}

impl<'a> Session<'a> {
    /// A new connection's session: RESP2, no name.
    pub(crate) fn new(shared: &'a Shared, id: u64) -> Self {
        Session { shared, id, proto: Proto::Resp2, name: None, transaction: None }
    }

    /// Executes the command whose arguments are `args` (ranges into `buf`),
    /// appending its reply to `out`; inside `MULTI`, queues it instead.
    pub fn execute(&mut self, buf: &[u8], args: &[Range<usize>], out: &mut Vec<u8>) -> Flow {
        // Ranges come from the parser and lie within `buf`; one that did not would read as empty.
        let at = |r: &Range<usize>| buf.get(r.clone()).unwrap_or_default();
        let Some(name) = args.first().map(at) else { return Flow::Continue };
        let verb = match verb(name, args.len().saturating_sub(1)) {
            Ok(verb) => verb,
            Err(message) => {
                // As in Redis, a command refused while queueing dooms the transaction.
                if let Some(transaction) = &mut self.transaction {
                    transaction.failed = true;
                }
                return self.refuse(out, &message);
            }
        };
        let immediate = matches!(verb, Verb::Multi | Verb::Exec | Verb::Discard | Verb::Watch | Verb::Quit);
        match &mut self.transaction {
            Some(transaction) if !immediate => {
                if transaction.queue(verb, args.iter().map(at)) {
                    simple(out, "QUEUED");
                    self.shared.metrics.resp_command(false);
                    Flow::Continue
                } else {
                    transaction.failed = true;
                    let message = format!("a transaction over {MAX_TRANSACTION_BYTES} bytes (the limit)");
                    self.refuse(out, &message)
                }
            }
            _ => self.run(verb, buf, args, out),
        }
    }

    /// Runs one command of a known name and arity.
    fn run(&mut self, verb: Verb, buf: &[u8], args: &[Range<usize>], out: &mut Vec<u8>) -> Flow {
        let at = |r: &Range<usize>| buf.get(r.clone()).unwrap_or_default();
        let arg = |i: usize| args.get(i).map(at);
        let argc = args.len().saturating_sub(1);
        let keys = || args.iter().skip(1).map(at);
        let first = arg(1).unwrap_or_default();
        let proto = self.proto;
        let mut flow = Flow::Continue;
        let failed = match verb {
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
            Verb::Hello => self.hello(&keys().collect::<Vec<_>>(), out),
            Verb::Auth => auth(&keys().collect::<Vec<_>>(), out),
            Verb::Client => self.client(first, arg(2), out),
            Verb::Command => command_info(arg(1), out),
            Verb::Config => config(proto, first, keys().skip(1), out),
            Verb::Select => select(first, out),
            Verb::Info => self.info(keys(), out),
            Verb::Multi => self.multi(out),
            Verb::Exec => return self.exec(out),
            Verb::Discard => match self.transaction.take() {
                Some(_) => simple(out, "OK"),
                None => refused(out, "DISCARD without MULTI"),
            },
            Verb::Watch if self.transaction.is_some() => refused(out, "WATCH inside MULTI is not allowed"),
            // The data only changes by a reload, which no client can cause: nothing watched ever changes.
            Verb::Watch | Verb::Unwatch => simple(out, "OK"),
        };
        self.shared.metrics.resp_command(failed);
        flow
    }

    /// The key of `args` if it is a `GET` that can join a batch of pipelined
    /// `GET`s: a well-formed `GET key`, outside a transaction.
    pub fn batchable_get(&self, buf: &[u8], args: &[Range<usize>]) -> Option<Range<usize>> {
        let [name, key] = args else { return None };
        let is_get = buf.get(name.clone()).is_some_and(|name| name.eq_ignore_ascii_case(b"get"));
        (is_get && self.transaction.is_none()).then(|| key.clone())
    }

    /// Answers the `GET`s whose keys are `keys` (ranges of `buf`) as one batch,
    /// each reply what [`Session::execute`] would have written; empties `keys`.
    pub fn answer_gets(&self, buf: &[u8], keys: &mut Vec<Range<usize>>, out: &mut Vec<u8>) {
        if keys.is_empty() {
            return;
        }
        // On the stack: the server looks up at most a run of pipelined `GET`s (`GET_RUN`) at once.
        for run in keys.chunks(super::GET_RUN) {
            let mut batch: [&[u8]; super::GET_RUN] = [&[]; super::GET_RUN];
            for (slot, range) in batch.iter_mut().zip(run) {
                *slot = buf.get(range.clone()).unwrap_or_default();
            }
            let answered = self.values(batch.get(..run.len()).unwrap_or_default(), out);
            if let Err(err) = &answered {
                // Each GET alone would have got the error.
                for _ in run {
                    lookup_error(out, err);
                }
            }
            self.shared.metrics.resp_commands(run.len() as u64, answered.is_err());
        }
        keys.clear();
    }

    /// `MULTI`: the commands that follow are queued until `EXEC`.
    fn multi(&mut self, out: &mut Vec<u8>) -> bool {
        if self.transaction.is_some() {
            return refused(out, "MULTI calls can not be nested");
        }
        self.transaction = Some(Transaction::default());
        simple(out, "OK")
    }

    /// `EXEC`: the queued commands' replies as one array, all answered from the same data.
    fn exec(&mut self, out: &mut Vec<u8>) -> Flow {
        let Some(transaction) = self.transaction.take() else {
            self.shared.metrics.resp_command(refused(out, "EXEC without MULTI"));
            return Flow::Continue;
        };
        if transaction.failed {
            error_reply(out, "EXECABORT", "Transaction discarded because of previous errors.");
            self.shared.metrics.resp_command(true);
            return Flow::Continue;
        }
        array(out, transaction.commands.len());
        for (verb, args) in &transaction.commands {
            self.run(*verb, &transaction.bytes, args, out);
        }
        self.shared.metrics.resp_command(false);
        Flow::Continue
    }

    fn refuse(&self, out: &mut Vec<u8>, message: &str) -> Flow {
        error_reply(out, "ERR", message);
        self.shared.metrics.resp_command(true);
        Flow::Continue
    }

    /// Looks `key` up, writing its value as a bulk string or the null when it
    /// is absent (or cannot be in the file); `Err` only when the data could not be read.
    fn value(&self, served: &Served, key: &[u8], out: &mut Vec<u8>) -> Result<(), LookupError> {
        let mark = out.len();
        match self.shared.lookup(served, key, |value| bulk(out, value)) {
            Ok(Some(_)) => Ok(()),
            Ok(None) | Err(LookupError::InvalidKey(_)) => {
                null(self.proto, out);
                Ok(())
            }
            Err(err) => {
                out.truncate(mark);
                Err(err)
            }
        }
    }

    /// `GET`: a bulk string, or the null when absent. Returns whether it replied with an error.
    fn get(&self, key: &[u8], out: &mut Vec<u8>) -> bool {
        let served = self.shared.current.load();
        self.value(&served, key, out).map_or_else(|err| lookup_error(out, &err), |()| false)
    }

    /// `MGET`: an array of values and nulls, looked up as one batch
    /// ([`Shared::lookup_many`]); a failure to read the data fails the whole command.
    fn mget<'k>(&self, keys: impl Iterator<Item = &'k [u8]>, count: usize, out: &mut Vec<u8>) -> bool {
        let keys: Vec<&[u8]> = keys.collect();
        let mark = out.len();
        array(out, count);
        match self.values(&keys, out) {
            Ok(()) => false,
            Err(err) => {
                out.truncate(mark);
                lookup_error(out, &err)
            }
        }
    }

    /// Writes every key's value (or the null) as one batch
    /// ([`Shared::lookup_many`]); on a failure to read the data, writes nothing.
    fn values(&self, keys: &[&[u8]], out: &mut Vec<u8>) -> Result<(), LookupError> {
        let served = self.shared.current.load();
        let mark = out.len();
        let answered = self.shared.lookup_many(&served, keys, |answer| match answer {
            Ok(Some(value)) => {
                bulk(out, value);
            }
            // A key that cannot be in the file is absent, as in `value`.
            Ok(None) | Err(_) => {
                null(self.proto, out);
            }
        });
        if answered.is_err() {
            out.truncate(mark);
        }
        answered
    }

    /// `EXISTS`: how many of the keys are present (a repeated key counts each time, as in Redis).
    fn exists<'k>(&self, keys: impl Iterator<Item = &'k [u8]>, out: &mut Vec<u8>) -> bool {
        let served = self.shared.current.load();
        let mut found = 0;
        for key in keys {
            match self.shared.lookup(&served, key, |_| ()) {
                Ok(value) => found += i64::from(value.is_some()),
                Err(LookupError::InvalidKey(_)) => {}
                Err(err) => return lookup_error(out, &err),
            }
        }
        int(out, found)
    }

    /// `HELLO [protover [AUTH username password] [SETNAME name]]`: switches
    /// the protocol (2 or 3) and answers the server's description as a map,
    /// as Redis does for a server without passwords.
    fn hello(&mut self, args: &[&[u8]], out: &mut Vec<u8>) -> bool {
        let mut proto = self.proto;
        let mut name = None;
        if let Some((version, mut options)) = args.split_first() {
            proto = match std::str::from_utf8(version).ok().and_then(|v| v.parse::<i64>().ok()) {
                Some(2) => Proto::Resp2,
                Some(3) => Proto::Resp3,
                Some(_) => {
                    error_reply(out, "NOPROTO", "unsupported protocol version");
                    return true;
                }
                None => {
                    error_reply(out, "ERR", "Protocol version is not an integer or out of range");
                    return true;
                }
            };
            while let Some((option, rest)) = options.split_first() {
                options = match (option.to_ascii_lowercase().as_slice(), rest) {
                    (b"auth", [user, _password, rest @ ..]) => {
                        if !accepts_user(user) {
                            return wrong_pass(out);
                        }
                        rest
                    }
                    (b"setname", [client, rest @ ..]) => {
                        if !valid_client_name(client) {
                            return bad_client_name(out);
                        }
                        name = Some(client.to_vec());
                        rest
                    }
                    _ => {
                        let message = format!("Syntax error in HELLO option '{}'", String::from_utf8_lossy(option));
                        error_reply(out, "ERR", &message);
                        return true;
                    }
                };
            }
        }
        self.proto = proto;
        if name.is_some() {
            self.name = name;
        }
        map(proto, out, 7);
        for (field, value) in [("server", "kvbench"), ("version", env!("CARGO_PKG_VERSION"))] {
            bulk(out, field.as_bytes());
            bulk(out, value.as_bytes());
        }
        bulk(out, b"proto");
        int(out, if proto == Proto::Resp3 { 3 } else { 2 });
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
    fn client(&mut self, sub: &[u8], value: Option<&[u8]>, out: &mut Vec<u8>) -> bool {
        let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
        if is("id") {
            int(out, self.id as i64)
        } else if is("getname") {
            match &self.name {
                Some(name) => bulk(out, name),
                None => null(self.proto, out),
            }
        } else if is("setname") {
            let name = value.unwrap_or_default();
            if !valid_client_name(name) {
                return bad_client_name(out);
            }
            // As in Redis, an empty name removes the name.
            self.name = (!name.is_empty()).then(|| name.to_vec());
            simple(out, "OK")
        } else if ["setinfo", "no-evict", "no-touch"].into_iter().any(is) {
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

    /// `INFO [section …]`: the `server` and `keyspace` sections, enough for
    /// tools that print the server version and key count. No section, `all`,
    /// `default` or `everything` gives both; an unknown section gives nothing, as in Redis.
    fn info<'k>(&self, sections: impl Iterator<Item = &'k [u8]>, out: &mut Vec<u8>) -> bool {
        let served = self.shared.current.load();
        let (mut server, mut keyspace, mut any) = (false, false, false);
        for section in sections {
            any = true;
            let is = |name: &str| section.eq_ignore_ascii_case(name.as_bytes());
            let all = is("all") || is("default") || is("everything");
            server |= all || is("server");
            keyspace |= all || is("keyspace");
        }
        let mut text = String::new();
        if server || !any {
            let version = env!("CARGO_PKG_VERSION");
            let _ = write!(
                text,
                "# Server\r\nredis_version:7.0.0\r\nkvbench_version:{version}\r\nkvbench_strategy:{}\r\n",
                served.name
            );
        }
        if keyspace || !any {
            if !text.is_empty() {
                text.push_str("\r\n");
            }
            let _ = write!(text, "# Keyspace\r\ndb0:keys={},expires=0,avg_ttl=0\r\n", served.keys);
        }
        match self.proto {
            Proto::Resp2 => bulk(out, text.as_bytes()),
            Proto::Resp3 => verbatim(out, text.as_bytes()),
        }
    }
}

/// `AUTH [username] password`, answered as Redis does without passwords:
/// the default user takes any password; the one-argument form is an error.
fn auth(args: &[&[u8]], out: &mut Vec<u8>) -> bool {
    match args {
        [_password] => {
            let message = "AUTH <password> called without any password configured for the default user. \
                           Are you sure your configuration is correct?";
            error_reply(out, "ERR", message);
            true
        }
        [user, _password] if accepts_user(user) => simple(out, "OK"),
        _ => wrong_pass(out),
    }
}

/// The only user there is: Redis's `default`, which needs no password.
fn accepts_user(user: &[u8]) -> bool {
    user == b"default"
}

fn wrong_pass(out: &mut Vec<u8>) -> bool {
    error_reply(out, "WRONGPASS", "invalid username-password pair or user is disabled.");
    true
}

/// Redis's rule for client names: printable ASCII without spaces.
fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

fn bad_client_name(out: &mut Vec<u8>) -> bool {
    error_reply(out, "ERR", "Client names cannot contain spaces, newlines or special characters.");
    true
}

/// `COMMAND`, `COMMAND COUNT`, `COMMAND DOCS`: an empty command table (clients then use no hints).
fn command_info(sub: Option<&[u8]>, out: &mut Vec<u8>) -> bool {
    match sub {
        Some(sub) if sub.eq_ignore_ascii_case(b"count") => int(out, COMMANDS.len() as i64),
        _ => array(out, 0),
    }
}

/// `CONFIG GET name…`: the few settings benchmark tools read; `CONFIG SET` and others are refused.
fn config<'a>(proto: Proto, sub: &[u8], names: impl Iterator<Item = &'a [u8]>, out: &mut Vec<u8>) -> bool {
    if !sub.eq_ignore_ascii_case(b"get") {
        error_reply(out, "ERR", "only CONFIG GET is supported: kvbench's configuration is read-only");
        return true;
    }
    const SETTINGS: [(&str, &str); 3] = [("save", ""), ("appendonly", "no"), ("databases", "1")];
    let found: Vec<_> = names
        .flat_map(|name| SETTINGS.iter().filter(move |(setting, _)| name.eq_ignore_ascii_case(setting.as_bytes())))
        .collect();
    map(proto, out, found.len());
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

/// `-ERR message`; returns `true` ("replied with an error").
fn refused(out: &mut Vec<u8>, message: &str) -> bool {
    error_reply(out, "ERR", message);
    true
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

/// The null: RESP2's null bulk string `$-1`, RESP3's `_`.
pub fn null(proto: Proto, out: &mut Vec<u8>) -> bool {
    out.extend_from_slice(match proto {
        Proto::Resp2 => b"$-1\r\n",
        Proto::Resp3 => b"_\r\n",
    });
    false
}

/// A map of `pairs` entries, followed by their keys and values: RESP3's `%`,
/// or RESP2's flat array of twice as many.
pub fn map(proto: Proto, out: &mut Vec<u8>, pairs: usize) -> bool {
    let _ = match proto {
        Proto::Resp2 => write!(out, "*{}\r\n", pairs * 2),
        Proto::Resp3 => write!(out, "%{pairs}\r\n"),
    };
    false
}

/// RESP3's verbatim string of plain text, `=len\r\ntxt:…`.
pub fn verbatim(out: &mut Vec<u8>, text: &[u8]) -> bool {
    let _ = write!(out, "={}\r\ntxt:", text.len() + 4);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
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
