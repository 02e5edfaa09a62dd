//! AWS Signature Version 4, verified as AWS verifies it, for the AWS endpoints (the JSON protocols
//! on `POST /`, the Lambda REST paths): boto3 and aws-cli configured with a weir key pair work
//! unchanged, and with a wrong secret they get AWS's error.
//!
//! Pure: [`verify`] takes the request's parts, the service and region the endpoint answers as,
//! the time, and a lookup from access key id to secret; it reads no clock, store or file. For a
//! lookup that must wait (a store), [`check`] does every check that needs no secret and returns
//! a [`Claim`] naming the key; [`Claim::verify`] then takes the secret. The secret itself is
//! needed, not a hash of it: it is the HMAC key, so the credential store must keep secret access
//! keys recoverable (encrypted at rest), as AWS does.
//!
//! [`sign`] is the other side, for weir's own clients (`weir bench auth`): it signs with the same
//! canonical request, string to sign and key derivation that [`verify`] checks.
//!
//! The checks come in AWS's order, each failing with AWS's code and words (`error.rs` says where
//! each text comes from): the `Authorization` header is present (not also a presigned query);
//! its `key=value` pairs; `Credential`, `Signature`, `SignedHeaders` and a date header are all
//! there; the date is a date; it is within [`CLOCK_SKEW_MINUTES`] of now; `host` is signed; the
//! algorithm is `AWS4-HMAC-SHA256`; the credential has five elements; its scope names the
//! expected region, service, `aws4_request` and the request's date; the key is known; the
//! signature matches (in constant time); no session token is sent.
//!
//! Decisions:
//! - Clock skew: 15 minutes either way, as issue 11 asks and as DynamoDB and STS allow (their
//!   messages say `- 15 min.`); Kinesis and Lambda allow 5, and a laptop's clock drifts.
//! - Session tokens: weir issues none (its key pairs are long-term), so a request carrying
//!   `X-Amz-Security-Token` is refused, after its signature is checked, with AWS's answer for an
//!   invalid token. A shell holding real AWS session credentials gets a clear error, not a
//!   silent pass.
//! - `UNSIGNED-PAYLOAD`: AWS accepts it only for S3 and a few streaming operations (EBS
//!   PutSnapshotBlock, MediaStore PutObject, Lex PostContent: botocore's models mark them
//!   `unsignedPayload`), none of them a service weir serves. [`Expected::unsigned_payload`] is
//!   false for all of weir's endpoints: the payload hash is then always the body's own SHA-256,
//!   whatever `X-Amz-Content-Sha256` says, so a request claiming `UNSIGNED-PAYLOAD` fails as it
//!   fails at AWS (signature mismatch), and a header naming another body cannot smuggle one in.
//! - Presigned URLs (`X-Amz-Signature` in the query) are not accepted: aws-cli presigns only S3
//!   (`aws s3 presign`), boto3's `generate_presigned_url` cannot presign the JSON protocols
//!   (boto/boto3#1354), and AWS's texts for an expired presigned request to these services are
//!   not on record. Such a request has no `Authorization` header and gets
//!   `MissingAuthenticationTokenException`; with one as well, AWS's "Found both …" error.
//! - The canonical URI is the non-S3 one (segments encoded twice, dot segments and repeated
//!   slashes removed): S3 would need its own rule.
//! - Signing keys are derived per request, not cached: the four HMACs take 1.3 to 2.5 µs of the
//!   8 to 10 µs a small request's verification takes in a release build, and nothing next to the
//!   payload hash of a large body (1 MiB: about 1 ms); a cache would have to forget revoked keys.
//!   The `verify_cost` test prints the figures.
//! - Bounds: an `Authorization` header over [`MAX_AUTHORIZATION_BYTES`] or naming more than
//!   [`MAX_SIGNED_HEADERS`] headers is refused before any work; nothing here panics on any input
//!   (property-tested).

mod authorization;
mod canonical;
mod client;
mod error;
mod signing;
mod time;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::time::SystemTime;

use axum::http::HeaderMap;
use chrono::{DateTime, TimeDelta, Utc};

use authorization::{Authorization, Scope};
pub use client::{SignError, Signer, Unsigned, sign};
use error::{Front, ScopeProblem};
pub use error::{Rejection, SigV4Error};
use time::Skew;

/// How far a request's time may be from the server's, either way.
pub const CLOCK_SKEW_MINUTES: i64 = 15;
/// The longest `Authorization` header read. A real one is a few hundred bytes.
pub const MAX_AUTHORIZATION_BYTES: usize = 8192;
/// The most headers a request may sign: the server reads at most 100 headers (hyper's limit).
pub const MAX_SIGNED_HEADERS: usize = 100;
/// The `X-Amz-Content-Sha256` value that leaves the body out of the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";

/// The parts of an HTTP request a signature covers, as they arrived.
#[derive(Clone, Copy, Debug)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as sent on the request line, still percent-encoded (`Uri::path()`).
    pub path: &'a str,
    /// The query as sent, without the `?` (`Uri::query()`).
    pub query: Option<&'a str>,
    /// All headers; `Host` among them.
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// What the endpoint answers as: the credential's scope must name this service and region.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// The signing name: `states`, `lambda`, `kinesis`, `firehose`, `events`. `lambda` answers
    /// authentication errors with 403, the others with 400, as AWS's services do.
    pub service: &'a str,
    pub region: &'a str,
    /// Whether `X-Amz-Content-Sha256: UNSIGNED-PAYLOAD` may stand for the body's hash. False for
    /// every endpoint weir serves (see the module's decisions).
    pub unsigned_payload: bool,
}

/// The access key whose secret signed the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedKey {
    pub access_key_id: String,
}

/// A request whose form, time and scope are right, claiming to be signed by
/// [`Claim::access_key_id`]; its signature is not checked yet.
#[derive(Debug)]
pub struct Claim<'a> {
    request: SignedRequest<'a>,
    front: Front,
    unsigned_payload: bool,
    signed_headers: Vec<String>,
    signature: String,
    access_key_id: String,
    /// The credential's scope (date, region, service), checked equal to the expected one.
    scope_date: String,
    scope_region: String,
    scope_service: String,
    timestamp: DateTime<Utc>,
}

/// Verifies the request's signature: the secret of an access key id comes from `secret_of`
/// (`None` when the key is unknown or revoked). `now` is the server's time.
pub fn verify<S: AsRef<[u8]>>(
    request: &SignedRequest<'_>,
    expected: &Expected<'_>,
    now: SystemTime,
    secret_of: impl FnOnce(&str) -> Option<S>,
) -> Result<VerifiedKey, SigV4Error> {
    let claim = check(request, expected, now)?;
    let secret = secret_of(claim.access_key_id());
    claim.verify(secret.as_ref().map(AsRef::as_ref))
}

/// Every check that needs no secret, in AWS's order.
pub fn check<'a>(
    request: &SignedRequest<'a>,
    expected: &Expected<'_>,
    now: SystemTime,
) -> Result<Claim<'a>, SigV4Error> {
    let front = Front::for_service(expected.service);
    let header = request.headers.get(axum::http::header::AUTHORIZATION);
    if header.is_some() && canonical::query_has(request.query, "X-Amz-Algorithm") {
        return Err(SigV4Error::header_and_query(front));
    }
    let Some(header) = header else {
        return Err(SigV4Error::missing_authentication_token(front));
    };
    if header.len() > MAX_AUTHORIZATION_BYTES {
        return Err(SigV4Error::authorization_too_long(
            front,
            MAX_AUTHORIZATION_BYTES,
        ));
    }
    let header = latin1(header.as_bytes());
    let date = request_date(request.headers);
    let authorization = authorization::parse(&header, date.is_some(), front)?;
    let Some(date) = date else {
        return Err(SigV4Error::missing_parameters(front, &[], true, &header));
    };
    if authorization.signed_headers.len() > MAX_SIGNED_HEADERS {
        return Err(SigV4Error::too_many_signed_headers(
            front,
            authorization.signed_headers.len(),
            MAX_SIGNED_HEADERS,
        ));
    }
    let timestamp = date
        .parse()
        .ok_or_else(|| SigV4Error::bad_date(front, date.text()))?;
    check_skew(timestamp, time::from_system(now), front)?;
    check_form(&authorization, front)?;
    let scope = Scope::parse(&authorization.credential, front)?;
    check_scope(&scope, expected, timestamp, front)?;
    Ok(Claim {
        request: *request,
        front,
        unsigned_payload: expected.unsigned_payload,
        access_key_id: scope.access_key_id.to_owned(),
        scope_date: scope.date.to_owned(),
        scope_region: scope.region.to_owned(),
        scope_service: scope.service.to_owned(),
        signed_headers: authorization.signed_headers,
        signature: authorization.signature,
        timestamp,
    })
}

impl Claim<'_> {
    /// The access key id the request names, to look its secret up.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Checks the signature with the key's secret (`None`: the key is unknown).
    pub fn verify(self, secret: Option<&[u8]>) -> Result<VerifiedKey, SigV4Error> {
        let Some(secret) = secret else {
            return Err(SigV4Error::unknown_access_key(self.front));
        };
        let request = self.request;
        let canonical_request = canonical::request(
            request.method,
            request.path,
            request.query,
            request.headers,
            &self.signed_headers,
            &self.payload_hash(),
        );
        let string_to_sign = string_to_sign(
            &canonical_request,
            self.timestamp,
            &self.scope_date,
            &self.scope_region,
            &self.scope_service,
        );
        let key = signing::signing_key(
            secret,
            &self.scope_date,
            &self.scope_region,
            &self.scope_service,
        );
        if !signing::signature_matches(&key, string_to_sign.as_bytes(), &self.signature) {
            return Err(SigV4Error::signature_mismatch(
                self.front,
                &String::from_utf8_lossy(&canonical_request),
                &string_to_sign,
            ));
        }
        if request.headers.contains_key("x-amz-security-token") {
            return Err(SigV4Error::session_token(self.front));
        }
        Ok(VerifiedKey {
            access_key_id: self.access_key_id,
        })
    }

    fn payload_hash(&self) -> String {
        let declared = self.request.headers.get("x-amz-content-sha256");
        if self.unsigned_payload
            && declared.is_some_and(|value| value.as_bytes() == UNSIGNED_PAYLOAD.as_bytes())
        {
            UNSIGNED_PAYLOAD.to_owned()
        } else {
            signing::sha256_hex(self.request.body)
        }
    }
}

/// `ALGORITHM \n TIMESTAMP \n DATE/REGION/SERVICE/aws4_request \n SHA-256(canonical request)`,
/// what the signature is the HMAC of (the signer's and the verifier's).
fn string_to_sign(
    canonical_request: &[u8],
    timestamp: DateTime<Utc>,
    date: &str,
    region: &str,
    service: &str,
) -> String {
    format!(
        "{ALGORITHM}\n{}\n{date}/{region}/{service}/{TERMINATOR}\n{}",
        time::basic(timestamp),
        signing::sha256_hex(canonical_request),
    )
}

/// The request's date header: `X-Amz-Date` (ISO-8601 basic format) if present, else `Date`.
enum RequestDate<'a> {
    AmzDate(Cow<'a, str>),
    Date(Cow<'a, str>),
}

impl RequestDate<'_> {
    fn text(&self) -> &str {
        match self {
            RequestDate::AmzDate(text) | RequestDate::Date(text) => text,
        }
    }

    fn parse(&self) -> Option<DateTime<Utc>> {
        match self {
            RequestDate::AmzDate(text) => time::parse_basic(text),
            RequestDate::Date(text) => time::parse_date_header(text),
        }
    }
}

fn request_date(headers: &HeaderMap) -> Option<RequestDate<'_>> {
    if let Some(value) = headers.get("x-amz-date") {
        return Some(RequestDate::AmzDate(latin1(value.as_bytes())));
    }
    headers
        .get(axum::http::header::DATE)
        .map(|value| RequestDate::Date(latin1(value.as_bytes())))
}

fn check_skew(
    timestamp: DateTime<Utc>,
    now: DateTime<Utc>,
    front: Front,
) -> Result<(), SigV4Error> {
    let (expired, edge) = match time::skew(timestamp, now, TimeDelta::minutes(CLOCK_SKEW_MINUTES)) {
        Skew::Within => return Ok(()),
        Skew::Expired { earliest } => (true, earliest),
        Skew::NotYetCurrent { latest } => (false, latest),
    };
    Err(SigV4Error::outside_window(
        front,
        expired,
        &time::basic(timestamp),
        &time::basic(edge),
        &time::basic(now),
        CLOCK_SKEW_MINUTES,
    ))
}

/// `host` signed (AWS accepts HTTP/2's `:authority` in its place), then the algorithm.
fn check_form(authorization: &Authorization, front: Front) -> Result<(), SigV4Error> {
    let host_signed = authorization
        .signed_headers
        .iter()
        .any(|name| name == "host" || name == ":authority");
    if !host_signed {
        return Err(SigV4Error::host_not_signed(front));
    }
    if authorization.algorithm != ALGORITHM {
        return Err(SigV4Error::unsupported_algorithm(
            front,
            &authorization.algorithm,
        ));
    }
    Ok(())
}

fn check_scope(
    scope: &Scope<'_>,
    expected: &Expected<'_>,
    timestamp: DateTime<Utc>,
    front: Front,
) -> Result<(), SigV4Error> {
    let day = time::day(timestamp);
    let basic = time::basic(timestamp);
    let mut problems = Vec::new();
    if scope.region != expected.region {
        problems.push(ScopeProblem::Region { got: scope.region });
    }
    if scope.service != expected.service {
        problems.push(ScopeProblem::Service {
            expected: expected.service,
        });
    }
    if scope.terminator != TERMINATOR {
        problems.push(ScopeProblem::Terminator {
            got: scope.terminator,
        });
    }
    if scope.date != day {
        problems.push(ScopeProblem::Date {
            got: scope.date,
            expected: &day,
            timestamp: &basic,
        });
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SigV4Error::wrong_scope(front, &problems))
    }
}

/// Header bytes as text, one character per byte (HTTP's historical Latin-1), so any header reads
/// and echoes back without failing. ASCII, the usual case, is borrowed as it is.
fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.is_ascii() => Cow::Borrowed(text),
        _ => Cow::Owned(bytes.iter().map(|&byte| char::from(byte)).collect()),
    }
}
