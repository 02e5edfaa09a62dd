//! Transforms (Glue ETL / DataBrew recipes, `weir_model::transform::Recipe`) over the lake:
//! `run/` reads a recipe's source (from its bookmark), runs its compiled plan, writes its sink
//! and commits output, quarantine and bookmark in one batch; `action.rs` is the `transform`
//! pipeline action.

pub mod action;
pub mod bench;
pub mod run;

pub use action::{TransformAction, list_recipes, load_recipe};
pub use run::{RunError, RunReport, Salts, Transforms, tables_of, tables_written};
