//! End-to-end tests through the real `weir` binary: one test binary (one link) for all of them.

mod support;

mod basics;
mod execution;
mod lifecycle;
mod durability;
mod postgres;
