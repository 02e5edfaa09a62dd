//! SplitShard, MergeShards and UpdateShardCount. Each becomes a plan (which open shards close,
//! which new shards appear, with their lineage), applied the same way: the new shards' folders
//! are made, the writer stops appending to the closing shards and reports their ends, the whole
//! change commits to the store in one batch, and only then does the writer place records into
//! the new shards. A parent's records stay where they are, readable until retention.

use std::sync::Arc;

use tokio::sync::oneshot;
use weir_store::{Mutation, StreamMutation};

use super::state::{ShardSpec, ShardState, StreamState};
use super::{AdminGuard, SHARD_LIMIT, Streams, blocking, now_ms};
use crate::hash::even_ranges;
use crate::log::{Command, Reshard, sync_dir};
use crate::{ShardId, StreamError, StreamMode};

/// A change of a stream's shards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Open shards that close.
    pub close: Vec<ShardId>,
    /// New shards, in id order. Those that a later step of the same plan closes again (the
    /// short-lived shards of UpdateShardCount) are created closed, empty.
    pub new: Vec<NewShard>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewShard {
    pub id: ShardId,
    pub parent: ShardId,
    pub adjacent_parent: Option<ShardId>,
    pub hash_start: u128,
    pub hash_end: u128,
    pub open: bool,
}

/// A shard as a plan sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece {
    pub id: ShardId,
    pub start: u128,
    pub end: u128,
}

impl Plan {
    /// `piece` closes: an open shard of the stream, or a new shard of this plan.
    fn consume(&mut self, piece: Piece) {
        match self.new.iter_mut().find(|n| n.id == piece.id) {
            Some(new) => new.open = false,
            None => self.close.push(piece.id),
        }
    }

    fn add(&mut self, id: &mut u32, parents: (Piece, Option<Piece>), range: (u128, u128)) -> Piece {
        let piece = Piece {
            id: ShardId(*id),
            start: range.0,
            end: range.1,
        };
        *id += 1;
        self.new.push(NewShard {
            id: piece.id,
            parent: parents.0.id,
            adjacent_parent: parents.1.map(|p| p.id),
            hash_start: range.0,
            hash_end: range.1,
            open: true,
        });
        piece
    }

    fn split(&mut self, id: &mut u32, shard: Piece, key: u128) -> (Piece, Piece) {
        self.consume(shard);
        let low = self.add(id, (shard, None), (shard.start, key - 1));
        let high = self.add(id, (shard, None), (key, shard.end));
        (low, high)
    }

    fn merge(&mut self, id: &mut u32, shard: Piece, adjacent: Piece) -> Piece {
        self.consume(shard);
        self.consume(adjacent);
        let range = (shard.start.min(adjacent.start), shard.end.max(adjacent.end));
        self.add(id, (shard, Some(adjacent)), range)
    }
}

/// UpdateShardCount's UNIFORM_SCALING as splits and merges, so every new shard has at most two
/// parents (the lineage consumers follow): first each open shard is split at every boundary of
/// the target layout inside it, then the pieces inside each target range are merged left to
/// right. `open` are the stream's open shards; new shards are numbered from `next_id`.
pub(crate) fn uniform_plan(open: &[Piece], next_id: u32, target: u32) -> Plan {
    let mut plan = Plan::default();
    let mut id = next_id;
    let layout = even_ranges(target);
    let mut pieces = Vec::new();
    let mut sorted = open.to_vec();
    sorted.sort_by_key(|p| p.start);
    for shard in sorted {
        let mut rest = shard;
        for &(boundary, _) in layout.iter().skip(1) {
            if boundary > rest.start && boundary <= rest.end {
                let (low, high) = plan.split(&mut id, rest, boundary);
                pieces.push(low);
                rest = high;
            }
        }
        pieces.push(rest);
    }
    for (start, end) in layout {
        let mut inside = pieces.iter().filter(|p| p.start >= start && p.end <= end);
        let Some(mut merged) = inside.next().copied() else {
            continue;
        };
        for &piece in inside {
            merged = plan.merge(&mut id, merged, piece);
        }
    }
    plan
}

impl Streams {
    /// SplitShard: `shard` closes; two children take its range below and from
    /// `new_starting_hash_key`.
    pub async fn split_shard(
        &self,
        stream: &str,
        shard: ShardId,
        new_starting_hash_key: u128,
    ) -> Result<(), StreamError> {
        let admin = self.admin().await;
        let state = self.stream(stream)?;
        let (plan, _) = {
            let meta = state.meta();
            self.check_active(&meta.record.status, stream)?;
            let parent = self.open_shard(&state, shard)?;
            let key = new_starting_hash_key;
            if key <= parent.hash_start.saturating_add(1) || key >= parent.hash_end {
                return Err(StreamError::InvalidArgument(format!(
                    "NewStartingHashKey {key} used in SplitShard() on shard {shard} in stream {stream} under account {} is not both greater than one plus the shard's StartingHashKey {} and less than the shard's EndingHashKey {}.",
                    self.account(),
                    parent.hash_start,
                    parent.hash_end
                )));
            }
            let mut plan = Plan::default();
            let mut id = meta.next_shard_id();
            plan.split(&mut id, piece(&parent), key);
            (plan, id)
        };
        self.check_shard_limit(1)?;
        self.apply(admin, state, plan).await
    }

    /// MergeShards: two adjacent open shards close; one child takes both ranges.
    pub async fn merge_shards(
        &self,
        stream: &str,
        shard: ShardId,
        adjacent: ShardId,
    ) -> Result<(), StreamError> {
        let admin = self.admin().await;
        let state = self.stream(stream)?;
        let plan = {
            let meta = state.meta();
            self.check_active(&meta.record.status, stream)?;
            let first = self.open_shard(&state, shard)?;
            let second = self.open_shard(&state, adjacent)?;
            let adjacent_ranges = first.hash_end.checked_add(1) == Some(second.hash_start)
                || second.hash_end.checked_add(1) == Some(first.hash_start);
            if !adjacent_ranges {
                return Err(StreamError::InvalidArgument(format!(
                    "Shards {shard} and {adjacent} in stream {stream} under account {} are not an adjacent pair of shards eligible for merging",
                    self.account()
                )));
            }
            let mut plan = Plan::default();
            plan.merge(&mut meta.next_shard_id(), piece(&first), piece(&second));
            plan
        };
        self.apply(admin, state, plan).await
    }

    /// UpdateShardCount (UNIFORM_SCALING): the open shards become `target` shards of equal
    /// ranges, through splits and merges (see [`uniform_plan`]).
    pub async fn update_shard_count(&self, stream: &str, target: u32) -> Result<(), StreamError> {
        let admin = self.admin().await;
        let state = self.stream(stream)?;
        let plan = {
            let meta = state.meta();
            if meta.mode() == StreamMode::OnDemand {
                return Err(StreamError::Validation(format!(
                    "Request is invalid. Stream {stream} under account {} is in On-Demand mode.",
                    self.account()
                )));
            }
            self.check_active(&meta.record.status, stream)?;
            let open: Vec<Piece> = meta.open_shards().map(piece).collect();
            let current = open.len() as u64;
            let limits = [
                (
                    u64::from(target) > u64::from(SHARD_LIMIT),
                    format!(
                        "Target shard count or number of open shards cannot be greater than {SHARD_LIMIT}."
                    ),
                ),
                (
                    u64::from(target) > current * 2,
                    "UpdateShardCount cannot scale up over double your current open shard count."
                        .to_string(),
                ),
                (
                    u64::from(target) * 2 < current,
                    "UpdateShardCount cannot scale down below half your current open shard count."
                        .to_string(),
                ),
            ];
            if let Some((_, reason)) = limits.iter().find(|(exceeded, _)| *exceeded) {
                return Err(StreamError::LimitExceeded(format!(
                    "{reason} Current open shard count: {current}, Target shard count: {target}"
                )));
            }
            uniform_plan(&open, meta.next_shard_id(), target)
        };
        let more = plan.new.iter().filter(|n| n.open).count() as u32;
        self.check_shard_limit(more.saturating_sub(plan.close.len() as u32))?;
        if plan.new.is_empty() {
            return Ok(());
        }
        self.apply(admin, state, plan).await
    }

    fn check_active(&self, status: &str, stream: &str) -> Result<(), StreamError> {
        if status != "ACTIVE" {
            return Err(StreamError::stream_not_active(
                stream,
                self.account(),
                status,
            ));
        }
        Ok(())
    }

    /// A shard that SplitShard or MergeShards may change.
    fn open_shard(&self, state: &StreamState, shard: ShardId) -> Result<ShardState, StreamError> {
        let found = state.meta().shards.get(&shard).cloned();
        let found = found.ok_or_else(|| {
            StreamError::could_not_find_shard(&shard.to_string(), &state.name, self.account())
        })?;
        if found.ending_offset.is_some() {
            return Err(StreamError::InvalidArgument(format!(
                "Shard {shard} in stream {} under account {} has already been merged or split, and thus is not eligible for merging or splitting.",
                state.name,
                self.account()
            )));
        }
        Ok(found)
    }

    /// Applies a plan: new shards' folders, the writer's switch, one commit, memory.
    async fn apply(
        &self,
        admin: AdminGuard,
        state: Arc<StreamState>,
        plan: Plan,
    ) -> Result<(), StreamError> {
        let now = now_ms();
        let specs: Vec<ShardSpec> = plan
            .new
            .iter()
            .map(|new| ShardSpec {
                id: new.id,
                parent: Some(new.parent),
                adjacent_parent: new.adjacent_parent,
                hash_start: new.hash_start,
                hash_end: new.hash_end,
                starting_offset: 0,
                ending_offset: (!new.open).then_some(0),
                created_ms: now,
                closed_ms: (!new.open).then_some(now),
            })
            .collect();
        let dir = state.dir.clone();
        let children = blocking(move || {
            let children = specs
                .into_iter()
                .map(|spec| spec.open(&dir, true))
                .collect::<Result<Vec<_>, StreamError>>()?;
            sync_dir(&dir)?;
            Ok(children)
        })
        .await?;
        let open = children
            .iter()
            .filter(|c| c.ending_offset.is_none())
            .map(|c| c.open_shard())
            .collect();
        let (ends_tx, ends) = oneshot::channel();
        let (proceed, proceed_rx) = oneshot::channel();
        let reshard = Reshard {
            close: plan.close.clone(),
            open,
            ends: ends_tx,
            proceed: proceed_rx,
        };
        let gone = || StreamError::stream_not_found(&state.name, self.account());
        if !state.writer.send(Command::Reshard(reshard)) {
            return Err(gone());
        }
        let ends = ends.await.map_err(|_| gone())?;
        let parents: Vec<ShardState> = {
            let meta = state.meta();
            ends.iter()
                .filter_map(|(id, end)| {
                    let mut parent = meta.shards.get(id)?.clone();
                    parent.ending_offset = Some(*end);
                    parent.closed_ms = Some(now);
                    Some(parent)
                })
                .collect()
        };
        let mutations: Vec<Mutation> = parents
            .iter()
            .chain(&children)
            .map(|s| StreamMutation::PutShard(s.record(&state.name)).into())
            .collect();
        let name = state.name.clone();
        self.commit_then(admin, mutations, move |committed| {
            // The writer waits for this answer: the children take records only once the new
            // layout is durable; otherwise the parents take them again.
            let _ = proceed.send(committed.is_ok());
            committed?;
            let mut meta = state.meta_mut();
            for shard in parents.into_iter().chain(children) {
                meta.shards.insert(shard.id, shard);
            }
            Ok(())
        })
        .await?;
        self.announce(&name, "RESHARDED");
        Ok(())
    }
}

fn piece(shard: &ShardState) -> Piece {
    Piece {
        id: shard.id,
        start: shard.hash_start,
        end: shard.hash_end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(count: u32) -> Vec<Piece> {
        even_ranges(count)
            .into_iter()
            .enumerate()
            .map(|(i, (start, end))| Piece {
                id: ShardId(i as u32),
                start,
                end,
            })
            .collect()
    }

    /// Applies a plan to the open shards: what is open afterwards, by range.
    fn after(open: &[Piece], plan: &Plan) -> Vec<(u128, u128)> {
        let mut ranges: Vec<(u128, u128)> = open
            .iter()
            .filter(|p| !plan.close.contains(&p.id))
            .map(|p| (p.start, p.end))
            .chain(
                plan.new
                    .iter()
                    .filter(|n| n.open)
                    .map(|n| (n.hash_start, n.hash_end)),
            )
            .collect();
        ranges.sort();
        ranges
    }

    #[test]
    fn uniform_scaling_reaches_the_even_layout_with_two_parents_at_most() {
        for (from, to) in [
            (1, 2),
            (2, 4),
            (4, 2),
            (5, 3),
            (3, 5),
            (10, 13),
            (10, 5),
            (7, 7),
            (1, 1),
        ] {
            let open = layout(from);
            let plan = uniform_plan(&open, from, to);
            assert_eq!(after(&open, &plan), even_ranges(to), "{from} -> {to}");
            // Every closed shard, original or short-lived, is some new shard's parent, and
            // every new shard's parents cover exactly its range.
            let closed_new: Vec<ShardId> =
                plan.new.iter().filter(|n| !n.open).map(|n| n.id).collect();
            for id in plan.close.iter().chain(&closed_new) {
                assert!(
                    plan.new
                        .iter()
                        .any(|n| n.parent == *id || n.adjacent_parent == Some(*id)),
                    "{from} -> {to}: {id} has no child"
                );
            }
            let ids: Vec<u32> = plan.new.iter().map(|n| n.id.0).collect();
            let expected: Vec<u32> = (from..from + ids.len() as u32).collect();
            assert_eq!(ids, expected, "numbered in order");
        }
        assert_eq!(uniform_plan(&layout(4), 4, 4), Plan::default());
    }
}
