//! AWS's Signature Version 4 test suite (the `aws-sig-v4-test-suite` AWS published with the
//! General Reference, as vendored in bazelbuild/bazel `third_party/aws-sig-v4-test-suite`): each
//! `.sreq` is a request signed with the suite's key pair at 20150830T123600Z for `us-east-1` and
//! `service`. Every one must verify, and fail with another secret.

use super::super::canonical;
use super::{Raw, SUITE_KEY, suite_scope, suite_time};
use crate::auth::sigv4::{Rejection, verify};

const AUTH_PREFIX: &str = "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

/// (name, signed request) for every `.sreq` of the suite but `post-sts-header-after` (its token
/// is added after signing, which weir refuses anyway; `errors.rs` covers session tokens).
pub(super) fn vectors() -> Vec<(&'static str, String)> {
    let get = |target: &str, signed: &str, signature: &str| {
        format!(
            "GET {target} HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\
             {AUTH_PREFIX}, SignedHeaders={signed}, Signature={signature}"
        )
    };
    let plain = |target: &str, signature: &str| get(target, "host;x-amz-date", signature);
    vec![
        (
            "get-header-key-duplicate",
            format!(
                "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\n\
                 My-Header1:value1\nX-Amz-Date:20150830T123600Z\n{AUTH_PREFIX}, \
                 SignedHeaders=host;my-header1;x-amz-date, \
                 Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
            ),
        ),
        (
            "get-header-value-multiline",
            format!(
                "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\n  value2\n     value3\n\
                 X-Amz-Date:20150830T123600Z\n{AUTH_PREFIX}, SignedHeaders=host;my-header1;x-amz-date, \
                 Signature=ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790"
            ),
        ),
        (
            "get-header-value-order",
            format!(
                "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\n\
                 My-Header1:value3\nMy-Header1:value2\nX-Amz-Date:20150830T123600Z\n{AUTH_PREFIX}, \
                 SignedHeaders=host;my-header1;x-amz-date, \
                 Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"
            ),
        ),
        (
            "get-header-value-trim",
            format!(
                "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\n\
                 My-Header2: \"a   b   c\"\nX-Amz-Date:20150830T123600Z\n{AUTH_PREFIX}, \
                 SignedHeaders=host;my-header1;my-header2;x-amz-date, \
                 Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
            ),
        ),
        (
            "get-unreserved",
            plain(
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
            ),
        ),
        (
            "get-utf8",
            plain(
                "/ሴ",
                "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            ),
        ),
        (
            "get-vanilla",
            plain(
                "/",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ),
        (
            "get-vanilla-empty-query-key",
            plain(
                "/?Param1=value1",
                "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
            ),
        ),
        (
            "get-vanilla-query-order-key-case",
            plain(
                "/?Param2=value2&Param1=value1",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
        ),
        (
            "get-vanilla-query-order-key",
            plain(
                "/?Param1=value2&Param1=Value1",
                "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
            ),
        ),
        (
            "get-vanilla-query-order-value",
            plain(
                "/?Param1=value2&Param1=value1",
                "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694",
            ),
        ),
        (
            "get-vanilla-query-unreserved",
            plain(
                "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=\
                 -._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
            ),
        ),
        (
            "get-vanilla-utf8-query",
            plain(
                "/?ሴ=bar",
                "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            ),
        ),
        (
            "normalize-path/get-relative",
            plain(
                "/example/..",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ),
        (
            "normalize-path/get-relative-relative",
            plain(
                "/example1/example2/../..",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ),
        (
            "normalize-path/get-slash",
            plain(
                "//",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ),
        (
            "normalize-path/get-slash-dot-slash",
            plain(
                "/./",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ),
        (
            "normalize-path/get-slash-pointless-dot",
            plain(
                "/./example",
                "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
            ),
        ),
        (
            "normalize-path/get-slashes",
            plain(
                "//example//",
                "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
            ),
        ),
        (
            "normalize-path/get-space",
            plain(
                "/example space/",
                "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
            ),
        ),
        (
            "post-header-key-sort",
            format!(
                "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\n\
                 X-Amz-Date:20150830T123600Z\n{AUTH_PREFIX}, SignedHeaders=host;my-header1;x-amz-date, \
                 Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"
            ),
        ),
        (
            "post-header-value-case",
            format!(
                "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:VALUE1\n\
                 X-Amz-Date:20150830T123600Z\n{AUTH_PREFIX}, SignedHeaders=host;my-header1;x-amz-date, \
                 Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"
            ),
        ),
        ("post-vanilla", post_vanilla()),
        (
            "post-vanilla-empty-query-value",
            format!(
                "POST /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\
                 {AUTH_PREFIX}, SignedHeaders=host;x-amz-date, \
                 Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
            ),
        ),
        (
            "post-x-www-form-urlencoded",
            format!(
                "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\n\
                 Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n{AUTH_PREFIX}, \
                 SignedHeaders=content-type;host;x-amz-date, \
                 Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a\n\nParam1=value1"
            ),
        ),
        (
            "post-x-www-form-urlencoded-parameters",
            format!(
                "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded; charset=utf8\n\
                 Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n{AUTH_PREFIX}, \
                 SignedHeaders=content-type;host;x-amz-date, \
                 Signature=1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe\n\nParam1=value1"
            ),
        ),
    ]
}

/// `post-vanilla.sreq`, the base the error tests change one thing of.
pub(in crate::auth::sigv4) fn post_vanilla() -> String {
    format!(
        "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n{AUTH_PREFIX}, \
         SignedHeaders=host;x-amz-date, \
         Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    )
}

/// `post-sts-header-before.sreq`: the session token is signed.
pub(in crate::auth::sigv4) fn post_sts_header_before() -> String {
    format!(
        "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\
         X-Amz-Security-Token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKW\
         HGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZ\
         ampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iP\
         PkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==\n\
         {AUTH_PREFIX}, SignedHeaders=host;x-amz-date;x-amz-security-token, \
         Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
    )
}

#[test]
fn every_suite_request_verifies_with_the_suite_key() {
    for (name, text) in vectors() {
        let raw = Raw::parse(&text);
        let verified = raw.verify(&suite_scope(), suite_time());
        assert_eq!(
            verified.map(|key| key.access_key_id),
            Ok(SUITE_KEY.to_owned()),
            "{name}"
        );
    }
}

#[test]
fn every_suite_request_fails_with_another_secret() {
    for (name, text) in vectors() {
        let raw = Raw::parse(&text);
        let error = verify(&raw.signed(), &suite_scope(), suite_time(), |_| {
            Some("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz")
        })
        .expect_err(name);
        assert_eq!(error.rejection(), Rejection::InvalidSignature, "{name}");
    }
}

/// The suite's `.creq` files: what the canonical request must be, byte for byte.
#[test]
fn canonical_requests_match_the_suite() {
    let cases = [
        (
            "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\n  value2\n     value3\n\
             X-Amz-Date:20150830T123600Z\n\n"
                .to_owned(),
            "host;my-header1;x-amz-date",
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1,value2,value3\n\
             x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "GET /?Param1=value2&Param1=Value1 HTTP/1.1\nHost:example.amazonaws.com\n\
             X-Amz-Date:20150830T123600Z\n\n"
                .to_owned(),
            "host;x-amz-date",
            "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\n\
             x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\n\
             Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\nParam1=value1"
                .to_owned(),
            "content-type;host;x-amz-date",
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n\
             x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n\
             9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
        ),
    ];
    for (text, signed, expected) in cases {
        let raw = Raw::parse(&text);
        let signed: Vec<String> = signed.split(';').map(str::to_owned).collect();
        let payload_hash = super::super::signing::sha256_hex(&raw.body);
        let canonical = canonical::request(
            &raw.method,
            &raw.path,
            raw.query.as_deref(),
            &raw.headers,
            &signed,
            &payload_hash,
        );
        assert_eq!(String::from_utf8(canonical).as_deref(), Ok(expected));
    }
}

/// Non-S3 services encode the path as sent once more: botocore signs Lambda's
/// `functions/arn%3Aaws%3A…` as `functions/arn%253Aaws%253A…` (as AWS's canonical strings show in
/// aws/aws-sdk-go#248).
#[test]
fn paths_are_encoded_twice_and_queries_once() {
    assert_eq!(
        canonical::uri(
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations"
        ),
        "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A1%253Afunction%253Af/invocations"
    );
    assert_eq!(canonical::uri(""), "/");
    assert_eq!(canonical::uri("/a/./b/../../c/"), "/c/");
    assert_eq!(
        canonical::query_string("Qualifier=%24LATEST&b&a=x%2Fy+z&a=%zz"),
        "Qualifier=%24LATEST&a=%25zz&a=x%2Fy%2Bz&b="
    );
}
