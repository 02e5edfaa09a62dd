//! Arbitrary `Authorization` headers, dates, paths, queries, headers and bodies into the SigV4
//! verifier, both ways the server calls it (`check` then `Claim::verify`, and `verify`): it never
//! panics, the two ways agree, and every rejection is in AWS's shape (the service's status, an
//! `…Exception` code, a message).
//!
//! An input is fields separated by NUL: flags (first byte: bits 0–1 the service, 0 `service`,
//! 1 `states`, 2–3 `lambda`; bit 2 leaves `Host` out; bits 3 and 4 send `Authorization` and
//! `X-Amz-Date`; bit 5 makes it a GET; bit 6 sends the query; bit 7 allows `UNSIGNED-PAYLOAD`;
//! second byte: the server's clock, in minutes from the suite's time, signed), `Authorization`,
//! `X-Amz-Date`, path, query, the values of [`OTHER_HEADERS`], and the body. `seeds/sigv4_verify`
//! holds requests of AWS's test suite in this layout (flags `0x18 0x00`: `service`, both headers
//! sent, the suite's time), so that the fuzzer starts past the parser, at a valid signature.

#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use weir_fuzz::{append_headers, fields};
use weir_server::auth::sigv4::{self, Expected, SigV4Error, SignedRequest};

/// The key pair and time of AWS's test suite, whose requests seed the dictionary.
const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_TIME: u64 = 1_440_938_160;

/// Headers the input sets besides `Authorization` and `X-Amz-Date`, one field each.
const OTHER_HEADERS: [&str; 5] = [
    "date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "x-amz-target",
    "my-header1",
];

fuzz_target!(|data: &[u8]| {
    // Flags, Authorization, X-Amz-Date, path, query, the other headers, and the body.
    let fields = fields(data, 6 + OTHER_HEADERS.len());
    let [flags, authorization, date, path, query] = [0, 1, 2, 3, 4].map(|index| fields[index]);
    let flag = |bit: u8| flags.first().is_some_and(|byte| byte & (1 << bit) != 0);
    let mut headers = HeaderMap::new();
    if !flag(2) {
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
    }
    if flag(3)
        && let Ok(value) = HeaderValue::from_bytes(authorization)
    {
        headers.insert("authorization", value);
    }
    if flag(4)
        && let Ok(value) = HeaderValue::from_bytes(date)
    {
        headers.insert("x-amz-date", value);
    }
    append_headers(&mut headers, &OTHER_HEADERS, &fields[5..]);
    let body = fields[5 + OTHER_HEADERS.len()];
    let path = String::from_utf8_lossy(path);
    let query = String::from_utf8_lossy(query);
    let request = SignedRequest {
        method: if flag(5) { "GET" } else { "POST" },
        path: &path,
        query: flag(6).then_some(&*query),
        headers: &headers,
        body,
    };
    let service = match flags.first().map(|byte| byte & 0b11) {
        Some(1) => "states",
        Some(2) => "lambda",
        _ => "service",
    };
    let expected = Expected {
        service,
        region: "us-east-1",
        unsigned_payload: flag(7),
    };
    // Up to about two hours either side of the suite's time, so the skew checks both pass and fail.
    let offset = i64::from(flags.get(1).map_or(0, |byte| *byte as i8)) * 60;
    let now = UNIX_EPOCH + Duration::from_secs(SUITE_TIME.saturating_add_signed(offset));

    let staged = sigv4::check(&request, &expected, now).and_then(|claim| {
        let known = claim.access_key_id() == KEY;
        claim.verify(known.then_some(SECRET.as_bytes()))
    });
    let whole = sigv4::verify(&request, &expected, now, |key| {
        (key == KEY).then_some(SECRET)
    });
    assert_eq!(staged, whole);
    if let Err(error) = whole {
        assert_aws_shape(&error, service);
    }
});

fn assert_aws_shape(error: &SigV4Error, service: &str) {
    let status = if service == "lambda" { 403 } else { 400 };
    assert_eq!(error.status().as_u16(), status, "{error:?}");
    assert!(error.code().ends_with("Exception"), "{error:?}");
    assert!(!error.message().is_empty(), "{error:?}");
}
