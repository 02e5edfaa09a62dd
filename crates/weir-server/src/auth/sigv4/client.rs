//! Signing a request, as AWS's SDKs do, for weir's own clients (`weir bench auth`, tests). It is
//! built from the verifier's canonical request, string to sign and key derivation, so what weir
//! signs and what it verifies cannot drift apart; AWS's test suite checks both.

use std::time::SystemTime;

use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::{HeaderMap, HeaderValue};

use super::{ALGORITHM, TERMINATOR, canonical, signing, string_to_sign, time};

/// A key pair and the scope it signs for.
#[derive(Clone, Copy, Debug)]
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    /// The signing name: `states`, `lambda`, …
    pub service: &'a str,
}

/// The parts of a request the signature covers besides its headers.
#[derive(Clone, Copy, Debug)]
pub struct Unsigned<'a> {
    pub method: &'a str,
    /// The path as it will be sent, percent-encoded.
    pub path: &'a str,
    /// The query as it will be sent, without the `?`.
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("a signed request needs a Host header")]
    MissingHost,
    /// The access key id, region or service holds a character a header value cannot carry.
    #[error("the {0} header cannot carry the access key id, region or service given")]
    NotAHeaderValue(&'static str),
}

/// Signs `request` at `now`: sets `X-Amz-Date`, then `Authorization` over every header `headers`
/// then holds (`Host` must be one) and the body's SHA-256. Headers added after signing (an HTTP
/// client's `Content-Length`, `User-Agent`) are not signed, which the verifier allows.
pub fn sign(
    request: &Unsigned<'_>,
    headers: &mut HeaderMap,
    signer: &Signer<'_>,
    now: SystemTime,
) -> Result<(), SignError> {
    if !headers.contains_key(HOST) {
        return Err(SignError::MissingHost);
    }
    let timestamp = time::from_system(now);
    let basic = time::basic(timestamp);
    let date = time::day(timestamp);
    headers.remove(AUTHORIZATION);
    headers.insert(
        "x-amz-date",
        HeaderValue::from_str(&basic).map_err(|_| SignError::NotAHeaderValue("X-Amz-Date"))?,
    );
    // HeaderMap's names are lowercase already; sorted, as the canonical request lists them.
    let mut signed_headers: Vec<String> = headers.keys().map(|name| name.to_string()).collect();
    signed_headers.sort_unstable();
    let canonical_request = canonical::request(
        request.method,
        request.path,
        request.query,
        headers,
        &signed_headers,
        &signing::sha256_hex(request.body),
    );
    let string_to_sign = string_to_sign(
        &canonical_request,
        timestamp,
        &date,
        signer.region,
        signer.service,
    );
    let key = signing::signing_key(
        signer.secret_access_key.as_bytes(),
        &date,
        signer.region,
        signer.service,
    );
    let authorization = format!(
        "{ALGORITHM} Credential={}/{date}/{}/{}/{TERMINATOR}, SignedHeaders={}, Signature={}",
        signer.access_key_id,
        signer.region,
        signer.service,
        signed_headers.join(";"),
        signing::signature(&key, string_to_sign.as_bytes()),
    );
    let authorization = HeaderValue::from_str(&authorization)
        .map_err(|_| SignError::NotAHeaderValue("Authorization"))?;
    headers.insert(AUTHORIZATION, authorization);
    Ok(())
}
