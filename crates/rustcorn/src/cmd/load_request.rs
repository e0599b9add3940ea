//! The request-shape flags of `rustcorn load` and `rustcorn bench servers`, named as wrk, oha and hey name them:
//! `-H`, `-m`, `-d` / `-D`, `--disable-keepalive`; turned into a [`loadgen::RequestShape`] that is encoded once
//! before the run, or for `bench servers` into the fields of its suite's phase. Also the
//! https flags, named as curl names them: `--insecure`, `--cacert FILE`.

use std::path::PathBuf;

use bench::servers::{BodySource, PhaseRequest};
use loadgen::{RequestShape, Target, TlsTrust};

#[derive(Debug, Clone, clap::Args)]
pub struct TlsArgs {
    /// https: accept any server certificate (self-signed test servers), as curl -k and oha --insecure.
    #[arg(short = 'k', long, conflicts_with = "cacert")]
    insecure: bool,
    /// https: trust only the CA certificates of this PEM file (default: Mozilla's root list, compiled in).
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
}

impl TlsArgs {
    /// Sets what an https target trusts; either flag with an http:// URL is refused rather than ignored.
    pub fn apply(&self, target: &mut Target) -> Result<(), String> {
        let trust = match (self.insecure, &self.cacert) {
            (true, _) => TlsTrust::Insecure,
            (false, Some(path)) => TlsTrust::CaFile(path.clone()),
            (false, None) => return Ok(()),
        };
        let flag = if self.insecure { "--insecure" } else { "--cacert" };
        let tls = target.tls.as_mut().ok_or_else(|| format!("{flag}: applies to https:// URLs only"))?;
        tls.trust = trust;
        Ok(())
    }
}

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
                loadgen::request::read_body_file(path).map_err(|error| format!("--body-file: {error}"))?
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

    /// The same flags for `rustcorn bench servers`, which writes them into its suite's phase: checked here as
    /// `rustcorn load` checks them (same messages), with a body file kept as its absolute path, so the suite
    /// kept in results.json runs again from any folder.
    pub fn for_suite(&self) -> Result<PhaseRequest, String> {
        self.shape()?.validate().map_err(|error| error.to_string())?;
        let body = match (&self.body, &self.body_file) {
            (Some(text), _) => Some(BodySource::Text(text.clone())),
            (None, Some(path)) => Some(BodySource::File(
                std::path::absolute(path).map_err(|error| format!("--body-file: {}: {error}", path.display()))?,
            )),
            (None, None) => None,
        };
        Ok(PhaseRequest {
            method: self.method.clone(),
            headers: self.headers.clone(),
            body,
            keep_alive: !self.disable_keepalive,
        })
    }
}
