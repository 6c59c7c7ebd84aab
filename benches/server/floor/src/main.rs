//! The floor of a server's CPU per request: GET from a hash map over RESP or
//! HTTP/1.1, one thread, with nothing a real server needs (no limits,
//! timeouts, metrics, reload or shutdown). What such a server spends per
//! request is almost all the kernel's (receiving, sending over loopback, and
//! waiting), so `kvbench serve` and `redis-server` are measured against it.
//!
//! ```text
//! kvbench-floor epoll-resp|epoll-http|uring-resp DATA
//! ```
//!
//! Prints `listening PORT` (a free loopback port) and serves until killed.
//! `epoll-*` is mio (one `epoll_wait` per batch of ready connections, then one
//! `recv` and one `send` per request; with `COALESCE_US=T` in the environment,
//! a `std::thread::sleep` of T µs after each batch, the default 50 µs timer
//! slack included, trading latency for fewer wake-ups); `uring-resp` is io_uring with
//! multishot receives into a ring of provided buffers and every send of a
//! batch submitted with one `io_uring_enter`. A measuring stick, not a server:
//! anything but a well-formed `GET` gets an error reply (RESP) or is left
//! unanswered (HTTP), and a client that sends more than a buffer holds is cut off.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::Duration;

type Map = HashMap<Vec<u8>, Vec<u8>, ahash::RandomState>;

/// Input buffer per connection; a request must fit.
const BUFFER: usize = 16 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(data)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: kvbench-floor epoll-resp|epoll-http|uring-resp DATA");
        return ExitCode::from(2);
    };
    match run(mode, data) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kvbench-floor: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(mode: &str, data: &str) -> std::io::Result<()> {
    let map = load(data)?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("listening {}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    match mode {
        "epoll-resp" => epoll(&map, listener, resp),
        "epoll-http" => epoll(&map, listener, http),
        "uring-resp" => uring(&map, listener),
        _ => Err(std::io::Error::other(format!("unknown mode {mode}"))),
    }
}

/// The file's `key value` lines; the first of a repeated key wins, as in kvbench.
fn load(path: &str) -> std::io::Result<Map> {
    let mut map = Map::default();
    for line in std::io::BufReader::new(std::fs::File::open(path)?).split(b'\n') {
        let line = line?;
        if let Some(space) = line.iter().position(|&b| b == b' ') {
            let (key, value) = line.split_at(space);
            map.entry(key.to_vec()).or_insert_with(|| value.get(1..).unwrap_or_default().to_vec());
        }
    }
    Ok(map)
}

/// Answers every complete RESP command at the start of `buf` into `out`; returns the bytes used.
fn resp(map: &Map, buf: &[u8], out: &mut Vec<u8>) -> usize {
    let mut used = 0;
    while let Some((args, end)) = resp_command(buf, used) {
        used = end;
        match args {
            [verb, key] if verb.eq_ignore_ascii_case(b"GET") => match map.get(key) {
                Some(value) => {
                    out.push(b'$');
                    out.extend_from_slice(value.len().to_string().as_bytes());
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(value);
                    out.extend_from_slice(b"\r\n");
                }
                None => out.extend_from_slice(b"$-1\r\n"),
            },
            _ => out.extend_from_slice(b"-ERR only GET\r\n"),
        }
    }
    used
}

/// The arguments (up to two are kept) of the RESP array at `at`, and where it ends.
fn resp_command(buf: &[u8], at: usize) -> Option<([&[u8]; 2], usize)> {
    let mut pos = at;
    let n = number(buf, &mut pos, b'*')?;
    let mut args: [&[u8]; 2] = [&[]; 2];
    for i in 0..n {
        let len = number(buf, &mut pos, b'$')?;
        let arg = buf.get(pos..pos + len)?;
        buf.get(pos + len..pos + len + 2)?;
        if let Some(slot) = args.get_mut(i) {
            *slot = arg;
        }
        pos += len + 2;
    }
    Some((if n == 2 { args } else { [&[], &[]] }, pos))
}

/// The number on the `<tag><digits>\r\n` line at `pos`, moving past it.
fn number(buf: &[u8], pos: &mut usize, tag: u8) -> Option<usize> {
    let line = buf.get(*pos..)?;
    if line.first() != Some(&tag) {
        return None;
    }
    let end = line.iter().position(|&b| b == b'\n')?;
    let digits = line.get(1..end.checked_sub(1)?)?;
    *pos += end + 1;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Answers every complete HTTP/1.1 `GET /kv/KEY` (or `/KEY`) at the start of `buf`; returns the bytes used.
fn http(map: &Map, buf: &[u8], out: &mut Vec<u8>) -> usize {
    let mut used = 0;
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        let Ok(httparse::Status::Complete(n)) = request.parse(buf.get(used..).unwrap_or_default()) else {
            return used;
        };
        used += n;
        let path = request.path.unwrap_or("/");
        let key = path.strip_prefix("/kv/").or_else(|| path.strip_prefix('/')).unwrap_or(path);
        // The headers hyper sends, a fixed Date included (a real server updates it once a second).
        let (status, body) = match map.get(key.as_bytes()) {
            Some(value) => ("200 OK", value.as_slice()),
            None => ("404 Not Found", &b"not found\n"[..]),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\ndate: Mon, 30 Nov 2026 20:00:00 GMT\r\n\r\n",
            body.len()
        );
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(body);
    }
}

/// What answers the requests at the start of a buffer.
type Answer = fn(&Map, &[u8], &mut Vec<u8>) -> usize;

/// One connection of the epoll server: its socket and unanswered input.
struct Conn {
    stream: mio::net::TcpStream,
    input: Vec<u8>,
    len: usize,
}

fn epoll(map: &Map, listener: TcpListener, answer: Answer) -> std::io::Result<()> {
    use mio::{Events, Interest, Poll, Token};
    const LISTENER: Token = Token(usize::MAX);
    listener.set_nonblocking(true)?;
    let mut listener = mio::net::TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut out = Vec::with_capacity(64 * 1024);
    // COALESCE_US=T: sleep T µs after each batch, so that the next `epoll_wait`
    // finds more connections ready instead of sleeping and waking per request.
    let coalesce = std::env::var("COALESCE_US").ok().and_then(|v| v.parse().ok()).map(Duration::from_micros);
    loop {
        poll.poll(&mut events, None)?;
        for event in &events {
            if event.token() == LISTENER {
                while let Ok((mut stream, _)) = listener.accept() {
                    stream.set_nodelay(true)?;
                    let slot = conns.iter().position(Option::is_none).unwrap_or(conns.len());
                    if slot == conns.len() {
                        conns.push(None);
                    }
                    poll.registry().register(&mut stream, Token(slot), Interest::READABLE)?;
                    conns[slot] = Some(Conn { stream, input: vec![0; BUFFER], len: 0 });
                }
                continue;
            }
            let Some(slot) = conns.get_mut(event.token().0) else { continue };
            let Some(conn) = slot.as_mut() else { continue };
            // Edge-triggered: read until the socket is drained (a short read says so).
            let open = loop {
                let Some(free) = conn.input.get_mut(conn.len..).filter(|f| !f.is_empty()) else { break false };
                match conn.stream.read(free) {
                    Ok(0) => break false,
                    Ok(n) => {
                        let full = n == free.len();
                        conn.len += n;
                        out.clear();
                        let used = answer(map, conn.input.get(..conn.len).unwrap_or_default(), &mut out);
                        conn.input.copy_within(used..conn.len, 0);
                        conn.len -= used;
                        if !out.is_empty() && conn.stream.write_all(&out).is_err() {
                            break false;
                        }
                        if !full {
                            break true;
                        }
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break true,
                    Err(_) => break false,
                }
            };
            if !open {
                *slot = None;
            }
        }
        if let Some(pause) = coalesce {
            std::thread::sleep(pause);
        }
    }
}

/// One connection of the io_uring server.
struct UringConn {
    fd: i32,
    /// Input not answered yet (a command split across receives).
    pending: Vec<u8>,
    /// Replies being sent: the kernel reads them until the send completes.
    out: Vec<u8>,
    /// Replies answered while a send is in flight (`out` must not move then).
    queued: Vec<u8>,
    sending: bool,
}

fn uring(map: &Map, listener: TcpListener) -> std::io::Result<()> {
    use io_uring::{IoUring, cqueue, opcode, types};
    const ACCEPT: u64 = u64::MAX;
    const BUFFERS: u16 = 1024;
    const SIZE: usize = 4096;
    const GROUP: u16 = 7;
    let mut ring = IoUring::builder().setup_single_issuer().setup_defer_taskrun().setup_coop_taskrun().build(4096)?;
    // The provided-buffer ring: page-aligned entries the kernel takes buffers from.
    let entries = std::mem::size_of::<types::BufRingEntry>() * usize::from(BUFFERS);
    // SAFETY: an anonymous private mapping, checked below, never unmapped while the ring lives.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            entries,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    let base = base.cast::<types::BufRingEntry>();
    let buffers = vec![0u8; usize::from(BUFFERS) * SIZE];
    // SAFETY: `base` holds BUFFERS entries and outlives the registration.
    unsafe { ring.submitter().register_buf_ring_with_flags(base as u64, BUFFERS, GROUP, 0)? };
    // SAFETY: `base` is the ring's first entry.
    let tail = unsafe { types::BufRingEntry::tail(base) }.cast_mut();
    let mut next: u16 = 0;
    let mut provide = |id: u16| {
        // SAFETY: the index is masked into the ring; the buffer is `buffers`' `id`-th.
        unsafe {
            let entry = &mut *base.add(usize::from(next) & usize::from(BUFFERS - 1));
            entry.set_addr(buffers.as_ptr().add(usize::from(id) * SIZE) as u64);
            entry.set_len(SIZE as u32);
            entry.set_bid(id);
            next = next.wrapping_add(1);
            std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
            std::ptr::write_volatile(tail, next);
        }
    };
    for id in 0..BUFFERS {
        provide(id);
    }
    let receive =
        |fd: i32, slot: usize| opcode::RecvMulti::new(types::Fd(fd), GROUP).build().user_data((slot as u64) << 1);
    let mut conns: Vec<Option<UringConn>> = Vec::new();
    let accept = opcode::AcceptMulti::new(types::Fd(listener.as_raw_fd())).build().user_data(ACCEPT);
    let mut submit = Vec::with_capacity(1024);
    submit.push(accept);
    let mut done: Vec<(u64, i32, u32)> = Vec::with_capacity(1024);
    loop {
        for entry in submit.drain(..) {
            // SAFETY: every buffer an entry points to lives in `conns` until its completion.
            while unsafe { ring.submission().push(&entry) }.is_err() {
                ring.submit()?;
            }
        }
        ring.submit_and_wait(1)?;
        done.clear();
        done.extend(ring.completion().map(|c: cqueue::Entry| (c.user_data(), c.result(), c.flags())));
        for &(data, result, flags) in &done {
            if data == ACCEPT {
                if result >= 0 {
                    let one: libc::c_int = 1;
                    // SAFETY: a socket the kernel just gave us and a c_int option.
                    unsafe {
                        let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
                        libc::setsockopt(result, libc::IPPROTO_TCP, libc::TCP_NODELAY, (&raw const one).cast(), size);
                    }
                    let slot = conns.iter().position(Option::is_none).unwrap_or(conns.len());
                    if slot == conns.len() {
                        conns.push(None);
                    }
                    let conn = UringConn {
                        fd: result,
                        pending: Vec::new(),
                        out: Vec::new(),
                        queued: Vec::new(),
                        sending: false,
                    };
                    conns[slot] = Some(conn);
                    submit.push(receive(result, slot));
                }
                continue;
            }
            let slot = (data >> 1) as usize;
            let Some(conn) = conns.get_mut(slot).and_then(Option::as_mut) else { continue };
            if data & 1 == 1 {
                // Short sends do not happen on these small replies; a failed one ends the connection.
                if result < 0 {
                    // SAFETY: our own socket, closed once.
                    unsafe { libc::close(conn.fd) };
                    conns[slot] = None;
                    continue;
                }
                conn.out.clear();
                std::mem::swap(&mut conn.out, &mut conn.queued);
                conn.sending = !conn.out.is_empty();
                if conn.sending {
                    let send = opcode::Send::new(types::Fd(conn.fd), conn.out.as_ptr(), conn.out.len() as u32);
                    submit.push(send.build().user_data(((slot as u64) << 1) | 1));
                }
                continue;
            }
            if result == -libc::ENOBUFS {
                submit.push(receive(conn.fd, slot));
                continue;
            }
            let Some(id) = cqueue::buffer_select(flags).filter(|_| result > 0) else {
                // SAFETY: our own socket, closed once.
                unsafe { libc::close(conn.fd) };
                conns[slot] = None;
                continue;
            };
            let start = usize::from(id) * SIZE;
            let received = buffers.get(start..start + result as usize).unwrap_or_default();
            let replies = if conn.sending { &mut conn.queued } else { &mut conn.out };
            if conn.pending.is_empty() {
                let used = resp(map, received, replies);
                conn.pending.extend_from_slice(received.get(used..).unwrap_or_default());
            } else {
                conn.pending.extend_from_slice(received);
                let used = resp(map, &conn.pending, replies);
                conn.pending.drain(..used);
            }
            provide(id);
            if conn.pending.len() > BUFFER {
                // SAFETY: as above.
                unsafe { libc::close(conn.fd) };
                conns[slot] = None;
                continue;
            }
            if !conn.sending && !conn.out.is_empty() {
                conn.sending = true;
                let send = opcode::Send::new(types::Fd(conn.fd), conn.out.as_ptr(), conn.out.len() as u32);
                submit.push(send.build().user_data(((slot as u64) << 1) | 1));
            }
            if !cqueue::more(flags) {
                submit.push(receive(conn.fd, slot));
            }
        }
    }
}
