//! A signed request is refused before its body is read when what needs no body already fails:
//! an unknown key, an expired signature. Otherwise anyone could make the server hold a body of
//! up to `max_body_bytes` per connection without a credential.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::security::project;
use crate::support::*;

/// Sends a Step Functions request's head signed for `key` at `when` (`%Y%m%dT%H%M%SZ`),
/// announcing a large body it never sends, and returns what the server answers meanwhile.
fn head_only(server: &Server, key: &str, when: &str) -> String {
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let date = &when[..8];
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n\
         Content-Type: application/x-amz-json-1.0\r\nX-Amz-Date: {when}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/states/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-target, Signature={}\r\n\
         Content-Length: 4000000\r\n\r\n",
        "0".repeat(64)
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = vec![0; 4096];
    let read = stream.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

#[test]
fn a_signed_request_with_an_unknown_key_or_an_old_date_is_refused_before_its_body_is_read() {
    let project = project();
    let server = Server::start(project.path());
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let answer = head_only(&server, "AKIAUNKNOWNUNKNOWN00", &now);
    assert!(
        answer.contains("UnrecognizedClientException"),
        "no answer before the body: {answer:?}"
    );
    let answer = head_only(&server, "AKIAUNKNOWNUNKNOWN00", "20200101T000000Z");
    assert!(answer.contains("Signature expired"), "{answer:?}");
}
