//! The cost of authentication: the time to verify one request, printed, with the share of its
//! parts (signing key derivation, payload hash). Ignored by default; run it by name:
//! `cargo nextest run --workspace --run-ignored only --no-capture -E 'test(/verify_cost/)'`.
//! It runs in the test profile (weir's code unoptimized, `ring` at opt-level 1 with its own
//! assembly), so the figures are an upper bound of a release build's.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};

use super::super::{canonical, signing};
use super::{SUITE_KEY, SUITE_SECRET, sign_by_hand, suite_scope, suite_time};
use crate::auth::sigv4::{SignedRequest, verify};

/// A request like the AWS CLI's, with the body given, signed with the suite's key pair.
fn signed_request(body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    headers.insert(
        "x-amz-target",
        HeaderValue::from_static("AWSStepFunctions.StartExecution"),
    );
    headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
    let signed: Vec<String> = ["content-type", "host", "x-amz-date", "x-amz-target"]
        .map(str::to_owned)
        .to_vec();
    let canonical_request = canonical::request(
        "POST",
        "/",
        None,
        &headers,
        &signed,
        &signing::sha256_hex(body),
    );
    let signature = sign_by_hand(
        &String::from_utf8_lossy(&canonical_request),
        "20150830T123600Z",
        "20150830/us-east-1/service/aws4_request",
        SUITE_SECRET,
    );
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={SUITE_KEY}/20150830/us-east-1/service/aws4_request, \
         SignedHeaders={}, Signature={signature}",
        signed.join(";")
    );
    headers.insert(
        "authorization",
        HeaderValue::from_str(&authorization).expect("a header"),
    );
    headers
}

fn per_call(iterations: u32, mut call: impl FnMut()) -> Duration {
    call();
    let start = Instant::now();
    for _ in 0..iterations {
        call();
    }
    start.elapsed() / iterations
}

#[test]
#[ignore = "prints figures; run by name"]
fn verify_cost() {
    for (label, size, iterations) in [
        ("StartExecution-like, 300 B body", 300, 20_000),
        ("PutRecords-like, 64 KiB body", 64 << 10, 2_000),
        ("PutRecords-like, 1 MiB body", 1 << 20, 200),
    ] {
        let body = vec![b'x'; size];
        let headers = signed_request(&body);
        let request = SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body: &body,
        };
        let scope = suite_scope();
        assert!(verify(&request, &scope, suite_time(), |_| Some(SUITE_SECRET)).is_ok());
        let whole = per_call(iterations, || {
            black_box(verify(&request, &scope, suite_time(), |_| Some(SUITE_SECRET)).is_ok());
        });
        let derivation = per_call(iterations, || {
            black_box(signing::signing_key(
                SUITE_SECRET.as_bytes(),
                "20150830",
                "us-east-1",
                "service",
            ));
        });
        let payload = per_call(iterations, || {
            black_box(signing::sha256_hex(&body));
        });
        println!(
            "sigv4 verify, {label}: {:.1} µs per request (signing key derivation {:.1} µs, \
             payload hash {:.1} µs)",
            micros(whole),
            micros(derivation),
            micros(payload),
        );
    }
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
