//! Every rejection, with AWS's code, status and message word for word, each from a suite request
//! changed in one way; the clock skew window's edges; the checks' order.

use std::time::SystemTime;

use axum::http::HeaderValue;

use super::suite::{post_sts_header_before, post_vanilla};
use super::{Raw, SUITE_KEY, SUITE_SECRET, at, sign_by_hand, suite_scope, suite_time};
use crate::auth::sigv4::{Expected, Rejection, SigV4Error, check, verify};

const SIGNATURE: &str = "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b";
const CREDENTIAL: &str = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

fn authorization(credential: &str, signed_headers: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={SIGNATURE}"
    )
}

/// `post-vanilla` with one change.
fn post(change: impl FnOnce(&mut Raw)) -> Raw {
    let mut raw = Raw::parse(&post_vanilla());
    change(&mut raw);
    raw
}

/// `post-vanilla` with another `Authorization` header.
fn with_authorization(header: &str) -> Raw {
    post(|raw| {
        raw.set("authorization", header);
    })
}

fn rejected(raw: &Raw, expected: &Expected<'_>, now: SystemTime) -> SigV4Error {
    raw.verify(expected, now).expect_err("a rejection")
}

/// (status, code, message) of a rejection.
fn described(error: &SigV4Error) -> (u16, &'static str, String) {
    (
        error.status().as_u16(),
        error.code(),
        error.message().to_owned(),
    )
}

/// (status, code, message) of the suite request's rejection at the suite's time.
fn answer(raw: &Raw) -> (u16, &'static str, String) {
    described(&rejected(raw, &suite_scope(), suite_time()))
}

/// The suite's scope, answered as Lambda answers (403).
fn lambda() -> Expected<'static> {
    Expected {
        service: "lambda",
        ..suite_scope()
    }
}

#[test]
fn no_authorization_header() {
    let raw = post(|raw| {
        raw.remove("authorization");
    });
    assert_eq!(
        answer(&raw),
        (
            400,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".to_owned()
        )
    );
    // Lambda's REST API answers 403.
    let error = rejected(&raw, &lambda(), suite_time());
    assert_eq!(
        (error.status().as_u16(), error.code()),
        (403, "MissingAuthenticationTokenException")
    );
}

#[test]
fn presigned_queries_are_not_accepted() {
    let mut raw = post(|raw| {
        raw.remove("authorization");
    });
    raw.query = Some("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00".to_owned());
    assert_eq!(answer(&raw).1, "MissingAuthenticationTokenException");

    let mut both = post(|_| {});
    both.query = Some("X-Amz-Algorithm=AWS4-HMAC-SHA256".to_owned());
    assert_eq!(
        answer(&both),
        (
            400,
            "InvalidSignatureException",
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
                .to_owned()
        )
    );
}

#[test]
fn missing_parameters_and_date_are_listed_together() {
    // kinesalite's test of Kinesis: `Authorization: X` and no date header.
    let mut raw = with_authorization("X");
    raw.remove("x-amz-date");
    assert_eq!(
        answer(&raw),
        (
            400,
            "IncompleteSignatureException",
            "Authorization header requires 'Credential' parameter. \
             Authorization header requires 'Signature' parameter. \
             Authorization header requires 'SignedHeaders' parameter. \
             Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
             Authorization=X"
                .to_owned()
        )
    );
    // Pairs may be separated by spaces as well as commas.
    let mut raw = with_authorization("AWS4- Signature=b Credential=a");
    raw.set("date", "a").remove("x-amz-date");
    assert_eq!(
        answer(&raw).2,
        "Authorization header requires 'SignedHeaders' parameter. \
         Authorization=AWS4- Signature=b Credential=a"
    );
    let raw = post(|raw| {
        raw.remove("x-amz-date");
    });
    assert_eq!(
        answer(&raw).2,
        format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
             Authorization={}",
            authorization(CREDENTIAL, "host;x-amz-date")
        )
    );
}

#[test]
fn a_pair_without_equal_sign() {
    // A space after `Credential=` (a pasted key) leaves the scope standing alone.
    let header = authorization(
        " AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
        "host;x-amz-date",
    );
    let raw = with_authorization(&header);
    assert_eq!(
        answer(&raw),
        (
            400,
            "IncompleteSignatureException",
            format!(
                "'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request' not a valid key=value pair \
                 (missing equal-sign) in Authorization header: '{header}'."
            )
        )
    );
    // A bearer token sent to an AWS endpoint.
    let raw = with_authorization("Bearer abc.def");
    assert_eq!(
        answer(&raw).2,
        "'abc.def' not a valid key=value pair (missing equal-sign) in Authorization header: \
         'Bearer abc.def'."
    );
}

#[test]
fn a_date_that_is_no_date() {
    let raw = post(|raw| {
        raw.set("x-amz-date", "201");
    });
    assert_eq!(
        answer(&raw),
        (
            400,
            "IncompleteSignatureException",
            "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601"
                .to_owned()
        )
    );
    // X-Amz-Date takes ISO-8601 basic format only; an HTTP date belongs in `Date`.
    let raw = post(|raw| {
        raw.set("x-amz-date", "Sun, 30 Aug 2015 12:36:00 GMT");
    });
    assert_eq!(answer(&raw).1, "IncompleteSignatureException");
    let raw = post(|raw| {
        raw.set("x-amz-date", "20150230T123600Z");
    });
    assert_eq!(answer(&raw).1, "IncompleteSignatureException");
}

#[test]
fn the_skew_window_accepts_its_edges_and_nothing_beyond() {
    let raw = post(|_| {});
    let scope = suite_scope();
    assert!(raw.verify(&scope, at(suite_time(), 15 * 60)).is_ok());
    assert!(raw.verify(&scope, at(suite_time(), -15 * 60)).is_ok());

    let late = rejected(&raw, &scope, at(suite_time(), 15 * 60 + 1));
    assert_eq!(
        (late.status().as_u16(), late.code(), late.message()),
        (
            400,
            "InvalidSignatureException",
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
             (20150830T125101Z - 15 min.)"
        )
    );
    let early = rejected(&raw, &scope, at(suite_time(), -15 * 60 - 1));
    assert_eq!(
        (early.code(), early.message()),
        (
            "InvalidSignatureException",
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z \
             (20150830T122059Z + 15 min.)"
        )
    );
    // A day late: the signature is old, whatever else is wrong with the request.
    let old_and_unsigned_host = with_authorization(&authorization(CREDENTIAL, "x-amz-date"));
    let error = rejected(&old_and_unsigned_host, &scope, at(suite_time(), 86_400));
    assert!(
        error.message().starts_with("Signature expired: "),
        "{error}"
    );
}

#[test]
fn host_must_be_signed() {
    let raw = with_authorization(&authorization(CREDENTIAL, "x-amz-date"));
    assert_eq!(
        answer(&raw),
        (
            400,
            "InvalidSignatureException",
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned()
        )
    );
}

#[test]
fn only_aws4_hmac_sha256() {
    let header = authorization(
        "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
        "host;x-amz-date",
    )
    .replacen("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1);
    let raw = with_authorization(&header);
    assert_eq!(
        answer(&raw),
        (
            400,
            "IncompleteSignatureException",
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). "
                .to_owned()
        )
    );
}

#[test]
fn a_credential_has_five_elements() {
    let raw = with_authorization(&authorization("a/b/c/d", "host;x-amz-date"));
    assert_eq!(
        answer(&raw),
        (
            400,
            "IncompleteSignatureException",
            "Credential must have exactly 5 slash-delimited elements, \
             e.g. keyid/date/region/service/term, got 'a/b/c/d'"
                .to_owned()
        )
    );
    // A slash in the key id makes six.
    let credential = "AKID/EXAMPLE/20150830/us-east-1/service/aws4_request";
    let raw = with_authorization(&authorization(credential, "host;x-amz-date"));
    assert_eq!(
        answer(&raw).2,
        format!(
            "Credential must have exactly 5 slash-delimited elements, \
             e.g. keyid/date/region/service/term, got '{credential}'"
        )
    );
    // Trailing slashes are ignored: the signature still holds.
    let raw = with_authorization(&authorization(
        "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request//",
        "host;x-amz-date",
    ));
    assert!(raw.verify(&suite_scope(), suite_time()).is_ok());
}

#[test]
fn the_scope_must_name_this_region_service_terminator_and_day() {
    let raw = post(|_| {});
    let other_region = Expected {
        region: "eu-west-1",
        ..suite_scope()
    };
    let error = rejected(&raw, &other_region, suite_time());
    assert_eq!(
        described(&error),
        (
            400,
            "InvalidSignatureException",
            "Credential should be scoped to a valid region, not 'us-east-1'.".to_owned()
        )
    );
    let states = Expected {
        service: "states",
        ..suite_scope()
    };
    assert_eq!(
        rejected(&raw, &states, suite_time()).message(),
        "Credential should be scoped to correct service: 'states'."
    );
    let error = rejected(&raw, &lambda(), suite_time());
    assert_eq!(
        (error.status().as_u16(), error.message()),
        (
            403,
            "Credential should be scoped to correct service: 'lambda'."
        )
    );

    let everything_wrong = with_authorization(&authorization(
        "AKIDEXAMPLE/20150831/eu-west-1/kinesis/aws5_request",
        "host;x-amz-date",
    ));
    assert_eq!(
        answer(&everything_wrong).2,
        "Credential should be scoped to a valid region, not 'eu-west-1'. \
         Credential should be scoped to correct service: 'service'. \
         Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. \
         Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '20150831' != '20150830', from '20150830T123600Z'."
    );
}

#[test]
fn an_unknown_access_key() {
    let raw = post(|_| {});
    let error = verify(
        &raw.signed(),
        &suite_scope(),
        suite_time(),
        |_| None::<&str>,
    )
    .expect_err("unknown key");
    assert_eq!(
        described(&error),
        (
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".to_owned()
        )
    );
    let mut lambda_raw = raw.clone();
    lambda_raw.set(
        "authorization",
        &authorization(
            "AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request",
            "host;x-amz-date",
        ),
    );
    let error = verify(&lambda_raw.signed(), &lambda(), suite_time(), |_| {
        None::<&str>
    })
    .expect_err("unknown key");
    assert_eq!(
        (error.status().as_u16(), error.code()),
        (403, "UnrecognizedClientException")
    );
}

#[test]
fn a_wrong_secret_shows_what_should_have_been_signed() {
    let raw = post(|_| {});
    let error = verify(&raw.signed(), &suite_scope(), suite_time(), |_| {
        Some("not the secret")
    })
    .expect_err("wrong secret");
    assert_eq!(
        (error.status().as_u16(), error.code(), error.message()),
        (
            400,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service documentation \
             for details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\n\
             host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n\n\
             The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20150830T123600Z\n\
             20150830/us-east-1/service/aws4_request\n\
             553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87'\n"
        )
    );
}

#[test]
fn a_changed_body_or_signature_does_not_verify() {
    let body = post(|raw| raw.body = b"{}".to_vec());
    assert_eq!(answer(&body).1, "InvalidSignatureException");
    let uppercase = with_authorization(
        &authorization(CREDENTIAL, "host;x-amz-date").replace(SIGNATURE, &SIGNATURE.to_uppercase()),
    );
    assert_eq!(answer(&uppercase).1, "InvalidSignatureException");
    let short = with_authorization(
        &authorization(CREDENTIAL, "host;x-amz-date").replace(SIGNATURE, &SIGNATURE[..63]),
    );
    assert_eq!(answer(&short).1, "InvalidSignatureException");
}

#[test]
fn session_tokens_are_refused_after_the_signature() {
    // The suite's request is correctly signed, token included: the token alone is refused.
    let raw = Raw::parse(&post_sts_header_before());
    assert_eq!(
        answer(&raw),
        (
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid".to_owned()
        )
    );
    // With a wrong secret the signature is what fails.
    let error = verify(&raw.signed(), &suite_scope(), suite_time(), |_| Some("x"))
        .expect_err("wrong secret");
    assert_eq!(error.code(), "InvalidSignatureException");
}

#[test]
fn oversized_headers_are_refused_before_any_work() {
    let padded = |length: usize| {
        let base = authorization("", "host;x-amz-date");
        authorization(&"a".repeat(length - base.len()), "host;x-amz-date")
    };
    let raw = with_authorization(&padded(8193));
    assert_eq!(
        answer(&raw),
        (
            400,
            "IncompleteSignatureException",
            "The Authorization header is longer than 8192 bytes.".to_owned()
        )
    );
    // At the limit the header is read (and its one-element credential refused).
    let raw = with_authorization(&padded(8192));
    assert!(
        answer(&raw)
            .2
            .starts_with("Credential must have exactly 5 slash-delimited elements")
    );

    let many: Vec<String> = (0..100).map(|index| format!("x-h{index}")).collect();
    let raw = with_authorization(&authorization(
        CREDENTIAL,
        &format!("host;{}", many.join(";")),
    ));
    assert_eq!(
        answer(&raw),
        (
            400,
            "IncompleteSignatureException",
            "SignedHeaders names 101 headers; at most 100 can be signed.".to_owned()
        )
    );
}

#[test]
fn header_bytes_beyond_ascii_are_read_and_echoed() {
    let raw = post(|raw| {
        raw.headers.insert(
            "authorization",
            HeaderValue::from_bytes(b"AWS4-HMAC-SHA256 Credential=\xe9").expect("obs-text"),
        );
    });
    assert_eq!(
        answer(&raw).2,
        "Authorization header requires 'Signature' parameter. \
         Authorization header requires 'SignedHeaders' parameter. \
         Authorization=AWS4-HMAC-SHA256 Credential=\u{e9}"
    );
}

/// A request signed here by hand (see `sign_by_hand`) with its payload left out.
fn unsigned_payload_request() -> Raw {
    let canonical = "POST\n/\n\nhost:example.amazonaws.com\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n\
                     x-amz-date:20150830T123600Z\n\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD";
    let signature = sign_by_hand(
        canonical,
        "20150830T123600Z",
        "20150830/us-east-1/service/aws4_request",
        SUITE_SECRET,
    );
    let mut raw = post(|raw| raw.body = br#"{"any": 1}"#.to_vec());
    raw.set("x-amz-content-sha256", "UNSIGNED-PAYLOAD").set(
        "authorization",
        &format!(
            "AWS4-HMAC-SHA256 Credential={SUITE_KEY}/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}"
        ),
    );
    raw
}

#[test]
fn unsigned_payload_only_where_allowed() {
    let raw = unsigned_payload_request();
    let allowed = Expected {
        unsigned_payload: true,
        ..suite_scope()
    };
    assert!(raw.verify(&allowed, suite_time()).is_ok());
    // Everywhere else the body's own hash is signed, whatever the header claims.
    let error = rejected(&raw, &suite_scope(), suite_time());
    assert_eq!(error.code(), "InvalidSignatureException");
    let body_hash =
        super::hex(ring::digest::digest(&ring::digest::SHA256, br#"{"any": 1}"#).as_ref());
    assert!(
        error
            .message()
            .contains(&format!("x-amz-date\n{body_hash}'")),
        "{error}"
    );
}

#[test]
fn a_date_header_may_carry_the_time_instead() {
    for date in ["Sun, 30 Aug 2015 12:36:00 GMT", "20150830T123600Z"] {
        let canonical = format!(
            "POST\n/\n\ndate:{date}\nhost:example.amazonaws.com\n\ndate;host\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let signature = sign_by_hand(
            &canonical,
            "20150830T123600Z",
            "20150830/us-east-1/service/aws4_request",
            SUITE_SECRET,
        );
        let mut raw = post(|raw| {
            raw.remove("x-amz-date");
        });
        raw.set("date", date).set(
            "authorization",
            &format!(
                "AWS4-HMAC-SHA256 Credential={SUITE_KEY}/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=date;host, Signature={signature}"
            ),
        );
        assert_eq!(
            raw.verify(&suite_scope(), suite_time())
                .map(|key| key.access_key_id),
            Ok(SUITE_KEY.to_owned()),
            "{date}"
        );
    }
}

#[test]
fn check_names_the_key_before_its_secret_is_looked_up() {
    let raw = post(|_| {});
    let signed = raw.signed();
    let claim = check(&signed, &suite_scope(), suite_time()).expect("well-formed");
    assert_eq!(claim.access_key_id(), SUITE_KEY);
    assert_eq!(
        claim
            .verify(Some(SUITE_SECRET.as_bytes()))
            .map(|key| key.access_key_id),
        Ok(SUITE_KEY.to_owned())
    );
    let claim = check(&signed, &suite_scope(), suite_time()).expect("well-formed");
    assert_eq!(
        claim.verify(None).map_err(|error| error.rejection()),
        Err(Rejection::UnrecognizedClient)
    );
}
