//! HTTPS: the server's certificate and key read from PEM files, and a listener that hands axum
//! connections whose TLS handshake is done. Handshakes run off the accept loop, each with a time
//! limit and a bounded number at once, so a slow or silent client never keeps others out.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client has to finish its handshake before its connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once; past it, new connections wait in the kernel's backlog.
pub const MAX_HANDSHAKES: usize = 512;

/// Larger than any certificate chain or key; stops a mistaken path (a device, a data file) from
/// being read whole.
const MAX_PEM_BYTES: u64 = 1 << 20;

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Why the certificate or the key cannot be used; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the TLS {what} {} is larger than {MAX_PEM_BYTES} bytes: is it the right file?", path.display())]
    TooLarge { what: &'static str, path: PathBuf },
    #[error("the TLS certificate {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate { path: PathBuf },
    #[error(
        "the TLS key {} holds no private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)",
        path.display()
    )]
    NoKey { path: PathBuf },
    #[error(
        "the TLS key {} is encrypted: weir reads unencrypted keys (decrypt it with `openssl pkey -in KEY -out PLAIN`)",
        path.display()
    )]
    EncryptedKey { path: PathBuf },
    #[error("the TLS {what} {} is not valid PEM: {message}", path.display())]
    BadPem {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("the TLS key {} does not belong to the certificate {}", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("the TLS certificate {} and key {} cannot be used: {message}", cert.display(), key.display())]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
}

/// The server's TLS settings from a PEM certificate chain (the server's certificate first) and a
/// PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC), with the `ring` provider. HTTP/1.1 only, as
/// the server speaks no HTTP/2.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = read_certificates(cert)?;
    let private_key = read_key(key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let unusable = |e: rustls::Error| match e {
        rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        },
        other => TlsError::Unusable {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            message: other.to_string(),
        },
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(unusable)?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(unusable)?;
    // HTTP/2 first: the AWS SDKs for Java call SubscribeToShard over it (the server speaks both).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_pem(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let read = |source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(read)?
        .take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(TlsError::TooLarge {
            what,
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

fn bad_pem(what: &'static str, path: &Path, error: pem::Error) -> TlsError {
    TlsError::BadPem {
        what,
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_pem("certificate", path)?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_pem("certificate", path, e))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_pem("key", path)?;
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => {
            let encrypted = String::from_utf8_lossy(&bytes).contains("ENCRYPTED");
            let path = path.to_path_buf();
            Err(if encrypted {
                TlsError::EncryptedKey { path }
            } else {
                TlsError::NoKey { path }
            })
        }
        Err(e) => Err(bad_pem("key", path, e)),
    }
}

/// A TCP listener whose connections come out of their TLS handshake: an [`axum::serve::Listener`].
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
    handshake_timeout: Duration,
    max_handshakes: usize,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> TlsListener {
        TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(config),
            handshakes: JoinSet::new(),
            handshake_timeout: HANDSHAKE_TIMEOUT,
            max_handshakes: MAX_HANDSHAKES,
        }
    }

    /// Other limits on handshakes than [`HANDSHAKE_TIMEOUT`] and [`MAX_HANDSHAKES`] (tests).
    pub fn with_handshake_limits(mut self, timeout: Duration, at_once: usize) -> TlsListener {
        self.handshake_timeout = timeout;
        self.max_handshakes = at_once.max(1);
        self
    }

    fn start_handshake(&mut self, tcp: TcpStream, peer: SocketAddr) {
        let acceptor = self.acceptor.clone();
        let limit = self.handshake_timeout;
        self.handshakes.spawn(async move {
            match tokio::time::timeout(limit, handshake(acceptor, tcp)).await {
                Ok(Ok(stream)) => Some((stream, peer)),
                Ok(Err(e)) => {
                    tracing::debug!(%peer, "TLS handshake failed: {e}");
                    None
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out after {limit:?}");
                    None
                }
            }
        });
    }
}

/// The handshake of one connection. A client speaking plain HTTP to the HTTPS port gets a plain
/// HTTP answer saying so (as the first bytes of a TLS connection are a handshake record, one byte
/// tells them apart) rather than a connection closed without a word.
async fn handshake(acceptor: TlsAcceptor, tcp: TcpStream) -> std::io::Result<TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    let peeked = tcp.peek(&mut first).await?;
    if peeked == 1 && first[0] != TLS_HANDSHAKE_RECORD {
        refuse_plain_http(tcp).await;
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "plain HTTP on the HTTPS port",
        ));
    }
    acceptor.accept(tcp).await
}

async fn refuse_plain_http(mut tcp: TcpStream) {
    let body = "This weir server speaks HTTPS: use an https:// URL.\n";
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The client may be gone already; there is no one else to tell.
    let _ = tcp.write_all(answer.as_bytes()).await;
    let _ = tcp.shutdown().await;
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    /// Accepts TCP connections while fewer than `max_handshakes` handshakes run and hands on
    /// each one whose handshake succeeds. Cancel-safe: a connection is either still in the
    /// kernel's queue or in `handshakes`.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let room = self.handshakes.len() < self.max_handshakes;
            tokio::select! {
                accepted = self.tcp.accept(), if room => match accepted {
                    Ok((tcp, peer)) => self.start_handshake(tcp, peer),
                    Err(e) => accept_failed(e).await,
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(connection)) = done {
                        return connection;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// What axum's own TCP listener does on an accept error: a connection that went away is nothing;
/// anything else (out of file descriptors) is logged, then accepting pauses a second.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept error: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests;
