//! https targets: which certificates the load generator trusts ([`TlsTrust`]) and the one rustls client
//! configuration a run builds from it. `rustcorn load --cacert FILE` and `--insecure` choose; the connections
//! (`crate::client::TlsConnect`) share the configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::LoadError;

/// An https target: the name its certificate must carry and what vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsTarget {
    /// The URL's host, sent as SNI and checked against the certificate.
    pub server_name: String,
    pub trust: TlsTrust,
}

/// Which server certificates the load generator accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TlsTrust {
    /// Mozilla's root list compiled in (webpki-roots), the same on every machine.
    #[default]
    WebPkiRoots,
    /// Only certificates that chain to a CA of this PEM file (curl's `--cacert`).
    CaFile(PathBuf),
    /// Any certificate, not checked (curl's and oha's `--insecure`): for self-signed test servers.
    Insecure,
}

impl TlsTarget {
    /// The client configuration of a run, built once before it starts: a bad CA file stops the run here.
    pub(crate) fn connector(&self) -> Result<crate::client::TlsConnect, LoadError> {
        let bad = |reason: String| LoadError::invalid("URL", reason);
        let server_name = ServerName::try_from(self.server_name.clone())
            .map_err(|error| bad(format!("{:?} is not a TLS server name: {error}", self.server_name)))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|error| bad(format!("TLS setup: {error}")))?;
        let config = match &self.trust {
            TlsTrust::WebPkiRoots => {
                let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            TlsTrust::CaFile(path) => builder.with_root_certificates(ca_file(path)?).with_no_client_auth(),
            TlsTrust::Insecure => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth(),
        };
        Ok(crate::client::TlsConnect::new(Arc::new(config), server_name))
    }
}

/// The CA certificates of a PEM file; an unreadable file or one without a certificate is an error.
fn ca_file(path: &Path) -> Result<RootCertStore, LoadError> {
    let bad = |reason: String| LoadError::invalid("--cacert", format!("{}: {reason}", path.display()));
    let mut roots = RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(path).map_err(|error| bad(error.to_string()))? {
        let certificate = certificate.map_err(|error| bad(error.to_string()))?;
        roots.add(certificate).map_err(|error| bad(error.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no PEM certificate in the file".into()));
    }
    Ok(roots)
}

/// `--insecure`: takes any certificate for any name, but still checks the handshake's signatures with the
/// certificate's key, so the TLS work per handshake is what a verifying client does.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, certificate, signature, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, certificate, signature, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
