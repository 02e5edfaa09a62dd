//! Consumer groups' shard leases and checkpoints, as the Kinesis Client Library keeps them in its
//! lease table: one row per (group, stream, shard) with the lease's owner, its expiry and a
//! counter that every take or renewal bumps, and the checkpoint (the last processed sequence
//! number, or `SHARD_END` once a closed shard is done). Several servers sharing PostgreSQL can
//! consume one stream: a lease is taken with a conditional update (the counter the taker saw must
//! still be there, and the lease must be free, expired or already the taker's), and a checkpoint
//! is a conditional update too (its writer must still own the lease), which fails the whole batch
//! it is part of, so a consumer that lost its shard commits neither the checkpoint nor the
//! mutations that came with it. Records and mutations here; how the batch is sorted in `plan.rs`;
//! statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::ConsumerWrites;

/// The checkpoint text of a closed shard whose every record was processed (KCL's word).
pub const SHARD_END: &str = "SHARD_END";

/// One write of the consumer groups, applied in batch order.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsumerMutation {
    /// Moves a shard's checkpoint, if `owner` still holds its lease; otherwise the whole batch
    /// fails with [`crate::StoreError::LeaseLost`] and nothing of it is written.
    Checkpoint(CheckpointRecord),
    /// Forgets a group: every lease and checkpoint it has on any stream.
    DeleteGroup { group_name: String },
}

/// A checkpoint to write (see [`ConsumerMutation::Checkpoint`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    pub group_name: String,
    pub stream: String,
    pub shard: String,
    /// Who must hold the lease for the write to happen.
    pub owner: String,
    /// The sequence number of the last processed record, or [`SHARD_END`].
    pub checkpoint: String,
    /// The offset in the shard where processing resumes.
    pub next_offset: i64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
}

/// A claim on a shard's lease: a take (of a free or expired lease) or a renewal (of one's own).
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseClaim<'a> {
    pub group_name: &'a str,
    pub stream: &'a str,
    pub shard: &'a str,
    pub owner: &'a str,
    /// The lease counter the claimant last read (0 for a lease never taken): if anyone took or
    /// renewed the lease since, the claim fails.
    pub seen_counter: i64,
    /// Now, and until when the lease is held if the claim succeeds (milliseconds since the
    /// epoch).
    pub now: i64,
    pub expires_at: i64,
}

/// The consumer groups' reads, and the lease claims that cannot wait for a group commit (a claim
/// must know at once whether it won).
#[async_trait::async_trait]
pub trait ConsumerStore: Send + Sync + 'static {
    /// The leases of a group on a stream, by shard.
    async fn leases(&self, group_name: &str, stream: &str) -> Result<Vec<LeaseRecord>>;
    /// Every group's leases, by group, stream and shard.
    async fn all_leases(&self) -> Result<Vec<LeaseRecord>>;
    /// Takes or renews a lease (creating its row if the shard has none): the lease as it now is
    /// when the claim won, `None` when someone else holds it or took it since `seen_counter`.
    async fn claim_lease(&self, claim: &LeaseClaim<'_>) -> Result<Option<LeaseRecord>>;
    /// Gives a lease up (owner cleared, expired) if `owner` holds it, so another consumer takes
    /// it at once instead of waiting for it to expire. The checkpoint stays.
    async fn release_lease(
        &self,
        group_name: &str,
        stream: &str,
        shard: &str,
        owner: &str,
    ) -> Result<()>;
}

/// One shard's lease and checkpoint for one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseRecord {
    pub group_name: String,
    pub stream: String,
    pub shard: String,
    /// Who holds the lease; `None` when it was released or never taken.
    pub owner: Option<String>,
    /// Bumped by every take and renewal.
    pub lease_counter: i64,
    /// Milliseconds since the Unix epoch; the lease is free to take after it.
    pub expires_at: i64,
    /// The sequence number of the last processed record, [`SHARD_END`], or `None` before the
    /// first checkpoint (processing starts at the group's starting position).
    pub checkpoint: Option<String>,
    /// Where processing resumes once there is a checkpoint.
    pub next_offset: Option<i64>,
    pub updated_at: i64,
}

impl LeaseRecord {
    /// Whether the shard is finished: closed, and every record of it processed.
    pub fn at_shard_end(&self) -> bool {
        self.checkpoint.as_deref() == Some(SHARD_END)
    }
}
