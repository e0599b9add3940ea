//! `rustcorn load`'s request-shape flags, named as wrk, oha and hey name them: `-H`, `-m`, `-d` / `-D`,
//! `--disable-keepalive`; turned into a [`loadgen::RequestShape`] that is encoded once before the run.

use std::path::PathBuf;

use loadgen::RequestShape;

#[derive(Debug, Clone, clap::Args)]
pub struct RequestArgs {
    /// A request header, "Name: value" (repeatable; replaces the default Host, User-Agent or Accept).
    #[arg(short = 'H', long = "header", value_name = "HEADER", value_parser = loadgen::request::parse_header)]
    headers: Vec<(String, String)>,
    /// The request method.
    #[arg(short = 'm', long, default_value = "GET")]
    method: String,
    /// The request body, sent with a Content-Length on every request.
    #[arg(short = 'd', long = "body", value_name = "TEXT", conflicts_with = "body_file")]
    body: Option<String>,
    /// The request body, read from FILE before the run.
    #[arg(short = 'D', long = "body-file", value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// A new connection for every request (`Connection: close`), so each one pays a TCP handshake.
    #[arg(long)]
    disable_keepalive: bool,
}

impl RequestArgs {
    /// The shape every request takes; a body file that cannot be read is an error naming it.
    pub fn shape(&self) -> Result<RequestShape, String> {
        let body = match (&self.body, &self.body_file) {
            (Some(text), _) => text.clone().into_bytes(),
            (None, Some(path)) => {
                std::fs::read(path).map_err(|error| format!("--body-file: cannot read {}: {error}", path.display()))?
            }
            (None, None) => Vec::new(),
        };
        Ok(RequestShape {
            method: self.method.clone(),
            headers: self.headers.clone(),
            body,
            keep_alive: !self.disable_keepalive,
        })
    }
}
