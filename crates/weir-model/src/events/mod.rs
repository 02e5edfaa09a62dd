//! EventBridge: events, their patterns and what rules do with them. Pure, like the rest of the
//! crate.

pub mod pattern;
