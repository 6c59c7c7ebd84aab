//! Starting, running, reloading and stopping the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::config::{Config, Limits};
use crate::error::ServerError;
use crate::metrics::{Metrics, Protocol};
use crate::state::{DataSource, Shared};
use crate::stop::stopped;

/// The addresses the server actually listens on (port 0 resolved).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The HTTP address, if serving HTTP.
    pub http: Option<SocketAddr>,
    /// The RESP address, if serving RESP.
    pub resp: Option<SocketAddr>,
}

/// A running server: its addresses and the means to reload or stop it.
pub struct Server {
    bound: Bound,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Opens the data source, binds the listeners and starts serving on a
    /// thread of its own; returns once the server accepts connections (and,
    /// with [`Config::signals`], once its signal handlers are installed).
    pub fn start(config: Config, source: DataSource) -> Result<Server, ServerError> {
        if config.http.is_none() && config.resp.is_none() {
            return Err(ServerError::Config("nothing to serve: enable HTTP, RESP or both".into()));
        }
        if config.threads == 0 {
            return Err(ServerError::Config("--threads must be at least 1".into()));
        }
        let limits = &config.limits;
        if !(1..=Semaphore::MAX_PERMITS.min(u32::MAX as usize)).contains(&limits.max_connections) {
            return Err(ServerError::Config(format!("--max-connections {} is out of range", limits.max_connections)));
        }
        if limits.idle_timeout.is_zero() {
            return Err(ServerError::Config("--idle-timeout must be more than 0".into()));
        }
        let served = source.open()?;
        crate::log(format_args!(
            "{} keys from {} with {}, opened in {:.1} ms",
            served.keys,
            source.path.display(),
            served.name,
            served.open_time.as_secs_f64() * 1e3
        ));
        let shared = Arc::new(Shared::new(source, served));
        // One current-thread runtime per thread. The first accepts every connection
        // and deals them out in turn; a connection is then served start to end by the
        // thread it was dealt to, with no work stealing and no wake-ups across threads,
        // so a second thread adds capacity without adding CPU per request. (Listeners
        // of their own per thread, with SO_REUSEPORT, would let a second server started
        // on the same port join them silently.)
        let mut runtimes = (0..config.threads).map(|_| runtime()).collect::<Result<Vec<_>, _>>()?.into_iter();
        let first = runtimes.next().ok_or_else(|| ServerError::Config("--threads must be at least 1".into()))?;
        let entered = first.enter();
        let http = config.http.map(listen).transpose()?;
        let resp = config.resp.map(listen).transpose()?;
        let local = |l: &Option<TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
        let bound = Bound { http: local(&http), resp: local(&resp) };
        let (shutdown, stop) = watch::channel(false);
        if config.signals {
            watch_signals(shutdown.clone(), shared.clone())?;
        }
        drop(entered);
        let connections = Connections { shared: shared.clone(), limits: config.limits.clone(), stop };
        // Set once the first thread's grace period is over: the others stop then.
        let (finished, done) = watch::channel(false);
        let mut dealers = Vec::new();
        let mut threads = Vec::new();
        for (i, runtime) in runtimes.enumerate() {
            let (dealer, mut dealt) = mpsc::unbounded_channel::<Dealt>();
            dealers.push(dealer);
            let (connections, mut done) = (connections.clone(), done.clone());
            let task = async move {
                loop {
                    tokio::select! {
                        dealt = dealt.recv() => match dealt {
                            Some(dealt) => connections.serve_dealt(dealt),
                            None => break,
                        },
                        _ = done.wait_for(|done| *done) => break,
                    }
                }
            };
            let thread = std::thread::Builder::new()
                .name(format!("kvbench-serve-{}", i + 1))
                .spawn(move || {
                    runtime.block_on(task);
                    runtime.shutdown_timeout(Duration::from_millis(100));
                })
                .map_err(ServerError::Runtime)?;
            threads.push(thread);
        }
        let slots = Arc::new(Semaphore::new(config.limits.max_connections));
        let task = serve(connections, [(http, Protocol::Http), (resp, Protocol::Resp)], slots, dealers.into());
        let thread = std::thread::Builder::new()
            .name("kvbench-serve".into())
            .spawn(move || {
                first.block_on(task);
                finished.send_replace(true);
                for thread in threads {
                    let _ = thread.join();
                }
                // A reload still building must not hold the process up.
                first.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(ServerError::Runtime)?;
        Ok(Server { bound, shared, shutdown, thread: Some(thread) })
    }

    /// The addresses listened on.
    pub fn bound(&self) -> Bound {
        self.bound
    }

    /// The server's counters (tests read them; `/metrics` exposes them).
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Asks for a reload of the data file, as SIGHUP does; returns at once.
    pub fn reload(&self) {
        self.shared.reload.notify_one();
    }

    /// Asks for a graceful shutdown, as SIGINT/SIGTERM do; returns at once.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Waits until the server has shut down (after [`Server::shutdown`] or a signal).
    pub fn wait(mut self) -> Result<(), ServerError> {
        match self.thread.take().map(JoinHandle::join) {
            Some(Err(_)) => Err(ServerError::Panicked),
            _ => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn runtime() -> Result<Runtime, ServerError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(ServerError::Runtime)
}

fn listen(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    let bind = || {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        TcpListener::from_std(listener)
    };
    bind().map_err(|source| ServerError::Bind { addr, source })
}

/// Installs the handlers before the addresses are announced, so a signal sent
/// right after start-up is never met by the default action (SIGHUP would kill).
/// A second SIGINT/SIGTERM during the graceful stop exits at once.
fn watch_signals(shutdown: watch::Sender<bool>, shared: Arc<Shared>) -> Result<(), ServerError> {
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ServerError::Runtime)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(ServerError::Runtime)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(ServerError::Runtime)?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
                _ = hangup.recv() => {
                    crate::log(format_args!("SIGHUP: reloading"));
                    shared.reload.notify_one();
                    continue;
                }
            }
            if *shutdown.borrow() {
                crate::log(format_args!("second stop signal: exiting without waiting"));
                std::process::exit(1);
            }
            crate::log(format_args!("shutting down: finishing requests in flight (signal again to force)"));
            shutdown.send_replace(true);
        }
    });
    Ok(())
}

/// What a connection's task needs, on whichever thread serves it.
#[derive(Clone)]
struct Connections {
    shared: Arc<Shared>,
    limits: Limits,
    stop: watch::Receiver<bool>,
}

/// A connection the accepting thread deals to another: the socket (out of the
/// accepting runtime), its protocol and its place under the connection limit.
struct Dealt {
    stream: std::net::TcpStream,
    protocol: Protocol,
    slot: OwnedSemaphorePermit,
}

impl Connections {
    /// Serves `stream` on the current runtime until it closes; its `slot` is freed then.
    fn serve(&self, stream: TcpStream, protocol: Protocol, slot: OwnedSemaphorePermit) {
        let (shared, limits, stop) = (self.shared.clone(), self.limits.clone(), self.stop.clone());
        tokio::spawn(async move {
            shared.metrics.opened(protocol);
            match protocol {
                Protocol::Http => crate::http::serve_connection(stream, shared.clone(), limits, stop).await,
                Protocol::Resp => crate::resp::serve_connection(stream, shared.clone(), limits, stop).await,
            }
            shared.metrics.closed(protocol);
            drop(slot);
        });
    }

    /// Serves a connection dealt by the accepting thread on this thread's runtime.
    fn serve_dealt(&self, dealt: Dealt) {
        match TcpStream::from_std(dealt.stream) {
            Ok(stream) => self.serve(stream, dealt.protocol, dealt.slot),
            // The socket could not join this thread's poller: it is closed.
            Err(err) => crate::log(format_args!("dropped a connection: {err}")),
        }
    }
}

/// The first thread's work: accepts on the listeners and deals the connections
/// out, reloads on request, and on shutdown stops accepting and waits (up to
/// the grace period) for the open connections of every thread.
async fn serve(
    connections: Connections,
    listeners: [(Option<TcpListener>, Protocol); 2],
    slots: Arc<Semaphore>,
    dealers: Arc<[mpsc::UnboundedSender<Dealt>]>,
) {
    for (listener, protocol) in listeners {
        if let Some(listener) = listener {
            tokio::spawn(accept(listener, protocol, connections.clone(), slots.clone(), dealers.clone()));
        }
    }
    tokio::spawn(connections.shared.clone().reload_on_request());
    let Connections { limits, mut stop, .. } = connections;
    stopped(&mut stop).await;
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(all)).await.is_err() {
        crate::log(format_args!("connections still open after {:?}; closing them", limits.shutdown_grace));
    }
}

/// Accepts on `listener` until shutdown: each connection is served here or dealt
/// to the next of the other threads, in turn.
async fn accept(
    listener: TcpListener,
    protocol: Protocol,
    connections: Connections,
    slots: Arc<Semaphore>,
    dealers: Arc<[mpsc::UnboundedSender<Dealt>]>,
) {
    let mut stop = connections.stop.clone();
    let mut turn = 0;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped(&mut stop) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Out of file descriptors and the like: back off instead of spinning.
                crate::log(format_args!("accept failed: {err}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            connections.shared.metrics.refused();
            continue;
        };
        let _ = stream.set_nodelay(true);
        turn = (turn + 1) % (dealers.len() + 1);
        let Some(dealer) = turn.checked_sub(1).and_then(|i| dealers.get(i)) else {
            connections.serve(stream, protocol, slot);
            continue;
        };
        // A socket registered with this runtime's poller leaves it before another takes it.
        match stream.into_std() {
            Ok(stream) => {
                // A thread that has stopped drops what is dealt to it: the connection closes.
                let _ = dealer.send(Dealt { stream, protocol, slot });
            }
            Err(err) => crate::log(format_args!("dropped a connection: {err}")),
        }
    }
}
