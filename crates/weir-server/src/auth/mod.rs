//! Authentication of requests. `sigv4` verifies AWS Signature Version 4, the scheme boto3 and
//! aws-cli sign the AWS endpoints' requests with.

pub mod sigv4;
