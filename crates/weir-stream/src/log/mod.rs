//! The log: per shard, a folder of append-only segment files of CRC32C-framed records
//! (`frame.rs`), each sealed segment with a sparse offset/time index beside it (`index.rs`);
//! recovery's scan that cuts a torn tail (`scan.rs`); one segment's durable view and reads
//! (`segment.rs`); a shard's segments, reads across them and retention (`shard.rs`); and the
//! per-stream writer thread with group commit (`writer.rs`).

mod frame;
mod index;
mod scan;
mod segment;
mod shard;
mod writer;

pub(crate) use shard::{ShardLog, sync_dir};
pub(crate) use writer::{Command, OpenShard, Reshard, Routed, WriterHandle, WriterOptions};
