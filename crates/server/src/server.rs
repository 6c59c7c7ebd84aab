//! Starting, running, reloading and stopping the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol as SocketProtocol, Socket, Type};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Semaphore, watch};

use crate::config::{Config, Limits};
use crate::error::ServerError;
use crate::metrics::{Metrics, Protocol};
use crate::state::{DataSource, Shared};

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
        // One current-thread runtime per thread, each accepting on listeners of its
        // own (see `listen`): a connection is served start to end by the thread that
        // accepted it, with no work stealing and no wake-ups across threads, so a
        // second thread adds capacity without adding CPU per request.
        let runtimes = (0..config.threads).map(|_| runtime()).collect::<Result<Vec<_>, _>>()?;
        let http = config.http.map(|addr| listen(addr, &runtimes)).transpose()?.unwrap_or_default();
        let resp = config.resp.map(|addr| listen(addr, &runtimes)).transpose()?.unwrap_or_default();
        let local = |l: &[TcpListener]| l.first().and_then(|l| l.local_addr().ok());
        let bound = Bound { http: local(&http), resp: local(&resp) };
        let (shutdown, stop) = watch::channel(false);
        if config.signals {
            let _entered = runtimes.first().map(Runtime::enter);
            watch_signals(shutdown.clone(), shared.clone())?;
        }
        let slots = Arc::new(Semaphore::new(config.limits.max_connections));
        // Set once the first thread's grace period is over: the others stop then.
        let (finished, done) = watch::channel(false);
        let mut threads = Vec::new();
        let mut http = http.into_iter().map(Some).chain(std::iter::repeat_with(|| None));
        let mut resp = resp.into_iter().map(Some).chain(std::iter::repeat_with(|| None));
        let mut first = None;
        for (i, runtime) in runtimes.into_iter().enumerate() {
            let listeners = [(http.next().flatten(), Protocol::Http), (resp.next().flatten(), Protocol::Resp)];
            let accepting = Accepting {
                shared: shared.clone(),
                limits: config.limits.clone(),
                slots: slots.clone(),
                stop: stop.clone(),
            };
            if i == 0 {
                first = Some((runtime, serve(accepting, listeners)));
                continue;
            }
            let mut done = done.clone();
            let task = async move {
                accepting.spawn(listeners);
                let _ = done.wait_for(|done| *done).await;
            };
            let thread = std::thread::Builder::new()
                .name(format!("kvbench-serve-{i}"))
                .spawn(move || {
                    runtime.block_on(task);
                    runtime.shutdown_timeout(Duration::from_millis(100));
                })
                .map_err(ServerError::Runtime)?;
            threads.push(thread);
        }
        let (runtime, task) = first.ok_or_else(|| ServerError::Config("--threads must be at least 1".into()))?;
        let thread = std::thread::Builder::new()
            .name("kvbench-serve".into())
            .spawn(move || {
                runtime.block_on(task);
                finished.send_replace(true);
                for thread in threads {
                    let _ = thread.join();
                }
                // A reload still building must not hold the process up.
                runtime.shutdown_timeout(Duration::from_millis(100));
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

/// Binds `addr` once per runtime, each listener registered with its runtime.
///
/// With several, every socket sets `SO_REUSEPORT` and binds the same address
/// (port 0 resolved by the first), so the kernel spreads new connections over
/// the threads by their addresses; one thread keeps a port of its own.
fn listen(addr: SocketAddr, runtimes: &[Runtime]) -> Result<Vec<TcpListener>, ServerError> {
    let shared = runtimes.len() > 1;
    let mut at = addr;
    let mut listeners = Vec::with_capacity(runtimes.len());
    for runtime in runtimes {
        let _entered = runtime.enter();
        let bind = || {
            let socket = Socket::new(Domain::for_address(at), Type::STREAM, Some(SocketProtocol::TCP))?;
            socket.set_reuse_address(true)?;
            if shared {
                socket.set_reuse_port(true)?;
            }
            socket.bind(&at.into())?;
            socket.listen(1024)?;
            socket.set_nonblocking(true)?;
            let listener = TcpListener::from_std(socket.into())?;
            Ok::<_, std::io::Error>(listener)
        };
        let listener = bind().map_err(|source| ServerError::Bind { addr, source })?;
        at = listener.local_addr().map_err(|source| ServerError::Bind { addr, source })?;
        listeners.push(listener);
    }
    Ok(listeners)
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

/// What every thread's accept loops share.
struct Accepting {
    shared: Arc<Shared>,
    limits: Limits,
    slots: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
}

impl Accepting {
    /// Starts an accept loop on the current runtime for each listener given.
    fn spawn(&self, listeners: [(Option<TcpListener>, Protocol); 2]) {
        for (listener, protocol) in listeners {
            if let Some(listener) = listener {
                let (shared, limits, slots, stop) =
                    (self.shared.clone(), self.limits.clone(), self.slots.clone(), self.stop.clone());
                tokio::spawn(accept(listener, protocol, shared, limits, slots, stop));
            }
        }
    }
}

/// The first thread's work: accepts on its listeners, reloads on request, and
/// on shutdown stops accepting and waits (up to the grace period) for the open
/// connections of every thread.
async fn serve(accepting: Accepting, listeners: [(Option<TcpListener>, Protocol); 2]) {
    accepting.spawn(listeners);
    tokio::spawn(accepting.shared.clone().reload_on_request());
    let Accepting { limits, slots, mut stop, .. } = accepting;
    stopped(&mut stop).await;
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(all)).await.is_err() {
        crate::log(format_args!("connections still open after {:?}; closing them", limits.shutdown_grace));
    }
}

async fn accept(
    listener: TcpListener,
    protocol: Protocol,
    shared: Arc<Shared>,
    limits: Limits,
    slots: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
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
            shared.metrics.refused();
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (shared, limits, stop) = (shared.clone(), limits.clone(), stop.clone());
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
}

/// Resolves once a shutdown has been asked for (or the server is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
