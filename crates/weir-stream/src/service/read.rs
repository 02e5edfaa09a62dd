//! GetRecords and GetShardIterator's positions, and the watches tailers wait on.

use tokio::sync::watch;

use super::{Streams, now_ms};
use crate::{
    ReadBatch, SequenceNumber, ShardExtent, ShardId, StartingPosition, StreamActivity, StreamError,
};

impl Streams {
    /// Up to `limit` records and about `max_bytes` of data from `from_offset` on (at least one
    /// record when there is one), never past the durable end. At a closed shard's end the batch
    /// says so and names the shard's children.
    pub fn read(
        &self,
        stream: &str,
        shard: ShardId,
        from_offset: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<ReadBatch, StreamError> {
        let state = self.stream(stream)?;
        let shard_state = self.shard(&state, shard)?;
        let log = &shard_state.log;
        let read = log.read(from_offset, limit, max_bytes)?;
        let end = log.end_offset();
        let caught_up = read.next_offset >= end;
        let millis_behind_latest = match read.records.last() {
            _ if caught_up => 0,
            Some(last) => (now_ms() - last.arrival_ms).max(0),
            None => 0,
        };
        let at_shard_end = shard_state
            .ending_offset
            .is_some_and(|ending| read.next_offset >= ending);
        let child_shards = if at_shard_end {
            state.meta().children(shard)
        } else {
            Vec::new()
        };
        Ok(ReadBatch {
            records: read.records,
            next_offset: read.next_offset,
            millis_behind_latest,
            at_shard_end,
            child_shards,
        })
    }

    /// The offset an iterator of this type starts at.
    pub fn start_offset(
        &self,
        stream: &str,
        shard: ShardId,
        at: StartingPosition,
    ) -> Result<u64, StreamError> {
        let state = self.stream(stream)?;
        let log = self.shard(&state, shard)?.log;
        let end = log.end_offset();
        let of_this_shard = |sequence: SequenceNumber| {
            if sequence.shard() != shard {
                return Err(StreamError::InvalidArgument(format!(
                    "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {shard}",
                    sequence.shard()
                )));
            }
            Ok(sequence)
        };
        let invalid = |sequence: SequenceNumber| {
            StreamError::InvalidArgument(format!(
                "StartingSequenceNumber {sequence} used in GetShardIterator on shard {shard} in stream {stream} under account {} is invalid.",
                self.account()
            ))
        };
        Ok(match at {
            StartingPosition::TrimHorizon => log.first_offset(),
            StartingPosition::Latest => end,
            // A shard's starting sequence number names no record: AT and AFTER it both begin
            // at the shard's first record, even before there is one.
            StartingPosition::AtSequence(sequence) => {
                let offset = of_this_shard(sequence)?.offset_at();
                if offset > end {
                    return Err(invalid(sequence));
                }
                offset
            }
            StartingPosition::AfterSequence(sequence) => {
                let offset = of_this_shard(sequence)?.next_offset();
                if offset > end {
                    return Err(invalid(sequence));
                }
                offset
            }
            StartingPosition::AtTimestamp(ms) => log.offset_at_time(ms)?,
        })
    }

    /// The shard's durable end (the next offset), changing on each append.
    pub fn watch(&self, stream: &str, shard: ShardId) -> Result<watch::Receiver<u64>, StreamError> {
        let state = self.stream(stream)?;
        Ok(self.shard(&state, shard)?.log.subscribe())
    }

    /// What the stream has taken in and where its shards' logs are, from counters in memory.
    pub fn activity(&self, stream: &str) -> Result<StreamActivity, StreamError> {
        use std::sync::atomic::Ordering;
        let state = self.stream(stream)?;
        let shards = state
            .meta()
            .shards
            .values()
            .filter(|shard| !shard.log.is_retired())
            .map(|shard| ShardExtent {
                shard: shard.id,
                first_offset: shard.log.first_offset(),
                end_offset: shard.log.end_offset(),
                last_arrival_ms: shard.log.last_arrival_ms(),
            })
            .collect();
        Ok(StreamActivity {
            records: state.writer.totals.records.load(Ordering::Relaxed),
            bytes: state.writer.totals.bytes.load(Ordering::Relaxed),
            shards,
        })
    }
}
