//! A round-robin TCP forwarder: one loopback port in front of several servers, each accepted
//! connection handed whole to the next server in turn, the way a layer-4 load balancer spreads
//! keep-alive connections. It runs in the benchmark's own process; which servers it forwards to
//! can change between rounds (new connections only), so that one port serves both the measured
//! configuration and its baseline.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};

/// A forwarder listening on a loopback port; it stops when dropped.
#[derive(Debug)]
pub(crate) struct Forwarder {
    /// The servers new connections go to, in turn.
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    /// Connections accepted so far.
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Forwarder {
    /// Listens on `127.0.0.1:port` and forwards every connection to one of `backends`.
    pub(crate) async fn start(port: u16, backends: Vec<SocketAddr>) -> anyhow::Result<Forwarder> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let backends = Arc::new(Mutex::new(backends));
        let accepted = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(accept(listener, backends.clone(), accepted.clone()));
        Ok(Forwarder { backends, accepted, task })
    }

    /// Sends the connections accepted from now on to `backends` (those already open stay).
    pub(crate) fn route_to(&self, backends: Vec<SocketAddr>) {
        if let Ok(mut current) = self.backends.lock() {
            *current = backends;
        }
    }

    /// Connections accepted so far.
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, backends: Arc<Mutex<Vec<SocketAddr>>>, accepted: Arc<AtomicUsize>) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            // Out of file descriptors, say: let connections close before trying again.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let turn = accepted.fetch_add(1, Ordering::Relaxed);
        let backend = backends.lock().ok().and_then(|backends| backends.get(turn % backends.len().max(1)).copied());
        let Some(backend) = backend else { continue };
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(backend).await else { return };
            // Requests and answers are small: without NODELAY each would wait for the
            // delayed ACK of the one before on this extra hop.
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let (mut inbound, mut outbound) = (inbound, outbound);
            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers every connection with its `name` and closes it.
    async fn named_server(name: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut connection, _)) = listener.accept().await {
                let _ = connection.write_all(name).await;
            }
        });
        address
    }

    async fn answer(port: u16) -> Vec<u8> {
        let mut connection = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut answer = Vec::new();
        connection.read_to_end(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn connections_go_to_the_servers_in_turn_and_to_the_new_set_after_a_change() {
        let (first, second) = (named_server(b"one").await, named_server(b"two").await);
        let port = crate::driver::free_port().unwrap();
        let forwarder = Forwarder::start(port, vec![first, second]).await.unwrap();
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(answer(port).await);
        }
        assert_eq!(answers, [b"one".to_vec(), b"two".to_vec(), b"one".to_vec(), b"two".to_vec()]);
        forwarder.route_to(vec![second]);
        assert_eq!(answer(port).await, b"two");
        assert_eq!(answer(port).await, b"two");
        assert_eq!(forwarder.accepted(), 6);
    }
}
