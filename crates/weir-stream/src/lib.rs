//! weir's streams: a durable sharded log with Kinesis Data Streams' model, and the [`Streams`]
//! service over it that the Kinesis protocol, deliveries and event source mappings use.
//!
//! **The log** (`log/`) is weir's own storage. Each shard is a folder of append-only segment
//! files, `DATA/streams/<stream>-<created ms>/<shard>/<base offset>.log`, each record framed with
//! its length and a CRC32C, with a sparse offset/time index beside each sealed segment
//! (`<base offset>.idx`). One writer thread per stream gathers every caller's records into one
//! write and one fsync per shard per batch (group commit); a put returns once its records are
//! durable, and readers never see past the durable end. Recovery cuts a torn or corrupt tail;
//! retention drops whole segments.
//!
//! **The metadata** (streams, shards and their lineage, enhanced fan-out consumers, tags) lives in
//! weir-store (`weir_store::streams`), written through the group committer, and is held in
//! memory for reads.

pub mod consumer;
mod error;
pub mod hash;
mod iterator;
mod types;

pub mod bench;
mod log;
mod service;

pub use bench::{BenchFigures, LatencyFigures, bench_append, bench_tail_latency};
pub use error::StreamError;
pub use iterator::{ITERATOR_LIFETIME_MS, ShardIterator};
pub use service::{
    DEFAULT_RETENTION_HOURS, MAX_RETENTION_HOURS, ON_DEMAND_SHARDS, StreamChange, Streams,
    StreamsConfig,
};
pub use types::{
    Appended, ConsumerDescription, NewRecord, NewStream, PutFailure, ReadBatch, Record,
    SequenceNumber, ShardDescription, ShardExtent, ShardId, StartingPosition, StreamActivity,
    StreamDescription, StreamMode, StreamSummary,
};

/// Streams whose names start with this are weir's own (a delivery's direct puts,
/// `__delivery-NAME`; an event bus's events, `__events-BUS`): what they hold was acknowledged
/// to another API's callers and is that subsystem's to read and drop, so neither the Kinesis API
/// nor weir's REST API reaches them, for any caller.
pub const RESERVED_PREFIX: &str = "__";

/// Whether a stream is one of weir's own (see [`RESERVED_PREFIX`]).
pub fn is_reserved(name: &str) -> bool {
    name.starts_with(RESERVED_PREFIX)
}
