//! SQL on a local temporary lake with the in-memory catalog: reading CSV, JSON lines and
//! Parquet tables, partition pruning, the writing statements and their atomicity, error
//! positions, output formats, the `sql` action, and no panics on arbitrary input.

mod dictionaries;
mod dynamic_filters;
mod fixtures;
mod formats;
mod limits;
mod partition_groups;
mod reads;
mod real_lake;
mod robustness;
mod runner;
mod shared_subplans;
mod statistics;
mod writes;
