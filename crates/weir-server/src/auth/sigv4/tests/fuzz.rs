//! Random and mangled input: the verifier never panics, answers every rejection with the
//! service's status, and accepts nothing it should not.

use axum::http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

use super::super::canonical;
use super::suite::post_vanilla;
use super::{Raw, SUITE_KEY, SUITE_SECRET, suite_scope, suite_time};
use crate::auth::sigv4::{Expected, Rejection, SignedRequest, verify};

/// Any bytes a header value may hold: tab, visible ASCII and space, and bytes above 0x7f.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff],
        0..300,
    )
}

/// Headers assembled from SigV4's own pieces, to reach the checks past the parser.
fn sigv4_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("AWS4-HMAC-SHA256 ".to_owned()),
        Just("Credential=".to_owned()),
        Just("SignedHeaders=".to_owned()),
        Just("Signature=".to_owned()),
        Just(", ".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("/".to_owned()),
        Just(";".to_owned()),
        Just("=".to_owned()),
        Just("host".to_owned()),
        Just("x-amz-date".to_owned()),
        Just("AKIDEXAMPLE".to_owned()),
        Just("20150830".to_owned()),
        Just("us-east-1".to_owned()),
        Just("service".to_owned()),
        Just("aws4_request".to_owned()),
        Just("5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b".to_owned()),
        "[ -~]{0,12}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

fn date() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"20150830T123600Z".to_vec()),
        "[0-9]{8}T[0-9]{6}Z".prop_map(String::into_bytes),
        header_bytes(),
    ]
}

/// Verifies a request built from the given parts; every answer must be well-formed.
fn check_answer(
    authorization: &[u8],
    date: &[u8],
    path: &str,
    query: Option<&str>,
    body: &[u8],
    lambda: bool,
) -> Result<(), TestCaseError> {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
    if let Ok(value) = HeaderValue::from_bytes(authorization) {
        headers.insert("authorization", value);
    }
    if let Ok(value) = HeaderValue::from_bytes(date) {
        headers.insert("x-amz-date", value);
    }
    let request = SignedRequest {
        method: "POST",
        path,
        query,
        headers: &headers,
        body,
    };
    let expected = Expected {
        service: if lambda { "lambda" } else { "service" },
        ..suite_scope()
    };
    match verify(&request, &expected, suite_time(), |key| {
        (key == SUITE_KEY).then_some(SUITE_SECRET)
    }) {
        Ok(key) => prop_assert_eq!(key.access_key_id, SUITE_KEY),
        Err(error) => {
            prop_assert_eq!(error.status().as_u16(), if lambda { 403 } else { 400 });
            prop_assert!(!error.message().is_empty());
            prop_assert!(error.code().ends_with("Exception"));
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_headers_never_panic(
        authorization in header_bytes(),
        date in date(),
        path in "\\PC{0,40}",
        query in proptest::option::of("\\PC{0,40}"),
        body in prop::collection::vec(any::<u8>(), 0..64),
        lambda in any::<bool>(),
    ) {
        check_answer(&authorization, &date, &path, query.as_deref(), &body, lambda)?;
    }

    #[test]
    fn mangled_sigv4_headers_never_panic(
        authorization in sigv4_like(),
        date in date(),
        path in prop_oneof![Just("/".to_owned()), "[/a-z%.0-9]{0,20}"],
        lambda in any::<bool>(),
    ) {
        check_answer(authorization.as_bytes(), &date, &path, None, b"", lambda)?;
    }

    #[test]
    fn canonical_forms_of_any_path_and_query_never_panic(
        path in "\\PC{0,60}",
        query in "\\PC{0,60}",
    ) {
        let uri = canonical::uri(&path);
        prop_assert!(uri.is_ascii());
        prop_assert!(canonical::query_string(&query).is_ascii());
    }

    /// The canonical query does not depend on the order the parameters were sent in.
    #[test]
    fn query_order_does_not_matter(
        pairs in prop::collection::vec("[a-zA-Z0-9%+~ ]{0,6}=[a-zA-Z0-9%+~ ]{0,6}", 0..8)
            .prop_shuffle()
            .prop_flat_map(|pairs| (Just(pairs.clone()), Just(pairs).prop_shuffle())),
    ) {
        let (sent, shuffled) = pairs;
        prop_assert_eq!(
            canonical::query_string(&sent.join("&")),
            canonical::query_string(&shuffled.join("&"))
        );
    }

    /// Any body but the signed one fails the signature.
    #[test]
    fn a_different_body_never_verifies(body in prop::collection::vec(any::<u8>(), 1..256)) {
        let mut raw = Raw::parse(&post_vanilla());
        raw.body = body;
        let error = raw.verify(&suite_scope(), suite_time()).err();
        prop_assert_eq!(error.map(|error| error.rejection()), Some(Rejection::InvalidSignature));
    }
}
