//! The shutdown signal every task of the server waits on: its own module, so
//! that the front ends (`http.rs`, `resp.rs`) and the server that runs them
//! (`server.rs`) both import it and neither imports the other for it.

use tokio::sync::watch;

/// Resolves once a shutdown has been asked for (or the server is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
