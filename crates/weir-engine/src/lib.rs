//! weir's engine: the scheduler, the pipeline executor, actions, timers and retries. It talks to
//! storage only through `weir_store::Store` and to actions only through [`actions::ActionRunner`].
//!
//! One task (the core, `core/`) owns every active run in memory and is the only writer of run
//! state: messages come in (a task finished, a user triggered a run, a timer fired), it decides
//! the transitions, hands them to the group committer, and acts on them only once they are durable.

pub mod access;
pub mod actions;
mod core;
pub mod data_lock;
pub mod events;
pub mod functions;
mod handle;
pub mod logs;
pub mod machines;
pub mod project;
pub mod queues;
mod rules;
pub mod secrets;
pub mod time;
pub mod watch;

pub use crate::core::StatusChange;
pub use handle::{Engine, EngineError, EngineOptions, PipelineInfo, TriggerRequest};
pub use rules::{is_active_run, is_terminal};
