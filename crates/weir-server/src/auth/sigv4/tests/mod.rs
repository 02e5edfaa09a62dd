//! Tests of the verifier: AWS's own test suite (`suite.rs`), every rejection in AWS's words
//! (`errors.rs`), random and mangled input (`fuzz.rs`), requests signed by the real botocore
//! (`botocore.rs`), the signer weir's clients use (`sign.rs`), and the cost of one verification
//! (`cost.rs`, ignored: run it by name).

mod botocore;
mod cost;
mod errors;
mod fuzz;
mod sign;
mod suite;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use ring::{digest, hmac};

use super::{Expected, SigV4Error, SignedRequest, VerifiedKey};

/// The key pair of AWS's SigV4 test suite.
pub(super) const SUITE_KEY: &str = "AKIDEXAMPLE";
pub(super) const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// 2015-08-30T12:36:00Z, the time the suite's requests were signed at.
pub(super) fn suite_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

pub(super) fn at(base: SystemTime, offset_seconds: i64) -> SystemTime {
    let offset = Duration::from_secs(offset_seconds.unsigned_abs());
    if offset_seconds >= 0 {
        base + offset
    } else {
        base - offset
    }
}

/// The suite signs for region `us-east-1` and service `service`.
pub(super) fn suite_scope() -> Expected<'static> {
    Expected {
        service: "service",
        region: "us-east-1",
        unsigned_payload: false,
    }
}

/// An HTTP request as the test suite writes it: `METHOD TARGET HTTP/1.1`, `Name:value` lines (a
/// line starting with spaces continues the header above with one more value), a blank line and
/// the body.
#[derive(Clone, Debug)]
pub(super) struct Raw {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Raw {
    pub(super) fn parse(text: &str) -> Raw {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut lines = head.lines();
        let request_line = lines.next().expect("a request line");
        let (method, rest) = request_line.split_once(' ').expect("a method");
        let target = rest.strip_suffix(" HTTP/1.1").expect("HTTP/1.1");
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (target, None),
        };
        let mut headers = HeaderMap::new();
        let mut last: Option<HeaderName> = None;
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let name = last.clone().expect("a header to continue");
                headers.append(name, value(line.trim()));
            } else {
                let (name, text) = line.split_once(':').expect("name:value");
                let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
                // HTTP drops the whitespace around a header's value.
                headers.append(name.clone(), value(text.trim_matches([' ', '\t'])));
                last = Some(name);
            }
        }
        Raw {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    pub(super) fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }

    pub(super) fn set(&mut self, name: &'static str, text: &str) -> &mut Raw {
        self.headers.insert(name, value(text));
        self
    }

    pub(super) fn remove(&mut self, name: &'static str) -> &mut Raw {
        self.headers.remove(name);
        self
    }

    /// Verifies with the suite's key pair.
    pub(super) fn verify(
        &self,
        expected: &Expected<'_>,
        now: SystemTime,
    ) -> Result<VerifiedKey, SigV4Error> {
        super::verify(&self.signed(), expected, now, |key| {
            (key == SUITE_KEY).then_some(SUITE_SECRET)
        })
    }
}

pub(super) fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("a header value")
}

/// A signature computed here from a canonical request written out by hand, with `ring` alone,
/// so a test can sign what the suite does not cover without trusting the code under test.
pub(super) fn sign_by_hand(
    canonical_request: &str,
    timestamp: &str,
    scope: &str,
    secret: &str,
) -> String {
    let hashed = hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref());
    let string_to_sign = format!("AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n{hashed}");
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in scope.split('/') {
        key = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), part.as_bytes())
            .as_ref()
            .to_vec();
    }
    hex(hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &key),
        string_to_sign.as_bytes(),
    )
    .as_ref())
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
