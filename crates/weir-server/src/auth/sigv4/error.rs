//! The rejections of a signed request, in AWS's codes, HTTP statuses and words.
//!
//! Where each text comes from (public captures of AWS's answers; the emulators cited were written
//! against the real services and quote their responses):
//! - kinesalite (`mhart/kinesalite`, `index.js` and `test/connection.js`): Kinesis's
//!   `Missing Authentication Token`, the "Found both …" answer, and the
//!   "Authorization header requires …" list, all 400 with `__type` in a JSON 1.1 body.
//! - dynalite (`mhart/dynalite`, `index.js`): DynamoDB's answers in the order AWS checks them,
//!   quoted verbatim: the date format, "Signature expired", the `Host` rule, the algorithm, the
//!   credential's five elements, the scope sentences, the unknown key, the signature mismatch with
//!   its canonical string and string to sign, and the session token (without a final period).
//! - GitHub issues quoting real responses: aws/aws-sdk-js#254 (`Signature expired: … - 15 min.`,
//!   400), serverless/enterprise#11 (`Signature not yet current: … + 5 min.`),
//!   aws/aws-sdk-php#2469 and opensearch-project/opensearch-php#248 (today's
//!   `'Host' or ':authority' …` wording), iann0036/cloud9-sync#10 and
//!   awslabs/fhir-works-on-aws-deployment#379 (the missing equal-sign text),
//!   prometheus-community/yet-another-cloudwatch-exporter#169 (the five elements, 400),
//!   awslabs/amazon-kinesis-producer#33 (Kinesis appends the canonical string, 400),
//!   aws/aws-sdk-go#248 and erlcloud/erlcloud#690 (Lambda appends it too, 403),
//!   brefphp/bref#1250 (Lambda's `Missing Authentication Token`, 403), iann0036/iamlive#58
//!   (Lambda's `UnrecognizedClientException`, 403).
//! - The Lambda API reference, "Common Errors": `IncompleteSignature` and
//!   `UnrecognizedClientException` are 403 there.
//!
//! Two texts are weir's own, for limits AWS enforces at its HTTP front door instead:
//! [`SigV4Error::authorization_too_long`] and [`SigV4Error::too_many_signed_headers`].

use axum::http::StatusCode;

/// Which of AWS's four authentication errors a rejection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// No `Authorization` header.
    MissingAuthenticationToken,
    /// An `Authorization` header that is not a complete SigV4 header, or a date that is no date.
    IncompleteSignature,
    /// An access key id weir does not know, or a session token (weir issues none).
    UnrecognizedClient,
    /// A signature for another scope or time, or one that does not match.
    InvalidSignature,
}

/// How the service answers authentication errors: the JSON protocols on `POST /` (Step
/// Functions, Kinesis, Firehose, EventBridge) with 400, Lambda's REST API with 403.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Front {
    AwsJson,
    LambdaRest,
}

impl Front {
    pub(super) fn for_service(service: &str) -> Front {
        if service == "lambda" {
            Front::LambdaRest
        } else {
            Front::AwsJson
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Front::AwsJson => StatusCode::BAD_REQUEST,
            Front::LambdaRest => StatusCode::FORBIDDEN,
        }
    }
}

/// Why a request's signature was not accepted: AWS's error code, its message and the HTTP status
/// the service answers with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", self.code())]
pub struct SigV4Error {
    rejection: Rejection,
    message: String,
    status: StatusCode,
}

impl SigV4Error {
    /// The HTTP status: 400 for the JSON protocols on `POST /`, 403 for Lambda's REST API.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// AWS's error code (`__type` / `x-amzn-ErrorType`).
    pub fn code(&self) -> &'static str {
        match self.rejection {
            Rejection::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Rejection::IncompleteSignature => "IncompleteSignatureException",
            Rejection::UnrecognizedClient => "UnrecognizedClientException",
            Rejection::InvalidSignature => "InvalidSignatureException",
        }
    }

    /// AWS's message, word for word.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn rejection(&self) -> Rejection {
        self.rejection
    }

    fn new(front: Front, rejection: Rejection, message: impl Into<String>) -> SigV4Error {
        SigV4Error {
            rejection,
            message: message.into(),
            status: front.status(),
        }
    }

    pub(super) fn missing_authentication_token(front: Front) -> SigV4Error {
        Self::new(
            front,
            Rejection::MissingAuthenticationToken,
            "Missing Authentication Token",
        )
    }

    /// A presigned query (`X-Amz-Algorithm`) and an `Authorization` header at once.
    pub(super) fn header_and_query(front: Front) -> SigV4Error {
        Self::new(
            front,
            Rejection::InvalidSignature,
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        )
    }

    pub(super) fn authorization_too_long(front: Front, limit: usize) -> SigV4Error {
        Self::new(
            front,
            Rejection::IncompleteSignature,
            format!("The Authorization header is longer than {limit} bytes."),
        )
    }

    pub(super) fn too_many_signed_headers(front: Front, count: usize, limit: usize) -> SigV4Error {
        Self::new(
            front,
            Rejection::IncompleteSignature,
            format!("SignedHeaders names {count} headers; at most {limit} can be signed."),
        )
    }

    pub(super) fn missing_equal_sign(front: Front, pair: &str, header: &str) -> SigV4Error {
        Self::new(
            front,
            Rejection::IncompleteSignature,
            format!(
                "'{pair}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            ),
        )
    }

    /// `missing` names the absent parameters in AWS's order (`Credential`, `Signature`,
    /// `SignedHeaders`); `no_date` adds the sentence about the date headers.
    pub(super) fn missing_parameters(
        front: Front,
        missing: &[&str],
        no_date: bool,
        header: &str,
    ) -> SigV4Error {
        let mut message = String::new();
        for parameter in missing {
            message.push_str(&format!(
                "Authorization header requires '{parameter}' parameter. "
            ));
        }
        if no_date {
            message.push_str(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
            );
        }
        message.push_str("Authorization=");
        message.push_str(header);
        Self::new(front, Rejection::IncompleteSignature, message)
    }

    pub(super) fn bad_date(front: Front, got: &str) -> SigV4Error {
        Self::new(
            front,
            Rejection::IncompleteSignature,
            format!(
                "Date must be in ISO-8601 'basic format'. Got '{got}'. See http://en.wikipedia.org/wiki/ISO_8601"
            ),
        )
    }

    /// A request's time outside the window, all times in ISO-8601 basic format: `expired`, it is
    /// earlier than `edge` (now minus the window); otherwise later than `edge` (now plus it).
    pub(super) fn outside_window(
        front: Front,
        expired: bool,
        request: &str,
        edge: &str,
        now: &str,
        minutes: i64,
    ) -> SigV4Error {
        let message = if expired {
            format!(
                "Signature expired: {request} is now earlier than {edge} ({now} - {minutes} min.)"
            )
        } else {
            format!(
                "Signature not yet current: {request} is still later than {edge} ({now} + {minutes} min.)"
            )
        };
        Self::new(front, Rejection::InvalidSignature, message)
    }

    pub(super) fn host_not_signed(front: Front) -> SigV4Error {
        Self::new(
            front,
            Rejection::InvalidSignature,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        )
    }

    /// AWS ends this one with a space.
    pub(super) fn unsupported_algorithm(front: Front, algorithm: &str) -> SigV4Error {
        Self::new(
            front,
            Rejection::IncompleteSignature,
            format!("Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "),
        )
    }

    pub(super) fn credential_elements(front: Front, credential: &str) -> SigV4Error {
        Self::new(
            front,
            Rejection::IncompleteSignature,
            format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
            ),
        )
    }

    /// Every way the credential's scope differs from what the service expects, in one message,
    /// as AWS reports them: region, service, terminator, date.
    pub(super) fn wrong_scope(front: Front, problems: &[ScopeProblem<'_>]) -> SigV4Error {
        let sentences: Vec<String> = problems.iter().map(ScopeProblem::sentence).collect();
        Self::new(front, Rejection::InvalidSignature, sentences.join(" "))
    }

    pub(super) fn unknown_access_key(front: Front) -> SigV4Error {
        Self::new(
            front,
            Rejection::UnrecognizedClient,
            "The security token included in the request is invalid.",
        )
    }

    /// AWS shows the client what it should have signed, so a client's own signing bug can be
    /// found; both strings are made of the request alone (no secret).
    pub(super) fn signature_mismatch(
        front: Front,
        canonical_request: &str,
        string_to_sign: &str,
    ) -> SigV4Error {
        Self::new(
            front,
            Rejection::InvalidSignature,
            format!(
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details.\n\nThe Canonical String for this request should have \
                 been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n\
                 '{string_to_sign}'\n"
            ),
        )
    }

    /// A session token (`X-Amz-Security-Token`): weir issues none, so none is valid. AWS's text
    /// for an invalid token has no final period, unlike the unknown key's.
    pub(super) fn session_token(front: Front) -> SigV4Error {
        Self::new(
            front,
            Rejection::UnrecognizedClient,
            "The security token included in the request is invalid",
        )
    }
}

/// One way a credential's scope (`KEY/DATE/REGION/SERVICE/aws4_request`) is wrong.
pub(super) enum ScopeProblem<'a> {
    Region {
        got: &'a str,
    },
    Service {
        expected: &'a str,
    },
    Terminator {
        got: &'a str,
    },
    Date {
        got: &'a str,
        expected: &'a str,
        timestamp: &'a str,
    },
}

impl ScopeProblem<'_> {
    fn sentence(&self) -> String {
        match self {
            ScopeProblem::Region { got } => {
                format!("Credential should be scoped to a valid region, not '{got}'.")
            }
            ScopeProblem::Service { expected } => {
                format!("Credential should be scoped to correct service: '{expected}'.")
            }
            ScopeProblem::Terminator { got } => format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{got}'."
            ),
            ScopeProblem::Date {
                got,
                expected,
                timestamp,
            } => format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{got}' != '{expected}', from '{timestamp}'."
            ),
        }
    }
}
