//! The lake's errors. Each names what failed (the key, the table, the setting) so that a message
//! reaching a user through the CLI or a task log says where to look.

/// What went wrong in the lake, the catalog or the crawler.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// `[lake]` in weir.toml does not describe a usable store.
    #[error("lake configuration: {0}")]
    Config(String),
    /// A key a caller gave is not a valid lake key.
    #[error("invalid lake key `{key}`: {reason}")]
    InvalidKey { key: String, reason: String },
    #[error("lake object `{key}` not found")]
    NotFound { key: String },
    /// The object store refused or failed an operation.
    #[error("lake {operation} `{key}`: {source}")]
    Store {
        operation: &'static str,
        key: String,
        #[source]
        source: object_store::Error,
    },
    /// A local file (the source of an upload, the target of a download) failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The metadata store failed under the catalog.
    #[error(transparent)]
    Metadata(#[from] weir_store::StoreError),
    /// A catalog row could not be read back (written by a newer weir, or edited by hand).
    #[error("catalog table {table}: stored {what} is not valid: {reason}")]
    BadRecord {
        table: String,
        what: &'static str,
        reason: String,
    },
    #[error("invalid {what} name `{name}`: {reason}")]
    InvalidName {
        what: &'static str,
        name: String,
        reason: String,
    },
    #[error("database `{0}` does not exist")]
    NoSuchDatabase(String),
    #[error("database `{0}` already exists")]
    DatabaseExists(String),
    #[error("database `{name}` has {tables} table(s): drop them first, or drop with cascade")]
    DatabaseNotEmpty { name: String, tables: usize },
    #[error("table `{0}` does not exist")]
    NoSuchTable(String),
    #[error("table `{0}` already exists")]
    TableExists(String),
    /// Two tables may not share files: one table's location may not contain another's.
    #[error(
        "location `{location}` of table `{table}` overlaps table `{other}` at `{other_location}`"
    )]
    LocationOverlap {
        table: String,
        location: String,
        other: String,
        other_location: String,
    },
    /// A file a caller added to a table lies outside the table's location.
    #[error("file `{key}` is not under the location `{location}` of table `{table}`")]
    FileOutsideTable {
        key: String,
        table: String,
        location: String,
    },
    /// A file's partition values do not match the table's partition columns.
    #[error(
        "file `{key}` has {got} partition value(s); table `{table}` has {expected} partition column(s)"
    )]
    PartitionMismatch {
        key: String,
        table: String,
        expected: usize,
        got: usize,
    },
}

pub type Result<T, E = LakeError> = std::result::Result<T, E>;

impl LakeError {
    pub(crate) fn store(operation: &'static str, key: &str, source: object_store::Error) -> Self {
        match source {
            object_store::Error::NotFound { .. } => LakeError::NotFound {
                key: key.to_string(),
            },
            source => LakeError::Store {
                operation,
                key: key.to_string(),
                source,
            },
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        LakeError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
