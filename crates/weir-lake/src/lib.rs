//! weir's lake: object storage (a local directory by default, any S3-compatible store when
//! configured), the catalog of databases and tables (persisted in the metadata store), the
//! crawler that infers tables from files, and SQL over catalog tables on Apache DataFusion.
//! The only crate that depends on DataFusion, so the rest of weir builds fast.

pub mod catalog;
