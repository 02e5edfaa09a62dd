//! Which shards a group may process now, and where each starts: the Kinesis Client Library's rule
//! that a child shard waits until all its parents are finished (checkpointed at `SHARD_END`), so
//! the records of a partition key are processed in order across a split or a merge.

use std::collections::HashMap;

use weir_store::LeaseRecord;

use crate::{ShardDescription, ShardId, StartingPosition};

/// Where a shard's processing starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Start {
    /// At this offset, from the group's checkpoint.
    Offset(u64),
    /// At a position the stream resolves.
    Position(StartingPosition),
}

/// The shards that may be processed now (not finished, every parent finished), by id, with where
/// each starts. `leases` are the group's rows for the stream, by shard.
pub(super) fn ready(
    shards: &[ShardDescription],
    leases: &HashMap<ShardId, LeaseRecord>,
    start: StartingPosition,
) -> Vec<(ShardId, Start)> {
    let by_id: HashMap<ShardId, &ShardDescription> = shards.iter().map(|s| (s.id, s)).collect();
    let finished = |id: ShardId| match by_id.get(&id) {
        // Gone (past retention): nothing of it can be processed any more.
        None => true,
        Some(shard) => {
            leases.get(&id).is_some_and(LeaseRecord::at_shard_end) || skipped(shard, leases, start)
        }
    };
    shards
        .iter()
        .filter(|shard| !finished(shard.id))
        .filter(|shard| parents(shard).all(finished))
        .map(|shard| (shard.id, start_of(shard, &by_id, leases, start)))
        .collect()
}

/// A group that starts at LATEST ignores the shards that were closed before it first saw them:
/// they hold only records older than its start. A closed shard the group has no lease row for
/// is one of those (the group creates a shard's row when it first takes it, before the shard
/// can close under it).
fn skipped(
    shard: &ShardDescription,
    leases: &HashMap<ShardId, LeaseRecord>,
    start: StartingPosition,
) -> bool {
    start == StartingPosition::Latest && !shard.is_open() && !leases.contains_key(&shard.id)
}

fn parents(shard: &ShardDescription) -> impl Iterator<Item = ShardId> {
    shard.parent.into_iter().chain(shard.adjacent_parent)
}

fn start_of(
    shard: &ShardDescription,
    by_id: &HashMap<ShardId, &ShardDescription>,
    leases: &HashMap<ShardId, LeaseRecord>,
    start: StartingPosition,
) -> Start {
    let checkpointed = leases
        .get(&shard.id)
        .and_then(|lease| match lease.checkpoint {
            Some(_) => lease.next_offset.and_then(|n| u64::try_from(n).ok()),
            None => None,
        });
    if let Some(offset) = checkpointed {
        return Start::Offset(offset);
    }
    let has_parents = parents(shard).next().is_some();
    let position = match start {
        // Every record of a child came after the group's start if one of its parents was
        // processed (or is gone, which cannot be told apart): start at its beginning, or records
        // between the parent's end and "now" would be lost.
        StartingPosition::Latest if has_parents => {
            let all_skipped = parents(shard).all(|parent| {
                by_id
                    .get(&parent)
                    .is_some_and(|p| skipped(p, leases, start))
            });
            if all_skipped {
                StartingPosition::Latest
            } else {
                StartingPosition::TrimHorizon
            }
        }
        // A sequence number names one shard; every other starts at its beginning.
        StartingPosition::AtSequence(sequence) | StartingPosition::AfterSequence(sequence)
            if sequence.shard() != shard.id =>
        {
            StartingPosition::TrimHorizon
        }
        other => other,
    };
    Start::Position(position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SequenceNumber;

    fn shard(
        id: u32,
        parent: Option<u32>,
        adjacent: Option<u32>,
        closed: bool,
    ) -> ShardDescription {
        ShardDescription {
            id: ShardId(id),
            parent: parent.map(ShardId),
            adjacent_parent: adjacent.map(ShardId),
            hash_start: 0,
            hash_end: 0,
            starting_sequence: SequenceNumber::before(ShardId(id), 0),
            ending_sequence: closed.then(|| SequenceNumber::of_record(ShardId(id), 100)),
        }
    }

    fn lease(
        id: u32,
        checkpoint: Option<&str>,
        next_offset: Option<i64>,
    ) -> (ShardId, LeaseRecord) {
        let record = LeaseRecord {
            group_name: "g".into(),
            stream: "s".into(),
            shard: ShardId(id).to_string(),
            owner: None,
            lease_counter: 1,
            expires_at: 0,
            checkpoint: checkpoint.map(str::to_string),
            next_offset,
            updated_at: 0,
        };
        (ShardId(id), record)
    }

    fn ids(ready: &[(ShardId, Start)]) -> Vec<u32> {
        ready.iter().map(|(id, _)| id.0).collect()
    }

    #[test]
    fn children_wait_for_every_parent_to_reach_its_end() {
        // 0 split into 1 and 2; 1 and 2 merged into 3.
        let shards = [
            shard(0, None, None, true),
            shard(1, Some(0), None, true),
            shard(2, Some(0), None, true),
            shard(3, Some(1), Some(2), false),
        ];
        let horizon = StartingPosition::TrimHorizon;
        let mut leases = HashMap::new();
        assert_eq!(ids(&ready(&shards, &leases, horizon)), [0]);
        leases.extend([lease(0, Some("123"), Some(50))]);
        let now = ready(&shards, &leases, horizon);
        assert_eq!(now, [(ShardId(0), Start::Offset(50))]);
        leases.extend([lease(0, Some(weir_store::SHARD_END), Some(100))]);
        assert_eq!(ids(&ready(&shards, &leases, horizon)), [1, 2]);
        leases.extend([lease(1, Some(weir_store::SHARD_END), Some(100))]);
        assert_eq!(ids(&ready(&shards, &leases, horizon)), [2], "3 waits for 2");
        leases.extend([lease(2, Some(weir_store::SHARD_END), Some(100))]);
        let now = ready(&shards, &leases, horizon);
        assert_eq!(now, [(ShardId(3), Start::Position(horizon))]);
    }

    #[test]
    fn latest_skips_shards_closed_before_the_group_started() {
        let shards = [
            shard(0, None, None, true),
            shard(1, Some(0), None, false),
            shard(2, Some(0), None, false),
        ];
        let latest = StartingPosition::Latest;
        let ready_now = ready(&shards, &HashMap::new(), latest);
        assert_eq!(
            ready_now,
            [
                (ShardId(1), Start::Position(latest)),
                (ShardId(2), Start::Position(latest))
            ]
        );
        // The group held 0 when it was split: its children start at their beginning.
        let leases = HashMap::from([lease(0, Some(weir_store::SHARD_END), Some(100))]);
        let horizon = Start::Position(StartingPosition::TrimHorizon);
        assert_eq!(
            ready(&shards, &leases, latest),
            [(ShardId(1), horizon), (ShardId(2), horizon)]
        );
    }

    #[test]
    fn expired_parents_hold_nothing_up_and_sequences_name_their_shard() {
        let shards = [shard(4, Some(0), None, false), shard(5, None, None, false)];
        let at = StartingPosition::AtSequence(SequenceNumber::of_record(ShardId(5), 7));
        assert_eq!(
            ready(&shards, &HashMap::new(), at),
            [
                (ShardId(4), Start::Position(StartingPosition::TrimHorizon)),
                (ShardId(5), Start::Position(at))
            ]
        );
    }
}
