//! What weir's signer signs, the verifier accepts within the clock skew and refuses outside it,
//! and a changed body fails the signature: for arbitrary paths, queries, header values and
//! bodies. The signer and the verifier share their canonical request; this checks that the
//! `Authorization` header the one writes is read back by the other as it was meant.

#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use weir_fuzz::{append_headers, fields};
use weir_server::auth::sigv4::{self, Expected, Rejection, SignedRequest, Signer, Unsigned};

const KEY: &str = "AKIAWEIRFUZZ00000001";
const SECRET: &str = "wEiR/fuzz+secret=0123456789abcdefghijklmn";
const NOW: u64 = 1_440_938_160;
const SKEW_SECONDS: i64 = 15 * 60;

/// Header values the input sets, one field each (two for `my-header1`, which repeats).
const HEADERS: [&str; 4] = ["content-type", "x-amz-target", "my-header1", "my-header1"];

fuzz_target!(|data: &[u8]| {
    // Flags, path, query, the headers, and the body.
    let fields = fields(data, 4 + HEADERS.len());
    let [flags, path, query] = [0, 1, 2].map(|index| fields[index]);
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    append_headers(&mut headers, &HEADERS, &fields[3..]);
    let body = fields[3 + HEADERS.len()];
    let path = String::from_utf8_lossy(path);
    let query = String::from_utf8_lossy(query);
    let query = flags
        .first()
        .is_some_and(|byte| byte & 1 != 0)
        .then_some(&*query);
    let service = if flags.first().is_some_and(|byte| byte & 2 != 0) {
        "lambda"
    } else {
        "states"
    };
    // Signed up to about 40 minutes either side of the server's time.
    let offset = i64::from(flags.get(1).map_or(0, |byte| *byte as i8)) * 20;
    let signed_at = UNIX_EPOCH + Duration::from_secs(NOW.saturating_add_signed(offset));
    let signer = Signer {
        access_key_id: KEY,
        secret_access_key: SECRET,
        region: "us-east-1",
        service,
    };
    let unsigned = Unsigned {
        method: "POST",
        path: &path,
        query,
        body,
    };
    sigv4::sign(&unsigned, &mut headers, &signer, signed_at).expect("a request with a Host signs");

    let expected = Expected {
        service,
        region: "us-east-1",
        unsigned_payload: false,
    };
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let verify = |body: &[u8]| {
        let request = SignedRequest {
            method: "POST",
            path: &path,
            query,
            headers: &headers,
            body,
        };
        sigv4::verify(&request, &expected, now, |key| {
            (key == KEY).then_some(SECRET)
        })
    };
    match verify(body) {
        Ok(key) => {
            assert_eq!(key.access_key_id, KEY);
            assert!(
                offset.abs() <= SKEW_SECONDS,
                "signed {offset} s away and accepted"
            );
            let mut changed = body.to_vec();
            changed.push(b'!');
            let error = verify(&changed).expect_err("another body verified");
            assert_eq!(error.rejection(), Rejection::InvalidSignature);
        }
        // AWS refuses a presigned query beside an Authorization header, signed or not.
        Err(error) if error.message().starts_with("Found both 'X-Amz-Algorithm'") => {}
        Err(error) => {
            assert!(
                offset.abs() > SKEW_SECONDS,
                "refused within the skew: {error:?}"
            );
            assert_eq!(error.rejection(), Rejection::InvalidSignature, "{error:?}");
        }
    }
});
