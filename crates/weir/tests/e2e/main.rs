//! End-to-end tests through the real `weir` binary: one test binary (one link) for all of them.

mod support;

mod bad_input;
mod basics;
mod bounds;
mod doc_sessions;
mod docs;
mod durability;
mod execution;
mod functions;
mod lake;
mod lifecycle;
mod machines;
mod markdown;
mod postgres;
