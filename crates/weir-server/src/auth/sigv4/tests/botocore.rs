//! Requests signed by the real botocore (`SigV4Auth`, what boto3 and aws-cli sign with) verify,
//! and fail with another secret, and weir's own signer writes what botocore writes. CI installs
//! boto3 (`scripts/test.sh`); without botocore these tests fail, saying so.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::auth::sigv4::{Expected, Rejection, SignedRequest, Signer, Unsigned, sign, verify};

const KEY: &str = "AKIAWEIRTESTKEY00001";
const SECRET: &str = "wEiR/secret+key=0123456789abcdefghijklmn";

/// Reads a JSON list of requests on stdin, signs each as botocore does for its service and
/// region, and prints the headers it would send (the `Host` header is the HTTP client's).
const SIGNER: &str = r#"
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

signed = []
for case in json.load(sys.stdin):
    request = AWSRequest(method=case["method"], url=case["url"],
                         data=case["body"].encode(), headers=case["headers"])
    SigV4Auth(Credentials(case["key"], case["secret"]), case["service"], case["region"]).add_auth(request)
    signed.append(dict(request.headers.items()))
print(json.dumps(signed))
"#;

struct Case {
    service: &'static str,
    region: &'static str,
    method: &'static str,
    host: &'static str,
    target: &'static str,
    headers: Value,
    body: String,
}

impl Case {
    fn path_and_query(&self) -> (&'static str, Option<&'static str>) {
        match self.target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (self.target, None),
        }
    }
}

fn cases() -> Vec<Case> {
    let records: Vec<Value> = (0..500)
        .map(|index| json!({"Data": "d2VpciByZWNvcmQgcGF5bG9hZCBieXRlcw==", "PartitionKey": format!("key-{index}")}))
        .collect();
    vec![
        Case {
            service: "states",
            region: "us-east-1",
            method: "POST",
            host: "127.0.0.1:8080",
            target: "/",
            headers: json!({
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
            }),
            body: "{}".to_owned(),
        },
        Case {
            service: "lambda",
            region: "eu-west-1",
            method: "POST",
            host: "localhost:8080",
            target: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Ascore/invocations?Qualifier=%24LATEST",
            headers: json!({
                "X-Amz-Invocation-Type": "RequestResponse",
                "X-Amz-Log-Type": "Tail",
                "X-Weir-Note": "spaced   out\tvalue",
            }),
            body: r#"{"n": 1, "name": "ünïcödé"}"#.to_owned(),
        },
        Case {
            service: "lambda",
            region: "eu-west-1",
            method: "GET",
            host: "localhost:8080",
            target: "/2015-03-31/functions/?MaxItems=10&Marker=a%2Fb%20c",
            headers: json!({}),
            body: String::new(),
        },
        Case {
            service: "kinesis",
            region: "us-east-1",
            method: "POST",
            host: "127.0.0.1:8080",
            target: "/",
            headers: json!({
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Kinesis_20131202.PutRecords",
            }),
            body: json!({"StreamName": "events", "Records": records}).to_string(),
        },
    ]
}

fn sign_with_botocore(cases: &[Case]) -> Vec<Value> {
    let input: Vec<Value> = cases
        .iter()
        .map(|case| {
            json!({
                "service": case.service,
                "region": case.region,
                "method": case.method,
                "url": format!("http://{}{}", case.host, case.target),
                "headers": case.headers,
                "body": case.body,
                "key": KEY,
                "secret": SECRET,
            })
        })
        .collect();
    let mut child = Command::new("python3")
        .args(["-c", SIGNER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (botocore signs the requests of this test)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::from(input).to_string().as_bytes())
        .expect("requests written to python3");
    let output = child.wait_with_output().expect("python3 ends");
    assert!(
        output.status.success(),
        "botocore failed to sign (is boto3 installed? `python3 -m pip install boto3`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    match serde_json::from_slice(&output.stdout) {
        Ok(Value::Array(signed)) => signed,
        other => panic!("botocore printed no list of headers: {other:?}"),
    }
}

#[test]
fn requests_signed_by_botocore_verify_and_fail_with_another_secret() {
    let cases = cases();
    let signed = sign_with_botocore(&cases);
    assert_eq!(signed.len(), cases.len());
    let now = SystemTime::now();
    for (case, sent) in cases.iter().zip(&signed) {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static(case.host));
        for (name, value) in sent.as_object().expect("headers") {
            let value = value.as_str().expect("a header value");
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        let (path, query) = case.path_and_query();
        let request = SignedRequest {
            method: case.method,
            path,
            query,
            headers: &headers,
            body: case.body.as_bytes(),
        };
        let expected = Expected {
            service: case.service,
            region: case.region,
            unsigned_payload: false,
        };
        let verified = verify(&request, &expected, now, |key| {
            (key == KEY).then_some(SECRET)
        });
        assert_eq!(
            verified.map(|key| key.access_key_id),
            Ok(KEY.to_owned()),
            "{} {}",
            case.method,
            case.target
        );

        let error = verify(&request, &expected, now, |_| Some("wEiR/another+secret"))
            .expect_err("another secret");
        assert_eq!(error.rejection(), Rejection::InvalidSignature);
        let status = if case.service == "lambda" { 403 } else { 400 };
        assert_eq!(error.status().as_u16(), status);
    }
}

/// weir's signer (`sign`, what `weir bench auth` signs with) writes the very `Authorization`
/// botocore writes for the same request at the same time.
#[test]
fn weirs_signer_signs_as_botocore_does() {
    let cases = cases();
    let signed = sign_with_botocore(&cases);
    for (case, sent) in cases.iter().zip(&signed) {
        let sent = sent.as_object().expect("headers");
        let header = |name: &str| {
            sent.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .and_then(|(_, value)| value.as_str())
                .unwrap_or_else(|| panic!("botocore sent no {name}"))
        };
        let when = chrono::NaiveDateTime::parse_from_str(header("x-amz-date"), "%Y%m%dT%H%M%SZ")
            .expect("an X-Amz-Date");
        let when = std::time::UNIX_EPOCH
            + std::time::Duration::from_secs(when.and_utc().timestamp().unsigned_abs());
        // Host first: the signer must sort what it signs.
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static(case.host));
        for (name, value) in case.headers.as_object().expect("headers") {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value.as_str().expect("a value")).expect("a header value"),
            );
        }
        let (path, query) = case.path_and_query();
        let request = Unsigned {
            method: case.method,
            path,
            query,
            body: case.body.as_bytes(),
        };
        let signer = Signer {
            access_key_id: KEY,
            secret_access_key: SECRET,
            region: case.region,
            service: case.service,
        };
        sign(&request, &mut headers, &signer, when).expect("signed");
        assert_eq!(
            headers
                .get("authorization")
                .map(|value| value.to_str().unwrap_or_default()),
            Some(header("authorization")),
            "{} {}",
            case.method,
            case.target
        );
    }
}
