//! Certificates and keys made by the `openssl` CLI (scripts/test.sh installs it when missing),
//! read as a user's files are, and the listener serving real TLS on loopback.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI (scripts/test.sh installs it)");
    assert!(
        output.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

const SERVER_NAMES: &str = "subjectAltName=DNS:localhost,IP:127.0.0.1";

/// A self-signed server certificate `NAME.pem` for `KEY`, valid for localhost and 127.0.0.1.
fn self_signed(dir: &Path, key: &str, name: &str) -> PathBuf {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-key",
            key,
            "-out",
            name,
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            SERVER_NAMES,
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    dir.join(name)
}

fn ec_pkcs8_key(dir: &Path, name: &str) -> PathBuf {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            name,
        ],
    );
    dir.join(name)
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn reads_pkcs8_rsa_and_ec_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    ec_pkcs8_key(path, "pkcs8.key");
    openssl(path, &["genrsa", "-traditional", "-out", "rsa.key", "2048"]);
    openssl(
        path,
        &[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            "ec.key",
        ],
    );
    for (key, header) in [
        ("pkcs8.key", "-----BEGIN PRIVATE KEY-----"),
        ("rsa.key", "-----BEGIN RSA PRIVATE KEY-----"),
        ("ec.key", "-----BEGIN EC PRIVATE KEY-----"),
    ] {
        assert!(text(&path.join(key)).starts_with(header), "{key}");
        let cert = self_signed(path, key, &format!("{key}.pem"));
        server_config(&cert, &path.join(key)).unwrap_or_else(|e| panic!("{key} ({header}): {e}"));
    }
}

#[test]
fn bad_files_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let key = ec_pkcs8_key(path, "key.pem");
    let cert = self_signed(path, "key.pem", "cert.pem");
    let other_key = ec_pkcs8_key(path, "other.pem");
    openssl(
        path,
        &[
            "pkey",
            "-in",
            "key.pem",
            "-aes256",
            "-passout",
            "pass:secret",
            "-out",
            "locked.pem",
        ],
    );
    let locked = path.join("locked.pem");
    let missing = path.join("missing.pem");
    let garbled = path.join("garbled.pem");
    std::fs::write(
        &garbled,
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let empty = path.join("empty.pem");
    std::fs::write(&empty, "").unwrap();

    let error = |cert: &Path, key: &Path| server_config(cert, key).unwrap_err().to_string();
    let shown = |p: &Path| p.display().to_string();
    let cases = [
        (
            error(&missing, &key),
            format!("cannot read the TLS certificate {}: ", shown(&missing)),
        ),
        (
            error(&cert, &missing),
            format!("cannot read the TLS key {}: ", shown(&missing)),
        ),
        (
            error(&empty, &key),
            format!(
                "the TLS certificate {} holds no PEM certificate",
                shown(&empty)
            ),
        ),
        (
            error(&key, &key),
            format!(
                "the TLS certificate {} holds no PEM certificate",
                shown(&key)
            ),
        ),
        (
            error(&cert, &cert),
            format!("the TLS key {} holds no private key", shown(&cert)),
        ),
        (
            error(&cert, &locked),
            format!("the TLS key {} is encrypted", shown(&locked)),
        ),
        (
            error(&garbled, &key),
            format!("the TLS certificate {} is not valid PEM", shown(&garbled)),
        ),
        (
            error(&cert, &other_key),
            format!(
                "the TLS key {} does not belong to the certificate {}",
                shown(&other_key),
                shown(&cert)
            ),
        ),
    ];
    for (message, expected) in cases {
        assert!(
            message.starts_with(&expected),
            "{message}\nshould start with\n{expected}"
        );
    }
}

/// A CA, and a server certificate it signed, in `cert.pem` with the CA after it (a chain).
struct Issued {
    ca: PathBuf,
    chain: PathBuf,
    key: PathBuf,
}

fn issued_by_a_ca(dir: &Path) -> Issued {
    ec_pkcs8_key(dir, "ca.key");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-key",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=weir test CA",
        ],
    );
    ec_pkcs8_key(dir, "server.key");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(dir.join("names.ext"), format!("{SERVER_NAMES}\n")).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "names.ext",
        ],
    );
    let chain = format!(
        "{}{}",
        text(&dir.join("server.pem")),
        text(&dir.join("ca.pem"))
    );
    std::fs::write(dir.join("chain.pem"), chain).unwrap();
    Issued {
        ca: dir.join("ca.pem"),
        chain: dir.join("chain.pem"),
        key: dir.join("server.key"),
    }
}

/// Serves a one-route app on a loopback [`TlsListener`]; its address.
async fn serve(config: Arc<rustls::ServerConfig>, handshake_timeout: Duration) -> SocketAddr {
    serve_limited(config, handshake_timeout, MAX_HANDSHAKES).await
}

async fn serve_limited(
    config: Arc<rustls::ServerConfig>,
    handshake_timeout: Duration,
    at_once: usize,
) -> SocketAddr {
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = tcp.local_addr().unwrap();
    let listener = TlsListener::new(tcp, config).with_handshake_limits(handshake_timeout, at_once);
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello over TLS" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// One HTTPS GET of `/`, trusting `ca` alone; the response's text.
async fn get(address: SocketAddr, ca: &Path) -> std::io::Result<String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(address).await?;
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    tls.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::test]
async fn serves_a_chain_that_a_client_trusting_the_ca_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let issued = issued_by_a_ca(dir.path());
    let address = serve(
        server_config(&issued.chain, &issued.key).unwrap(),
        HANDSHAKE_TIMEOUT,
    )
    .await;
    let response = get(address, &issued.ca).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("hello over TLS"), "{response}");

    // A client that trusts another CA refuses the server, which keeps serving others.
    let stranger = tempfile::tempdir().unwrap();
    let other = issued_by_a_ca(stranger.path());
    let refused = get(address, &other.ca).await.unwrap_err();
    assert!(
        refused.to_string().contains("invalid peer certificate"),
        "{refused}"
    );
    assert!(get(address, &issued.ca).await.is_ok());
}

#[tokio::test]
async fn a_silent_client_keeps_no_one_else_out_and_is_dropped_after_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let issued = issued_by_a_ca(dir.path());
    // Long enough that a loaded machine serves the other client well within it.
    let limit = Duration::from_secs(3);
    let address = serve(server_config(&issued.chain, &issued.key).unwrap(), limit).await;

    // Connected, sending nothing: the handshake waits for it off the accept loop.
    let mut silent = TcpStream::connect(address).await.unwrap();
    let mut half_hello = TcpStream::connect(address).await.unwrap();
    half_hello.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    let started = Instant::now();
    let response = get(address, &issued.ca).await.unwrap();
    assert!(response.ends_with("hello over TLS"), "{response}");
    assert!(
        started.elapsed() < limit,
        "another client waited for the silent ones: {:?}",
        started.elapsed()
    );

    // Past the limit the server hangs up on both.
    for stream in [&mut silent, &mut half_hello] {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("the server hangs up on a silent client");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    assert!(started.elapsed() >= limit);
}

#[tokio::test]
async fn past_the_bound_on_handshakes_clients_wait_their_turn() {
    let dir = tempfile::tempdir().unwrap();
    let issued = issued_by_a_ca(dir.path());
    let limit = Duration::from_millis(400);
    let address = serve_limited(server_config(&issued.chain, &issued.key).unwrap(), limit, 1).await;
    // The one handshake slot is taken by a client that says nothing…
    let _silent = TcpStream::connect(address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // …so the next one is served once the silent one's time is up, not before.
    let started = Instant::now();
    let response = get(address, &issued.ca).await.unwrap();
    assert!(response.ends_with("hello over TLS"), "{response}");
    let waited = started.elapsed();
    assert!(
        waited >= limit - Duration::from_millis(100) && waited < limit + Duration::from_secs(5),
        "waited {waited:?}"
    );
}

#[tokio::test]
async fn plain_http_on_the_https_port_is_told_to_use_https() {
    let dir = tempfile::tempdir().unwrap();
    let issued = issued_by_a_ca(dir.path());
    let address = serve(
        server_config(&issued.chain, &issued.key).unwrap(),
        HANDSHAKE_TIMEOUT,
    )
    .await;
    let mut plain = TcpStream::connect(address).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    plain.read_to_string(&mut response).await.unwrap();
    assert!(
        response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{response}"
    );
    assert!(
        response.ends_with("This weir server speaks HTTPS: use an https:// URL.\n"),
        "{response}"
    );
    assert!(get(address, &issued.ca).await.is_ok());
}
