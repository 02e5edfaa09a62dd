//! End-to-end tests through the real `weir` binary: one test binary (one link) for all of them.

mod support;

mod bad_input;
mod basics;
mod bench;
mod bounds;
mod cli_output;
mod doc_sessions;
mod docs;
mod durability;
mod event_sources;
mod execution;
mod function_errors;
mod functions;
mod kinesis;
mod kinesis_cbor;
mod kinesis_requests;
mod lake;
mod lifecycle;
mod machines;
mod markdown;
mod postgres;
mod readme;
mod secrets;
mod security;
mod security_admin;
mod security_audit;
mod security_aws;
mod security_browser;
mod security_listings;
mod security_machines;
mod sfn_requests;
mod stopping;
mod streams;
mod templates;
mod tls;
