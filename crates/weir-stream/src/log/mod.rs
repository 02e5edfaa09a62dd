//! The log: per shard, append-only segment files of CRC32C-framed records.
