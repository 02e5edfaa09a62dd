//! weir's lake: object storage (a local directory by default, any S3-compatible store when
//! configured), the catalog of databases and tables (persisted in the metadata store), the
//! crawler that infers tables from files, and SQL over catalog tables on Apache DataFusion.
//! The only crate that depends on DataFusion, so the rest of weir builds fast.

pub mod catalog;
pub mod catalog_store;
pub mod crawl_action;
pub mod crawler;
pub mod delivery;
pub mod durable;
pub mod error;
pub mod lake;
pub mod parquet_footer;
pub mod sql;
pub mod transform;

pub use catalog_store::{Catalog, ManifestChange};
pub use crawl_action::CrawlRunner;
pub use crawler::{CrawlReport, crawl};
pub use error::LakeError;
pub use lake::{Lake, ObjectCreated, ObjectInfo};
