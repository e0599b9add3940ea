//! `{port}` in an external target's command, env and `ready_url`: a free loopback port, chosen afresh each time
//! the target starts. The driver binds port 0, reads the port the kernel gave, closes the socket and passes the
//! number on; another process could take it in between (a tiny race), and then the target fails to bind and the
//! run reports it as a target that did not start, with the target's own stderr.

use std::io;
use std::net::TcpListener;

/// The placeholder a suite or `bench servers` command writes for the port.
pub const PORT: &str = "{port}";

/// Whether any of `words` asks for a port.
pub fn wants_port<'a>(mut words: impl Iterator<Item = &'a str>) -> bool {
    words.any(|word| word.contains(PORT))
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> io::Result<u16> {
    TcpListener::bind("127.0.0.1:0")?.local_addr().map(|addr| addr.port())
}

/// `text` with every `{port}` replaced by `port`.
pub fn fill(text: &str, port: Option<u16>) -> String {
    match port {
        Some(port) => text.replace(PORT, &port.to_string()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_free_and_filled_in_everywhere() {
        let port = free_port().expect("a free port");
        assert!(port > 0);
        TcpListener::bind(("127.0.0.1", port)).expect("nothing holds the port it returned");
        assert_eq!(fill("http://127.0.0.1:{port}/{port}", Some(8123)), "http://127.0.0.1:8123/8123");
        assert_eq!(fill("no placeholder", Some(8123)), "no placeholder");
        assert!(wants_port(["uvicorn", "--port", "{port}"].into_iter()));
        assert!(!wants_port(["uvicorn", "--port", "8000"].into_iter()));
    }
}
