//! Opening the service: every stream's metadata from the store, every shard's log recovered, a
//! writer started per stream, and the folders no stream owns (a deletion or a creation that a
//! crash cut short) removed.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use weir_store::{Committer, Store};

use super::state::{ShardSpec, StreamMeta, StreamState};
use super::{Inner, Streams, StreamsConfig, blocking, now_ms};
use crate::StreamError;
use crate::log::WriterHandle;

/// How often retention runs in the background.
const RETENTION_EVERY: Duration = Duration::from_secs(60);

impl Streams {
    /// Loads every stream's metadata from the store and opens (recovers) their logs.
    pub async fn open(
        config: StreamsConfig,
        store: Arc<dyn Store>,
        committer: Committer,
    ) -> Result<Streams, StreamError> {
        let dir = config.dir.clone();
        blocking(move || Ok(std::fs::create_dir_all(dir)?)).await?;
        let streams = Streams {
            inner: Arc::new(Inner {
                config,
                store,
                committer,
                streams: RwLock::new(BTreeMap::new()),
                groups: Arc::default(),
                admin: Arc::new(tokio::sync::Mutex::new(())),
                changes: tokio::sync::broadcast::channel(1024).0,
            }),
        };
        let mut owned = HashSet::new();
        for record in streams.inner.store.streams().await? {
            owned.insert(record.storage_dir.clone());
            let state = streams.load(record).await?;
            streams
                .inner
                .streams
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(state.name.clone(), Arc::new(state));
        }
        let root = streams.inner.config.dir.clone();
        blocking(move || {
            remove_unowned(&root, &owned);
            Ok(())
        })
        .await?;
        tokio::spawn(retention_loop(Arc::downgrade(&streams.inner)));
        Ok(streams)
    }

    /// One stream from its stored record: shards opened, writer started.
    async fn load(&self, record: weir_store::StreamRecord) -> Result<StreamState, StreamError> {
        let store = &self.inner.store;
        let specs = store
            .stream_shards(&record.name)
            .await?
            .iter()
            .map(ShardSpec::from_record)
            .collect::<Result<Vec<_>, _>>()?;
        let consumers = store
            .stream_consumers(&record.name)
            .await?
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect();
        if record.storage_dir.contains(['/', '\\']) || record.storage_dir.starts_with('.') {
            return Err(StreamError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("stream {}: stored folder name is not valid", record.name),
            )));
        }
        let dir = self.inner.config.dir.join(&record.storage_dir);
        let shards_dir = dir.clone();
        let shards = blocking(move || {
            specs
                .into_iter()
                .map(|spec| Ok((spec.id, spec.open(&shards_dir, false)?)))
                .collect::<Result<BTreeMap<_, _>, StreamError>>()
        })
        .await?;
        let open = shards
            .values()
            .filter(|s| s.ending_offset.is_none())
            .map(|s| s.open_shard())
            .collect();
        let writer = WriterHandle::start(self.writer_options(&record.name), open)?;
        let meta = StreamMeta {
            record,
            shards,
            consumers,
        };
        Ok(StreamState::new(dir, writer, meta))
    }
}

/// Removes the folders under `root` that no stream owns: what a deletion left when the server
/// stopped between committing it and removing the files, or a creation that never committed.
fn remove_unowned(root: &std::path::Path, owned: &HashSet<String>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_stream_dir = name.rsplit_once('-').is_some_and(|(_, created)| {
            !created.is_empty() && created.bytes().all(|b| b.is_ascii_digit())
        });
        if is_stream_dir && !owned.contains(&name) && entry.path().is_dir() {
            tracing::info!(dir = %entry.path().display(), "removing the files of a deleted stream");
            if let Err(error) = std::fs::remove_dir_all(entry.path()) {
                tracing::warn!(dir = %entry.path().display(), %error, "cannot remove a deleted stream's files");
            }
        }
    }
}

/// Enforces retention every minute for as long as the service exists.
async fn retention_loop(inner: Weak<Inner>) {
    let mut ticks = tokio::time::interval(RETENTION_EVERY);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let streams = Streams { inner };
        let _ = tokio::task::spawn_blocking(move || streams.enforce_retention(now_ms())).await;
    }
}
