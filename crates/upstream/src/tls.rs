//! HTTPS for the upstream. google.com, which `/sync-google` and `/async-google` stand for, costs its callers a TLS
//! handshake on every new connection, and a client that opens one per request (the article's code does) pays it
//! every time: plain HTTP on loopback would hide that cost. [`LocalCa`] makes, at start, a throwaway CA and a server
//! certificate it signs for 127.0.0.1, ::1 and localhost (ECDSA P-256, what google.com serves to modern clients);
//! the CA's PEM is what clients are told to trust. [`HandshakeRecorder`] counts the handshakes by what they
//! negotiated, so a run states the TLS version and cipher suite its clients actually used.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConnection;
use serde::{Deserialize, Serialize};

/// The names the server certificate is valid for: every loopback name a client may use.
pub const SERVER_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the local CA or the server certificate")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot build the TLS server configuration")]
    Config(#[from] rustls::Error),
}

/// A CA made for this run and the server configuration whose certificate it signed.
#[derive(Debug, Clone)]
pub struct LocalCa {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl PartialEq for LocalCa {
    /// One CA is one key pair: its certificate tells it apart.
    fn eq(&self, other: &Self) -> bool {
        self.ca_pem == other.ca_pem
    }
}

impl Eq for LocalCa {}

impl LocalCa {
    /// Generates the CA and the server certificate (in memory only; nothing is written).
    pub fn generate() -> Result<Self, TlsError> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "rustcorn upstream local CA");
        ca_params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca = ca_params.self_signed(&ca_key)?;

        let server_key = KeyPair::generate()?;
        let mut params = CertificateParams::new(SERVER_NAMES.map(str::to_owned).to_vec())?;
        params.distinguished_name.push(DnType::CommonName, "rustcorn upstream");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        // OpenSSL's strict verification (Python 3.13's default context) refuses a leaf without it.
        params.use_authority_key_identifier_extension = true;
        let certificate = params.signed_by(&server_key, &ca, &ca_key)?;

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![certificate.der().clone()], key)?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { ca_pem: ca.pem(), server: Arc::new(server) })
    }

    /// The CA certificate, PEM: what a client must trust to reach the upstream.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(Arc::clone(&self.server))
    }
}

/// The handshakes the upstream completed, by what they negotiated, and the ones that failed (a client that does not
/// trust the CA aborts its handshake).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRecord {
    pub handshakes: Vec<Negotiated>,
    pub failed_handshakes: u64,
}

/// One combination of negotiated parameters and how many handshakes settled on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Negotiated {
    /// "TLSv1.3" or "TLSv1.2", as OpenSSL names them.
    pub version: String,
    /// IANA name, e.g. "TLS_AES_256_GCM_SHA384".
    pub cipher_suite: String,
    /// e.g. "X25519".
    pub key_exchange: String,
    /// False for a full handshake, true for a resumed session (no certificate sent or checked).
    pub resumed: bool,
    pub count: u64,
}

type Key = (String, String, String, bool);

/// Counts handshakes per negotiated parameters. A handful of distinct keys, behind one uncontended lock.
#[derive(Default)]
pub(crate) struct HandshakeRecorder {
    counts: Mutex<BTreeMap<Key, u64>>,
    failed: AtomicU64,
}

impl HandshakeRecorder {
    pub fn completed(&self, connection: &ServerConnection) {
        let key = negotiated(connection);
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner).entry(key).or_default() += 1;
    }

    pub fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn summary(&self) -> TlsRecord {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        TlsRecord {
            handshakes: counts
                .iter()
                .map(|((version, cipher_suite, key_exchange, resumed), &count)| Negotiated {
                    version: version.clone(),
                    cipher_suite: cipher_suite.clone(),
                    key_exchange: key_exchange.clone(),
                    resumed: *resumed,
                    count,
                })
                .collect(),
            failed_handshakes: self.failed.load(Ordering::Relaxed),
        }
    }
}

fn negotiated(connection: &ServerConnection) -> Key {
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_owned(),
    };
    // rustls spells TLS 1.3's suites "TLS13_..."; their IANA names (and OpenSSL's) start "TLS_".
    let cipher_suite = connection
        .negotiated_cipher_suite()
        .map_or_else(|| "unknown".to_owned(), |suite| format!("{:?}", suite.suite()).replacen("TLS13_", "TLS_", 1));
    let key_exchange = connection
        .negotiated_key_exchange_group()
        .map_or_else(|| "none".to_owned(), |group| format!("{:?}", group.name()));
    let resumed = matches!(connection.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
    (version, cipher_suite, key_exchange, resumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_generation_is_a_new_ca_in_pem() {
        let (first, second) = (LocalCa::generate().unwrap(), LocalCa::generate().unwrap());
        assert!(first.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"), "{}", first.ca_pem());
        assert_ne!(first, second, "a fresh key pair each time");
        assert_eq!(first.server.alpn_protocols, [b"http/1.1".to_vec()]);
    }

    #[test]
    fn failures_are_counted_apart_from_handshakes() {
        let recorder = HandshakeRecorder::default();
        recorder.failed();
        recorder.failed();
        assert_eq!(recorder.summary(), TlsRecord { handshakes: Vec::new(), failed_handshakes: 2 });
    }
}
