//! What the stream tests share: a real SQLite metadata store and a log folder in a temporary
//! directory, opened (and opened again) as a server would.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use weir_store::{Committer, Store};
use weir_stream::{NewRecord, NewStream, StreamMode, Streams, StreamsConfig};

pub const ACCOUNT: &str = "000000000000";

pub struct Env {
    pub dir: PathBuf,
    pub store: Arc<dyn Store>,
    pub streams: Streams,
}

pub async fn open(dir: &Path) -> Env {
    open_with(dir, |_| {}).await
}

pub async fn open_with(dir: &Path, configure: impl FnOnce(&mut StreamsConfig)) -> Env {
    let store = weir_store::open(&format!("sqlite://{}/weir.db", dir.display()))
        .await
        .expect("metadata store");
    let committer = Committer::start(Arc::clone(&store));
    let mut config = StreamsConfig::new(dir.join("streams"), "us-east-1", ACCOUNT);
    configure(&mut config);
    let streams = Streams::open(config, Arc::clone(&store), committer)
        .await
        .expect("streams open");
    Env {
        dir: dir.to_path_buf(),
        store,
        streams,
    }
}

pub fn provisioned(name: &str, shards: u32) -> NewStream {
    NewStream {
        name: name.into(),
        mode: StreamMode::Provisioned,
        shard_count: Some(shards),
        tags: Vec::new(),
    }
}

pub fn record(key: &str, data: &str) -> NewRecord {
    NewRecord {
        partition_key: key.into(),
        explicit_hash_key: None,
        data: Bytes::copy_from_slice(data.as_bytes()),
    }
}

pub fn at_hash(hash: u128, data: &str) -> NewRecord {
    NewRecord {
        partition_key: "k".into(),
        explicit_hash_key: Some(hash),
        data: Bytes::copy_from_slice(data.as_bytes()),
    }
}
