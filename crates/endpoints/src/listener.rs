//! Binding the listening socket every server model serves: one place for the backlog and SO_REUSEPORT choices.

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// gunicorn's default `--backlog`.
pub const DEFAULT_BACKLOG: i32 = 2048;

/// Binds `addr` with SO_REUSEADDR (and SO_REUSEPORT when asked) and starts listening with `backlog`.
/// The socket is blocking; an async server switches it to non-blocking itself.
pub fn bind(addr: SocketAddr, backlog: i32, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
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
}
