//! How a [`super::Connection`] opens its stream: [`Plain`] TCP, or [`TlsConnect`] (rustls over TCP) for https
//! targets. The connection is generic over it, so an http run compiles to the plain TCP path with no TLS branch per
//! request; the run picks one once, from the target's scheme.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Opens a stream to the target.
pub trait Connect {
    type Stream: AsyncRead + AsyncWrite + Unpin;

    fn connect(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>>;
}

/// Plain TCP with Nagle off: the http path.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Connect for Plain {
    type Stream = TcpStream;

    async fn connect(&self, addr: SocketAddr) -> io::Result<TcpStream> {
        tcp(addr).await
    }
}

/// TLS over TCP with one client configuration (and so one session cache) for every connection of the run.
#[derive(Clone)]
pub struct TlsConnect {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl TlsConnect {
    pub fn new(config: Arc<rustls::ClientConfig>, server_name: ServerName<'static>) -> TlsConnect {
        TlsConnect { connector: TlsConnector::from(config), server_name }
    }
}

impl TlsConnect {
    /// One blocking handshake on the run's pre-flight connection: a certificate the run would not trust fails
    /// here with rustls' own reason, rather than as a count of connect failures.
    pub fn check(&self, mut stream: std::net::TcpStream, timeout: Duration) -> Result<(), String> {
        stream.set_read_timeout(Some(timeout)).map_err(|error| error.to_string())?;
        stream.set_write_timeout(Some(timeout)).map_err(|error| error.to_string())?;
        let config = Arc::clone(self.connector.config());
        let mut tls =
            rustls::ClientConnection::new(config, self.server_name.clone()).map_err(|error| error.to_string())?;
        while tls.is_handshaking() {
            tls.complete_io(&mut stream).map_err(|error| error.to_string())?;
        }
        Ok(())
    }
}

impl Connect for TlsConnect {
    type Stream = TlsStream<TcpStream>;

    async fn connect(&self, addr: SocketAddr) -> io::Result<TlsStream<TcpStream>> {
        let stream = tcp(addr).await?;
        self.connector.connect(self.server_name.clone(), stream).await
    }
}

async fn tcp(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}
