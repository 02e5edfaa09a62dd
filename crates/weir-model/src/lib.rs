//! weir's definition formats, pure: parsing with source positions, validation, schedules and
//! templates. Nothing in this crate does I/O or is async: callers hand it text and get back
//! values or [`Problem`]s that point at `file:line:column`.

pub mod access;
pub mod action;
pub mod asl;
pub mod config;
pub mod delivery;
pub mod duration;
pub mod event_source;
pub mod events;
pub mod function;
pub mod lake_actions;
mod marker;
pub mod pipeline;
pub mod problem;
pub mod schedule;
pub mod secret;
pub mod shell;
pub mod size;
pub mod sql_tables;
pub mod sql_text;
pub mod template;
pub mod transform;

pub use problem::{Pos, Problem};
