//! The consumer groups' statements. Leases are claimed with conditional updates that return the
//! row they changed (`RETURNING`, in both SQLite and PostgreSQL): an update that matched nothing
//! lost the race. On PostgreSQL two concurrent claims serialize on the row's lock and the second
//! re-checks its condition against the first one's result, so at most one wins.

use super::{CheckpointRecord, ConsumerMutation, ConsumerStore, LeaseClaim, LeaseRecord, Plan};
use crate::driver::{Driver, Statement, mapping};
use crate::sql_store::SqlStore;
use crate::{Result, StoreError};

mapping!(LeaseRecord {
    group_name: text,
    stream: text,
    shard: text,
    owner: opt_text,
    lease_counter: value,
    expires_at: value,
    checkpoint: opt_text,
    next_offset: value,
    updated_at: value,
});

/// The consumer groups' writes inside a batch.
pub(crate) struct ConsumerWrites;

impl ConsumerWrites {
    /// Writes the consumer groups' part of a batch, inside the batch's transaction, in batch
    /// order. A checkpoint whose writer no longer holds the lease fails the batch.
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for mutation in plan.mutations {
            match mutation {
                ConsumerMutation::Checkpoint(checkpoint) => {
                    write_checkpoint::<DB>(conn, checkpoint).await?
                }
                ConsumerMutation::DeleteGroup { group_name } => {
                    let delete = Statement::new(DELETE_GROUP).bind(group_name.as_str());
                    DB::execute(conn, delete).await?
                }
            }
        }
        Ok(())
    }
}

async fn write_checkpoint<DB: Driver>(
    conn: &mut DB::Connection,
    checkpoint: &CheckpointRecord,
) -> Result<()> {
    let update = Statement::new(CHECKPOINT)
        .bind(checkpoint.group_name.as_str())
        .bind(checkpoint.stream.as_str())
        .bind(checkpoint.shard.as_str())
        .bind(checkpoint.owner.as_str())
        .bind(checkpoint.checkpoint.as_str())
        .bind(checkpoint.next_offset)
        .bind(checkpoint.at);
    match DB::fetch_optional_in(conn, update).await? {
        Some(_) => Ok(()),
        None => Err(StoreError::LeaseLost {
            group: checkpoint.group_name.clone(),
            stream: checkpoint.stream.clone(),
            shard: checkpoint.shard.clone(),
            owner: checkpoint.owner.clone(),
        }),
    }
}

const CHECKPOINT: &str = "UPDATE consumer_leases SET checkpoint = $5, next_offset = $6, updated_at = $7 \
     WHERE group_name = $1 AND stream = $2 AND shard = $3 AND owner = $4 RETURNING shard";
const DELETE_GROUP: &str = "DELETE FROM consumer_leases WHERE group_name = $1";

/// A lease row that does not exist yet, never taken: the claim below then applies to it as to any
/// other free lease.
const ENSURE_LEASE: &str = "INSERT INTO consumer_leases \
     (group_name, stream, shard, owner, lease_counter, expires_at, checkpoint, next_offset, updated_at) \
     VALUES ($1, $2, $3, NULL, 0, 0, NULL, NULL, $4) \
     ON CONFLICT (group_name, stream, shard) DO NOTHING";
const CLAIM_LEASE: &str = "UPDATE consumer_leases \
     SET owner = $4, lease_counter = lease_counter + 1, expires_at = $7, updated_at = $6 \
     WHERE group_name = $1 AND stream = $2 AND shard = $3 AND lease_counter = $5 \
     AND (owner IS NULL OR owner = $4 OR expires_at <= $6) RETURNING *";
const RELEASE_LEASE: &str = "UPDATE consumer_leases SET owner = NULL, expires_at = 0 \
     WHERE group_name = $1 AND stream = $2 AND shard = $3 AND owner = $4";
const LEASES: &str =
    "SELECT * FROM consumer_leases WHERE group_name = $1 AND stream = $2 ORDER BY shard";
const ALL_LEASES: &str = "SELECT * FROM consumer_leases ORDER BY group_name, stream, shard";

#[async_trait::async_trait]
impl<DB: Driver> ConsumerStore for SqlStore<DB> {
    async fn leases(&self, group_name: &str, stream: &str) -> Result<Vec<LeaseRecord>> {
        self.fetch_all(Statement::new(LEASES).bind(group_name).bind(stream))
            .await
    }

    async fn all_leases(&self) -> Result<Vec<LeaseRecord>> {
        self.fetch_all(Statement::new(ALL_LEASES)).await
    }

    async fn claim_lease(&self, claim: &LeaseClaim<'_>) -> Result<Option<LeaseRecord>> {
        // Both statements go through the writer: on SQLite it is the one connection that writes,
        // so a claim never meets a lock held by a group commit.
        let ensure = Statement::new(ENSURE_LEASE)
            .bind(claim.group_name)
            .bind(claim.stream)
            .bind(claim.shard)
            .bind(claim.now);
        DB::fetch_optional(&self.writer, ensure).await?;
        let update = Statement::new(CLAIM_LEASE)
            .bind(claim.group_name)
            .bind(claim.stream)
            .bind(claim.shard)
            .bind(claim.owner)
            .bind(claim.seen_counter)
            .bind(claim.now)
            .bind(claim.expires_at);
        DB::fetch_optional(&self.writer, update)
            .await?
            .as_ref()
            .map(<LeaseRecord as crate::driver::Record>::decode::<DB>)
            .transpose()
    }

    async fn release_lease(
        &self,
        group_name: &str,
        stream: &str,
        shard: &str,
        owner: &str,
    ) -> Result<()> {
        let release = Statement::new(RELEASE_LEASE)
            .bind(group_name)
            .bind(stream)
            .bind(shard)
            .bind(owner);
        DB::fetch_optional(&self.writer, release).await?;
        Ok(())
    }
}
