//! The service's errors, each named after the exception AWS's Kinesis API returns for it, with
//! AWS's message text where AWS has one, so the protocol layer passes them through unchanged.

/// An error of a [`crate::Streams`] operation. `code()` is AWS's exception name; `Display` is the
/// message.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// `ResourceNotFoundException`: a stream, shard or consumer that does not exist.
    #[error("{message}")]
    NotFound { message: String },
    /// `ResourceInUseException`: the resource exists already, or is not in a state that allows
    /// the operation.
    #[error("{message}")]
    InUse { message: String },
    /// `InvalidArgumentException`.
    #[error("{0}")]
    InvalidArgument(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `ValidationException`: a request AWS refuses before looking at the stream's state (an
    /// on-demand stream asked for a shard count).
    #[error("{0}")]
    Validation(String),
    /// The log's files could not be read or written (`InternalFailure` on the wire).
    #[error("stream log I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The metadata store refused a read or a commit (`InternalFailure` on the wire).
    #[error("stream metadata: {0}")]
    Store(#[from] weir_store::StoreError),
}

impl StreamError {
    /// AWS's exception name for this error.
    pub fn code(&self) -> &'static str {
        match self {
            StreamError::NotFound { .. } => "ResourceNotFoundException",
            StreamError::InUse { .. } => "ResourceInUseException",
            StreamError::InvalidArgument(_) => "InvalidArgumentException",
            StreamError::LimitExceeded(_) => "LimitExceededException",
            StreamError::Validation(_) => "ValidationException",
            StreamError::Io(_) | StreamError::Store(_) => "InternalFailure",
        }
    }

    /// `Stream NAME under account ACCOUNT not found.`
    pub fn stream_not_found(name: &str, account: &str) -> StreamError {
        StreamError::NotFound {
            message: format!("Stream {name} under account {account} not found."),
        }
    }

    /// `Stream NAME under account ACCOUNT already exists.`
    pub fn stream_exists(name: &str, account: &str) -> StreamError {
        StreamError::InUse {
            message: format!("Stream {name} under account {account} already exists."),
        }
    }

    /// `Stream NAME under account ACCOUNT not ACTIVE, instead in state STATUS`.
    pub fn stream_not_active(name: &str, account: &str, status: &str) -> StreamError {
        StreamError::InUse {
            message: format!(
                "Stream {name} under account {account} not ACTIVE, instead in state {status}"
            ),
        }
    }

    /// A shard named by SplitShard or MergeShards that the stream does not have.
    pub fn could_not_find_shard(shard: &str, name: &str, account: &str) -> StreamError {
        StreamError::NotFound {
            message: format!(
                "Could not find shard {shard} in stream {name} under account {account}."
            ),
        }
    }

    /// A shard that the stream does not have (GetShardIterator's words).
    pub fn shard_not_found(shard: crate::ShardId, name: &str, account: &str) -> StreamError {
        StreamError::NotFound {
            message: format!(
                "Shard {shard} in stream {name} under account {account} does not exist"
            ),
        }
    }
}
