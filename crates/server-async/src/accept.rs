//! Accepting connections: the listening socket under tokio's readiness, with the supervisor's gate
//! ([`WorkerHooks::may_accept`]) asked before every accept. Prefork workers share one listening socket; without
//! the gate the first worker to wake drains the whole queue, so a burst of keep-alive connections (a load
//! generator opening its connections) can all land on it while its siblings stay idle for the whole run.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::socket::{accept4, SockFlag};
use server_kit::lifecycle::{WorkerHooks, ACCEPT_GATE_RECHECK};
use server_kit::listener::wait_for_connection;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::net::TcpStream;

pub(crate) struct Acceptor {
    listener: AsyncFd<TcpListener>,
    hooks: Arc<dyn WorkerHooks>,
}

impl Acceptor {
    /// Registers `listener` with the runtime of the calling task.
    pub(crate) fn new(listener: TcpListener, hooks: Arc<dyn WorkerHooks>) -> io::Result<Acceptor> {
        listener.set_nonblocking(true)?;
        // SAFETY: the AsyncFd owns the TcpListener, whose descriptor stays open and the same until it is dropped.
        let listener = unsafe { AsyncFd::register_with_interest(listener, Interest::READABLE) }
            .map_err(|error| error.into_parts().1)?;
        Ok(Acceptor { listener, hooks })
    }

    /// The next connection this worker may take. With the gate closed, a waiting connection is left in the queue
    /// for a sibling (rechecked every [`ACCEPT_GATE_RECHECK`]); with none waiting, the next arrival wakes this.
    pub(crate) async fn accept(&self) -> io::Result<TcpStream> {
        loop {
            let mut ready = self.listener.readable().await?;
            if !self.hooks.may_accept() {
                if wait_for_connection(self.listener.get_ref(), Duration::ZERO)? {
                    drop(ready);
                    tokio::time::sleep(ACCEPT_GATE_RECHECK).await;
                } else {
                    // tokio keeps the readiness if an arrival was reported meanwhile, so no wake-up is lost.
                    ready.clear_ready();
                }
                continue;
            }
            if let Ok(accepted) = ready.try_io(|listener| accept_nonblocking(listener.get_ref())) {
                return accepted;
            }
        }
    }
}

/// accept4 with the connection non-blocking from the start, as tokio's own accept does (one system call).
fn accept_nonblocking(listener: &TcpListener) -> io::Result<TcpStream> {
    let fd = accept4(listener.as_raw_fd(), SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC)?;
    // SAFETY: accept4 just returned this descriptor; nothing else owns it.
    let stream = unsafe { std::net::TcpStream::from_raw_fd(fd) };
    TcpStream::from_std(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A gate the test opens and closes, counting how often it is asked.
    #[derive(Default)]
    struct Gate {
        open: AtomicBool,
        asked: AtomicUsize,
    }

    impl WorkerHooks for Gate {
        fn request_served(&self) {}
        fn heartbeat(&self) {}
        fn may_accept(&self) -> bool {
            self.asked.fetch_add(1, Ordering::Relaxed);
            self.open.load(Ordering::Relaxed)
        }
    }

    /// An acceptor on loopback behind a closed gate, its address, and the runtime it is registered with.
    fn gated() -> (Acceptor, SocketAddr, Arc<Gate>, tokio::runtime::Runtime) {
        let listener = server_kit::listener::bind("127.0.0.1:0".parse().unwrap(), 16, false).unwrap();
        let addr = listener.local_addr().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let gate = Arc::new(Gate::default());
        let acceptor = {
            let _context = runtime.enter();
            Acceptor::new(listener, gate.clone()).unwrap()
        };
        (acceptor, addr, gate, runtime)
    }

    #[test]
    fn a_closed_gate_leaves_the_connection_queued_until_it_opens() {
        let (acceptor, addr, gate, runtime) = gated();
        let _client = std::net::TcpStream::connect(addr).unwrap();
        runtime.block_on(async {
            let gated = tokio::time::timeout(Duration::from_millis(50), acceptor.accept()).await;
            assert!(gated.is_err(), "nothing is accepted while the gate is closed");
            let queued = wait_for_connection(acceptor.listener.get_ref(), Duration::ZERO).unwrap();
            assert!(queued, "the connection is still queued");
            gate.open.store(true, Ordering::Relaxed);
            let accepted = tokio::time::timeout(Duration::from_secs(10), acceptor.accept()).await;
            assert!(accepted.expect("accepted once the gate opens").is_ok());
            assert!(!wait_for_connection(acceptor.listener.get_ref(), Duration::ZERO).unwrap());
        });
    }

    #[test]
    fn a_closed_gate_with_an_empty_queue_sleeps_until_the_next_arrival() {
        let (acceptor, addr, gate, runtime) = gated();
        // A first connection, taken while the gate is open, leaves the readiness set (it clears on EAGAIN).
        let _first = std::net::TcpStream::connect(addr).unwrap();
        gate.open.store(true, Ordering::Relaxed);
        runtime.block_on(async {
            acceptor.accept().await.unwrap();
            gate.open.store(false, Ordering::Relaxed);
            gate.asked.store(0, Ordering::Relaxed);
            let waiting = tokio::time::timeout(Duration::from_millis(30), acceptor.accept()).await;
            assert!(waiting.is_err(), "no connection waits");
            let asked = gate.asked.load(Ordering::Relaxed);
            assert!(asked <= 2, "with nothing queued it waits for readiness instead of asking again: {asked}");
            gate.open.store(true, Ordering::Relaxed);
            let _second = std::net::TcpStream::connect(addr).unwrap();
            let accepted = tokio::time::timeout(Duration::from_secs(10), acceptor.accept()).await;
            assert!(accepted.expect("the arrival wakes the acceptor").is_ok());
        });
    }
}
