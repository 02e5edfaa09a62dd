//! The consumer groups' cases: lease claims that only one claimant wins, and checkpoints that
//! commit with their batch only while their writer holds the lease.

use std::sync::Arc;

use weir_store::*;

use crate::{Db, secret};

fn claim<'a>(owner: &'a str, seen_counter: i64, now: i64) -> LeaseClaim<'a> {
    LeaseClaim {
        group_name: "g",
        stream: "orders",
        shard: "shardId-000000000000",
        owner,
        seen_counter,
        now,
        expires_at: now + 10_000,
    }
}

fn checkpoint(owner: &str, sequence: &str, next_offset: i64) -> Mutation {
    ConsumerMutation::Checkpoint(CheckpointRecord {
        group_name: "g".into(),
        stream: "orders".into(),
        shard: "shardId-000000000000".into(),
        owner: owner.into(),
        checkpoint: sequence.into(),
        next_offset,
        at: 5,
    })
    .into()
}

pub(crate) async fn leases_are_taken_renewed_and_stolen_only_when_expired(db: Db) {
    let store = &db.store;
    let taken = store.claim_lease(&claim("a", 0, 1_000)).await.unwrap();
    let taken = taken.expect("a free lease is taken");
    assert_eq!(taken.owner.as_deref(), Some("a"));
    assert_eq!((taken.lease_counter, taken.expires_at), (1, 11_000));
    assert_eq!(taken.checkpoint, None);
    // Another claimant that read the lease before it was taken loses; so does one that read it
    // taken, while it has not expired.
    assert_eq!(
        store.claim_lease(&claim("b", 0, 2_000)).await.unwrap(),
        None
    );
    assert_eq!(
        store.claim_lease(&claim("b", 1, 2_000)).await.unwrap(),
        None
    );
    // The owner renews it.
    let renewed = store.claim_lease(&claim("a", 1, 5_000)).await.unwrap();
    assert_eq!(
        renewed.map(|l| (l.lease_counter, l.expires_at)),
        Some((2, 15_000))
    );
    // Expired: someone else takes it, and the former owner's renewal then fails.
    let stolen = store.claim_lease(&claim("b", 2, 15_000)).await.unwrap();
    assert_eq!(stolen.and_then(|l| l.owner), Some("b".into()));
    assert_eq!(
        store.claim_lease(&claim("a", 2, 15_001)).await.unwrap(),
        None
    );
    // Released, it is free at once for whoever saw its last counter.
    store
        .release_lease("g", "orders", "shardId-000000000000", "a")
        .await
        .unwrap();
    let leases = store.leases("g", "orders").await.unwrap();
    assert_eq!(
        leases[0].owner.as_deref(),
        Some("b"),
        "only the owner releases"
    );
    store
        .release_lease("g", "orders", "shardId-000000000000", "b")
        .await
        .unwrap();
    let again = store.claim_lease(&claim("a", 3, 15_002)).await.unwrap();
    assert_eq!(again.map(|l| l.lease_counter), Some(4));
    let db = db.reopen().await;
    let leases = db.store.leases("g", "orders").await.unwrap();
    assert_eq!(leases.len(), 1, "{}", db.backend());
    assert_eq!(leases[0].owner.as_deref(), Some("a"));
    assert_eq!(db.store.leases("other", "orders").await.unwrap(), vec![]);
}

pub(crate) async fn concurrent_claims_of_one_lease_have_one_winner(db: Db) {
    let store = db.store.clone();
    let claims: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let owner = format!("server-{i}");
                store.claim_lease(&claim(&owner, 0, 1_000)).await.unwrap()
            })
        })
        .collect();
    let mut winners = Vec::new();
    for claim in claims {
        winners.extend(claim.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "{}: {winners:?}", db.backend());
    let leases = store.leases("g", "orders").await.unwrap();
    assert_eq!(leases[0].owner, winners[0].owner);
    assert_eq!(leases[0].lease_counter, 1);
}

pub(crate) async fn checkpoints_commit_with_their_batch_only_under_the_lease(db: Db) {
    let store = &db.store;
    store.claim_lease(&claim("a", 0, 1_000)).await.unwrap();
    let seq = "49590338271490256608559692538361571095921575989136588898";
    // The checkpoint and the sink's own mutation commit together.
    store
        .apply(&[
            secret("manifest", "c2VhbGVk", 1).into_put(),
            checkpoint("a", seq, 7),
        ])
        .await
        .unwrap();
    let lease = &store.leases("g", "orders").await.unwrap()[0];
    assert_eq!(lease.checkpoint.as_deref(), Some(seq));
    assert_eq!((lease.next_offset, lease.updated_at), (Some(7), 5));
    assert!(!lease.at_shard_end());
    // Another consumer takes the expired lease: the former owner's batch fails whole, through
    // the group committer too, while a batch committed beside it goes through.
    store.claim_lease(&claim("b", 1, 20_000)).await.unwrap();
    let committer = Committer::start(store.clone());
    let lost = committer.submit(vec![
        secret("lost", "bG9zdA==", 2).into_put(),
        checkpoint("a", "SHARD_END", 9),
    ]);
    let beside = committer.submit(vec![secret("beside", "b2s=", 3).into_put()]);
    let (lost, beside) = tokio::join!(lost, beside);
    let error = lost.expect_err("a checkpoint without the lease fails its batch");
    assert!(error.to_string().contains("lost its lease"), "{error}");
    beside.unwrap();
    assert_eq!(store.secret("lost").await.unwrap(), None);
    assert!(store.secret("beside").await.unwrap().is_some());
    let direct = store.apply(&[checkpoint("a", "SHARD_END", 9)]).await;
    assert!(
        matches!(direct, Err(StoreError::LeaseLost { .. })),
        "{direct:?}"
    );
    let lease = &store.leases("g", "orders").await.unwrap()[0];
    assert_eq!(lease.checkpoint.as_deref(), Some(seq), "unchanged");
    // The new owner finishes the shard.
    store.apply(&[checkpoint("b", SHARD_END, 9)]).await.unwrap();
    assert!(store.leases("g", "orders").await.unwrap()[0].at_shard_end());
    // Deleting the group forgets its leases and checkpoints, and nothing else.
    store
        .claim_lease(&LeaseClaim {
            group_name: "h",
            ..claim("c", 0, 1)
        })
        .await
        .unwrap();
    store
        .apply(&[ConsumerMutation::DeleteGroup {
            group_name: "g".into(),
        }
        .into()])
        .await
        .unwrap();
    let all = store.all_leases().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|l| l.group_name.as_str())
            .collect::<Vec<_>>(),
        ["h"]
    );
}

trait IntoPut {
    fn into_put(self) -> Mutation;
}

impl IntoPut for SecretRecord {
    fn into_put(self) -> Mutation {
        SecretMutation::PutSecret(self).into()
    }
}

pub(crate) async fn event_source_mappings_round_trip_and_delete(db: Db) {
    let store = &db.store;
    let mapping = |uuid: &str, at: i64| EventSourceMappingRecord {
        uuid: uuid.into(),
        function_name: "score".into(),
        config: serde_json::json!({ "stream": "orders", "batch_size": 100 }),
        state: "Enabled".into(),
        state_reason: "USER_INITIATED".into(),
        created_at: at,
        updated_at: at,
    };
    store
        .apply(&[
            EventSourceMutation::PutMapping(mapping("b", 2)).into(),
            EventSourceMutation::PutMapping(mapping("a", 3)).into(),
        ])
        .await
        .unwrap();
    let disabled = EventSourceMappingRecord {
        state: "Disabled".into(),
        updated_at: 9,
        ..mapping("b", 2)
    };
    store
        .apply(&[EventSourceMutation::PutMapping(disabled.clone()).into()])
        .await
        .unwrap();
    let db = db.reopen().await;
    let store = &db.store;
    assert_eq!(
        store.event_source_mapping("b").await.unwrap(),
        Some(disabled)
    );
    let uuids: Vec<String> = store
        .event_source_mappings()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.uuid)
        .collect();
    assert_eq!(uuids, ["b", "a"], "oldest first, {}", db.backend());
    // Deleted then created again in one batch: the delete goes first.
    store
        .apply(&[
            EventSourceMutation::DeleteMapping { uuid: "a".into() }.into(),
            EventSourceMutation::DeleteMapping { uuid: "b".into() }.into(),
            EventSourceMutation::PutMapping(mapping("b", 5)).into(),
        ])
        .await
        .unwrap();
    let left = store.event_source_mappings().await.unwrap();
    assert_eq!(left, vec![mapping("b", 5)]);
}
