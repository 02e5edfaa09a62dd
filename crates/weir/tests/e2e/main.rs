//! End-to-end tests through the real `weir` binary: one test binary (one link) for all of them.

mod support;

mod bad_input;
mod basics;
mod bench;
mod bounds;
mod cli_output;
mod deliveries;
mod doc_sessions;
mod docs;
mod durability;
mod execution;
mod function_errors;
mod functions;
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
mod templates;
mod tls;
