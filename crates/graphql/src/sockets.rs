//! The subscription sockets open now, so that a server shutting down can
//! close them (1001, going away: graphql-ws clients reconnect, to another
//! replica behind the load balancer) and wait until they are gone. Plain
//! HTTP requests drain through axum's graceful shutdown; upgraded
//! connections are not its to wait for.

use std::time::Duration;

use tokio::sync::watch;

#[derive(Clone)]
pub struct Sockets {
    stopping: watch::Sender<bool>,
    open: watch::Sender<usize>,
}

/// Held by an open socket; the count goes down when it is dropped.
pub(crate) struct OpenSocket {
    open: watch::Sender<usize>,
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.open.send_modify(|open| *open = open.saturating_sub(1));
    }
}

impl Default for Sockets {
    fn default() -> Self {
        Self {
            stopping: watch::Sender::new(false),
            open: watch::Sender::new(0),
        }
    }
}

impl Sockets {
    /// Counts a socket as open until the guard is dropped.
    pub(crate) fn open(&self) -> OpenSocket {
        self.open.send_modify(|open| *open += 1);
        OpenSocket {
            open: self.open.clone(),
        }
    }

    /// Completes when shutdown begins.
    pub(crate) async fn stopping(&self) {
        let mut stopping = self.stopping.subscribe();
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }

    /// Asks every socket to close, then waits at most `within` for them
    /// to be gone; the number still open after that.
    pub async fn close_all(&self, within: Duration) -> usize {
        self.stopping.send_replace(true);
        let mut open = self.open.subscribe();
        let _ = tokio::time::timeout(within, open.wait_for(|open| *open == 0)).await;
        *open.borrow()
    }
}
