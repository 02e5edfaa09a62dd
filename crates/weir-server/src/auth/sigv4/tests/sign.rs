//! The signer: it signs AWS's test suite exactly as the suite does, and whatever it signs the
//! verifier accepts, and nothing else.

use std::time::SystemTime;

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

use super::suite::vectors;
use super::{Raw, SUITE_KEY, SUITE_SECRET, at, suite_scope, suite_time};
use crate::auth::sigv4::{Expected, Rejection, SignError, Signer, Unsigned, sign, verify};

fn suite_signer() -> Signer<'static> {
    Signer {
        access_key_id: SUITE_KEY,
        secret_access_key: SUITE_SECRET,
        region: "us-east-1",
        service: "service",
    }
}

fn unsigned(raw: &Raw) -> Unsigned<'_> {
    Unsigned {
        method: &raw.method,
        path: &raw.path,
        query: raw.query.as_deref(),
        body: &raw.body,
    }
}

#[test]
fn the_suite_is_signed_as_the_suite_signs_it() {
    for (name, text) in vectors() {
        let raw = Raw::parse(&text);
        let mut headers = raw.headers.clone();
        headers.remove(AUTHORIZATION);
        sign(&unsigned(&raw), &mut headers, &suite_signer(), suite_time()).expect(name);
        assert_eq!(
            headers.get(AUTHORIZATION),
            raw.headers.get(AUTHORIZATION),
            "{name}"
        );
        assert_eq!(headers.get("x-amz-date"), raw.headers.get("x-amz-date"));
    }
}

#[test]
fn a_request_without_host_is_not_signed() {
    let mut headers = HeaderMap::new();
    let request = Unsigned {
        method: "POST",
        path: "/",
        query: None,
        body: b"",
    };
    assert_eq!(
        sign(&request, &mut headers, &suite_signer(), suite_time()),
        Err(SignError::MissingHost)
    );
    assert!(headers.is_empty());
}

#[test]
fn a_key_id_no_header_can_carry_is_an_error() {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1"));
    let request = Unsigned {
        method: "GET",
        path: "/",
        query: None,
        body: b"",
    };
    let signer = Signer {
        access_key_id: "AKID\nEXAMPLE",
        ..suite_signer()
    };
    assert_eq!(
        sign(&request, &mut headers, &signer, suite_time()),
        Err(SignError::NotAHeaderValue("Authorization"))
    );
}

/// Header names besides `host`: some an SDK signs, one that repeats.
fn header_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("content-type"),
        Just("x-amz-target"),
        Just("my-header1"),
        Just("x-weir-anything"),
    ]
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff], 0..40)
}

fn signed_request(
    path: &str,
    query: Option<&str>,
    body: &[u8],
    extra: &[(&'static str, Vec<u8>)],
    when: SystemTime,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(HeaderName::from_static(name), value);
        }
    }
    let request = Unsigned {
        method: "POST",
        path,
        query,
        body,
    };
    sign(&request, &mut headers, &suite_signer(), when).expect("signed");
    headers
}

fn verified(
    headers: &HeaderMap,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    expected: &Expected<'_>,
    now: SystemTime,
    secret: &str,
) -> Result<String, Rejection> {
    let request = crate::auth::sigv4::SignedRequest {
        method: "POST",
        path,
        query,
        headers,
        body,
    };
    verify(&request, expected, now, |key| {
        (key == SUITE_KEY).then_some(secret)
    })
    .map(|key| key.access_key_id)
    .map_err(|error| error.rejection())
}

proptest! {
    /// Any path, query, body and headers the signer signs verify, within the clock skew.
    #[test]
    fn what_is_signed_verifies(
        path in "\\PC{0,40}",
        query in proptest::option::of("\\PC{0,40}"),
        body in prop::collection::vec(any::<u8>(), 0..128),
        extra in prop::collection::vec((header_name(), header_value()), 0..5),
        skew in -900i64..=900,
    ) {
        let when = suite_time();
        let headers = signed_request(&path, query.as_deref(), &body, &extra, when);
        prop_assert_eq!(
            verified(&headers, &path, query.as_deref(), &body, &suite_scope(), at(when, skew), SUITE_SECRET),
            Ok(SUITE_KEY.to_owned())
        );
    }

    /// Another secret, another body or another path fails the signature; another service is
    /// the wrong scope.
    #[test]
    fn nothing_else_verifies(
        path in "/[a-z]{0,10}",
        body in prop::collection::vec(any::<u8>(), 0..64),
        extra in prop::collection::vec((header_name(), header_value()), 0..3),
    ) {
        let when = suite_time();
        let headers = signed_request(&path, None, &body, &extra, when);
        let scope = suite_scope();
        prop_assert_eq!(
            verified(&headers, &path, None, &body, &scope, when, "another secret"),
            Err(Rejection::InvalidSignature)
        );
        let mut other_body = body.clone();
        other_body.push(b'!');
        prop_assert_eq!(
            verified(&headers, &path, None, &other_body, &scope, when, SUITE_SECRET),
            Err(Rejection::InvalidSignature)
        );
        let other_path = format!("{path}/x");
        prop_assert_eq!(
            verified(&headers, &other_path, None, &body, &scope, when, SUITE_SECRET),
            Err(Rejection::InvalidSignature)
        );
        let states = Expected { service: "states", ..scope };
        prop_assert_eq!(
            verified(&headers, &path, None, &body, &states, when, SUITE_SECRET),
            Err(Rejection::InvalidSignature)
        );
    }
}
