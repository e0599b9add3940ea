//! Binding the listening socket every server model serves: one place for the backlog and SO_REUSEPORT choices,
//! and the look into its queue that the accept gate of both models needs.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use socket2::{Domain, Protocol, Socket, Type};

/// gunicorn's default `--backlog`.
pub const DEFAULT_BACKLOG: i32 = 2048;

/// Binds `addr` with SO_REUSEADDR (and SO_REUSEPORT when asked) and starts listening with `backlog`.
/// The socket is blocking; an async server switches it to non-blocking itself.
pub fn bind(addr: SocketAddr, backlog: i32, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = bound_socket(addr, reuse_port)?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// Binds `addr` with SO_REUSEADDR and SO_REUSEPORT but never listens: the kernel routes no connection to it, so it
/// only reserves the port (the prefork master's placeholder while its workers bind their own sockets to it).
pub fn reserve_port(addr: SocketAddr) -> io::Result<TcpListener> {
    Ok(bound_socket(addr, true)?.into())
}

/// A TCP socket bound to `addr` with SO_REUSEADDR (and SO_REUSEPORT when asked), not yet listening.
fn bound_socket(addr: SocketAddr, reuse_port: bool) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    Ok(socket)
}

/// Waits up to `timeout` (zero: only looks) for a connection in `listener`'s queue, without taking it: POLLIN on
/// a listening socket means its accept queue is not empty. An interrupted wait reports true so that the caller
/// looks again.
pub fn wait_for_connection(listener: &TcpListener, timeout: Duration) -> io::Result<bool> {
    let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(millis)) {
        Ok(ready) => Ok(ready > 0),
        Err(nix::errno::Errno::EINTR) => Ok(true),
        Err(errno) => Err(errno.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_port_zero_to_a_real_port() {
        let listener = bind("127.0.0.1:0".parse().unwrap(), DEFAULT_BACKLOG, false).unwrap();
        assert_ne!(listener.local_addr().unwrap().port(), 0);
    }

    #[test]
    fn reuse_port_lets_two_sockets_share_an_address() {
        let first = bind("127.0.0.1:0".parse().unwrap(), 16, true).unwrap();
        let second = bind(first.local_addr().unwrap(), 16, true);
        assert!(second.is_ok());
    }

    #[test]
    fn a_waiting_connection_is_seen_and_left_in_the_queue() {
        let listener = bind("127.0.0.1:0".parse().unwrap(), 16, false).unwrap();
        assert!(!wait_for_connection(&listener, Duration::ZERO).unwrap());
        assert!(!wait_for_connection(&listener, Duration::from_millis(20)).unwrap(), "times out when none comes");
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert!(wait_for_connection(&listener, Duration::from_secs(10)).unwrap());
        assert!(wait_for_connection(&listener, Duration::ZERO).unwrap(), "looking does not take it");
        listener.accept().unwrap();
        assert!(!wait_for_connection(&listener, Duration::ZERO).unwrap());
    }

    #[test]
    fn a_reserved_port_accepts_reuse_port_listeners_but_no_connections() {
        let placeholder = reserve_port("127.0.0.1:0".parse().unwrap()).unwrap();
        let address = placeholder.local_addr().unwrap();
        assert_ne!(address.port(), 0);
        // Nobody listens yet: the placeholder is only bound, so a connection is refused rather than queued.
        assert!(std::net::TcpStream::connect(address).is_err());
        let worker_socket = bind(address, 64, true).unwrap();
        for _ in 0..20 {
            assert!(std::net::TcpStream::connect(address).is_ok(), "every connection reaches the listening socket");
        }
        drop(worker_socket);
    }
}
