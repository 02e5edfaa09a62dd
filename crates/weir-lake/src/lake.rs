//! The lake: object storage through `object_store`, a local directory by default (`DATA/lake`)
//! or any S3-compatible store. Callers use keys relative to the lake's root (`sales/orders/a.csv`);
//! the configured prefix (the directory, or the bucket prefix) is applied here, so the rest of
//! weir never sees where the lake lives.
//!
//! Every write made through [`Lake`] emits an [`ObjectCreated`] event on a broadcast channel
//! (the hook the events subsystem subscribes to). Writers that bypass these methods (DataFusion
//! writing a table through [`Lake::object_store`]) call [`Lake::notify`] once their files are
//! committed to the catalog.

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use datafusion::execution::object_store::ObjectStoreUrl;
use futures::{Stream, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;
use weir_model::config::LakeConfig;

use crate::durable::{DurableLocalStore, SyncListener};
use crate::error::{LakeError, Result};
use crate::upload::Upload;

/// Events kept for slow subscribers before they start missing some.
const EVENT_BUFFER: usize = 4096;
/// How much of a local file an upload reads at a time.
const READ_CHUNK: usize = 1024 * 1024;
/// Longest key accepted (S3's limit is 1,024 bytes for the whole key, prefix included).
const MAX_KEY_BYTES: usize = 900;

/// Bytes as they are read, never held whole.
pub type ByteStream =
    std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

/// One object in the lake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// Relative to the lake's root.
    pub key: String,
    pub size: u64,
    /// µs since the epoch.
    pub last_modified: i64,
    pub etag: Option<String>,
}

/// What weir emits when it writes an object into the lake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCreated {
    pub key: String,
    pub size: u64,
    /// `database.table` when the object was written as part of a catalog table.
    pub table: Option<String>,
    /// The partition the object belongs to (e.g. `day=2024-01-01`), when the table has any.
    pub partition: Option<String>,
    /// The delivery that wrote it, when one did.
    #[serde(default)]
    pub delivery: Option<String>,
}

/// Object storage rooted at the configured location. Cheap to share behind an `Arc`.
pub struct Lake {
    /// The store for the whole bucket (S3) or file system (local): DataFusion resolves table
    /// URLs against it, so it must not be re-rooted.
    store: Arc<dyn ObjectStore>,
    /// The lake's root inside `store` (the directory, or the bucket prefix); may be empty.
    root: Path,
    /// `s3://bucket` or `file://`.
    store_url: ObjectStoreUrl,
    /// `store_url` followed by the root, with a trailing slash.
    url: String,
    events: broadcast::Sender<ObjectCreated>,
    /// The same store as `store` when the lake is a local directory: files written around it (by
    /// hand, then crawled) are fsynced through it before a manifest names them.
    durable: Option<Arc<DurableLocalStore>>,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake").field("url", &self.url).finish()
    }
}

impl Lake {
    /// Opens the lake `config` describes. An empty `url` is the directory `lake` under
    /// `data_dir` (created); `file:///PATH` or a path is a local directory (created; relative
    /// paths are relative to `data_dir`); `s3://BUCKET[/PREFIX]` is an S3-compatible store.
    /// `default_region` (`aws.region`) applies when neither `lake.region` nor `AWS_REGION` is set.
    pub fn open(config: &LakeConfig, data_dir: &FsPath, default_region: &str) -> Result<Lake> {
        let url = config.url.trim();
        if let Some(rest) = url.strip_prefix("s3://") {
            return Self::open_s3(config, rest, default_region);
        }
        let dir = if url.is_empty() {
            data_dir.join("lake")
        } else if let Some(path) = url.strip_prefix("file://") {
            PathBuf::from(path)
        } else if url.contains("://") {
            return Err(LakeError::Config(format!(
                "unsupported lake url `{url}`: expected s3://BUCKET/PREFIX, file:///PATH or a path"
            )));
        } else {
            data_dir.join(url)
        };
        Self::open_local(&dir)
    }

    /// A lake in a local directory (created if missing).
    pub fn open_local(dir: &FsPath) -> Result<Lake> {
        std::fs::create_dir_all(dir).map_err(|e| LakeError::io(dir, e))?;
        let dir = std::fs::canonicalize(dir).map_err(|e| LakeError::io(dir, e))?;
        let root = Path::from_absolute_path(&dir)
            .map_err(|e| LakeError::Config(format!("lake directory {}: {e}", dir.display())))?;
        let url = url::Url::from_directory_path(&dir).map_err(|()| {
            LakeError::Config(format!("lake directory {} is not absolute", dir.display()))
        })?;
        let durable = Arc::new(DurableLocalStore::new(dir));
        let mut lake = Lake::new(
            durable.clone(),
            root,
            ObjectStoreUrl::local_filesystem(),
            url.to_string(),
        );
        lake.durable = Some(durable);
        Ok(lake)
    }

    fn open_s3(config: &LakeConfig, rest: &str, default_region: &str) -> Result<Lake> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(LakeError::Config(format!(
                "lake url `{}` names no bucket",
                config.url
            )));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            check_key(prefix).map_err(|e| LakeError::Config(format!("lake url prefix: {e}")))?;
        }
        // The environment (AWS_ACCESS_KEY_ID, AWS_REGION, …) first; weir.toml overrides it.
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if !config.region.is_empty() {
            builder = builder.with_region(&config.region);
        } else if builder
            .get_config_value(&AmazonS3ConfigKey::Region)
            .is_none()
        {
            builder = builder.with_region(default_region);
        }
        if !config.endpoint.is_empty() {
            // Custom endpoints (MinIO, moto, Ceph) address buckets by path, not by host name.
            builder = builder
                .with_endpoint(&config.endpoint)
                .with_virtual_hosted_style_request(false);
        }
        if config.allow_http || config.endpoint.starts_with("http://") {
            builder = builder.with_allow_http(true);
        }
        if !config.access_key_id.is_empty() {
            builder = builder.with_access_key_id(&config.access_key_id);
        }
        if !config.secret_access_key.is_empty() {
            builder = builder.with_secret_access_key(&config.secret_access_key);
        }
        let store = builder
            .build()
            .map_err(|e| LakeError::Config(format!("S3 store for `{}`: {e}", config.url)))?;
        let url = if prefix.is_empty() {
            format!("s3://{bucket}/")
        } else {
            format!("s3://{bucket}/{prefix}/")
        };
        let store_url = ObjectStoreUrl::parse(format!("s3://{bucket}"))
            .map_err(|e| LakeError::Config(format!("bucket `{bucket}`: {e}")))?;
        Ok(Lake::new(
            Arc::new(store),
            Path::from(prefix),
            store_url,
            url,
        ))
    }

    fn new(
        store: Arc<dyn ObjectStore>,
        root: Path,
        store_url: ObjectStoreUrl,
        url: String,
    ) -> Lake {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Lake {
            store,
            root,
            store_url,
            url,
            events,
            durable: None,
        }
    }

    /// Makes the objects at `keys` durable before a manifest names them: on a local lake, fsyncs
    /// each file and its directories (weir's own writes already are; files copied into the lake
    /// by hand are not). Object stores such as S3 are durable once a write returns.
    pub async fn make_durable(&self, keys: &[String]) -> Result<()> {
        let Some(durable) = &self.durable else {
            return Ok(());
        };
        for key in keys {
            let path = self.path(key)?;
            durable
                .sync(&path)
                .await
                .map_err(|e| LakeError::store("sync", key, e))?;
        }
        Ok(())
    }

    /// Calls `listener` with each object a local lake makes durable (fsynced), in order; for
    /// tests that check syncs come before the commits that name the files.
    pub fn set_sync_listener(&self, listener: SyncListener) {
        if let Some(durable) = &self.durable {
            durable.set_sync_listener(listener);
        }
    }

    /// The store to register with DataFusion, at [`Lake::object_store_url`]. It spans the whole
    /// bucket or file system: lake keys live under [`Lake::url`].
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// Where DataFusion finds [`Lake::object_store`]: `s3://BUCKET` or `file://`.
    pub fn object_store_url(&self) -> ObjectStoreUrl {
        self.store_url.clone()
    }

    /// The lake's root as a URL with a trailing slash (`s3://bucket/prefix/`,
    /// `file:///data/lake/`): a table at location `db/t` is at `{url}db/t/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The lake's root inside [`Lake::object_store`] (the directory, or the bucket prefix; may be
    /// empty): lake keys are paths under it.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The URL of a key or prefix (no trailing slash added).
    pub fn url_of(&self, key: &str) -> String {
        format!("{}{}", self.url, key.trim_start_matches('/'))
    }

    /// The object store path of a lake key (for DataFusion and ranged reads).
    pub fn path(&self, key: &str) -> Result<Path> {
        check_key(key)?;
        self.join(key)
    }

    fn join(&self, key: &str) -> Result<Path> {
        let full = if self.root.as_ref().is_empty() {
            key.to_string()
        } else if key.is_empty() {
            self.root.as_ref().to_string()
        } else {
            format!("{}/{key}", self.root.as_ref())
        };
        Path::parse(&full).map_err(|e| invalid(key, e.to_string()))
    }

    /// The lake key of an object store path, if it lies under the root.
    pub fn key_of(&self, path: &Path) -> Option<String> {
        let root = self.root.as_ref();
        if root.is_empty() {
            return Some(path.as_ref().to_string());
        }
        let rest = path.as_ref().strip_prefix(root)?;
        rest.strip_prefix('/').map(str::to_string)
    }

    fn info(&self, meta: &ObjectMeta) -> Option<ObjectInfo> {
        Some(ObjectInfo {
            key: self.key_of(&meta.location)?,
            size: meta.size,
            last_modified: meta.last_modified.timestamp_micros(),
            etag: meta.e_tag.clone(),
        })
    }

    /// Every object under the folder `prefix` (all of the lake for ""), at any depth, by key.
    /// `prefix` matches whole path segments: `sales` lists `sales/a.csv`, not `salesman.csv`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let mut objects = self.list_at_most(prefix, usize::MAX).await?;
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    /// The first `limit` objects the store lists under the folder `prefix` (in the store's
    /// order), without listing the rest: a listing of a large folder costs a request a thousand.
    pub async fn list_at_most(&self, prefix: &str, limit: usize) -> Result<Vec<ObjectInfo>> {
        let prefix = prefix.trim_end_matches('/');
        let path = if prefix.is_empty() {
            self.root.clone()
        } else {
            self.path(prefix)?
        };
        let mut listing = if path.as_ref().is_empty() {
            self.store.list(None)
        } else {
            self.store.list(Some(&path))
        };
        let mut objects = Vec::new();
        while objects.len() < limit {
            let Some(meta) = listing
                .try_next()
                .await
                .map_err(|e| LakeError::store("list", prefix, e))?
            else {
                break;
            };
            objects.extend(self.info(&meta));
        }
        Ok(objects)
    }

    /// The object's size, time and tag, or [`LakeError::NotFound`].
    pub async fn head(&self, key: &str) -> Result<ObjectInfo> {
        let path = self.path(key)?;
        let meta = self
            .store
            .head(&path)
            .await
            .map_err(|e| LakeError::store("head", key, e))?;
        self.info(&meta)
            .ok_or_else(|| invalid(key, "outside the lake".into()))
    }

    /// Writes `bytes` at `key`, atomically (readers see the old object or the new one), and
    /// emits [`ObjectCreated`].
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<ObjectInfo> {
        let path = self.path(key)?;
        let size = bytes.len() as u64;
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| LakeError::store("put", key, e))?;
        self.written(key, size, None, None).await
    }

    /// Writes `bytes` at `key` like [`Lake::put`], without announcing it: for writers that
    /// announce an object once it belongs to a table (deliveries, with [`Lake::notify`]).
    pub async fn put_unannounced(&self, key: &str, bytes: Bytes) -> Result<ObjectInfo> {
        let path = self.path(key)?;
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| LakeError::store("put", key, e))?;
        self.head(key).await
    }

    /// Uploads the local file `source` to `key`, streaming it (in parts when large), and emits
    /// [`ObjectCreated`]. A failed upload leaves nothing at `key`.
    pub async fn put_file(&self, key: &str, source: &FsPath) -> Result<ObjectInfo> {
        let file = tokio::fs::File::open(source)
            .await
            .map_err(|e| LakeError::io(source, e))?;
        self.put_stream(key, file_chunks(file)).await
    }

    /// Writes the object at `key` from `body` as it arrives, and emits [`ObjectCreated`]. Large
    /// objects go up in parts (S3 multipart, or a staged local file renamed into place and
    /// fsynced), at most three parts of 8 MiB held at once ([`crate::upload`]). A body that fails
    /// midway, or a write dropped unfinished, leaves nothing at `key` and no upload behind.
    pub async fn put_stream<S>(&self, key: &str, body: S) -> Result<ObjectInfo>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        self.put_stream_sized(key, body, None, |_| {}).await
    }

    /// [`Lake::put_stream`] of a body whose `size` may be known (its parts are then large enough
    /// for S3's 10,000 parts), calling `progress` with each chunk's length as it is taken.
    pub async fn put_stream_sized<S>(
        &self,
        key: &str,
        mut body: S,
        size: Option<u64>,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<ObjectInfo>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let path = self.path(key)?;
        let mut upload = Upload::new(self.store.clone(), path, size);
        let mut written = 0u64;
        let copied: Result<()> = async {
            while let Some(chunk) = body.try_next().await.map_err(|e| LakeError::Io {
                path: key.to_string(),
                source: e,
            })? {
                written += chunk.len() as u64;
                progress(chunk.len() as u64);
                upload
                    .put(chunk)
                    .await
                    .map_err(|e| LakeError::store("upload", key, e))?;
            }
            upload.finish().await.map_err(|e| LakeError::Io {
                path: key.to_string(),
                source: e,
            })
        }
        .await;
        if let Err(error) = copied {
            // Best effort: abandoning the upload is what matters, and it never became visible.
            upload.abort().await;
            return Err(error);
        }
        self.written(key, written, None, None).await
    }

    /// The object's size and its bytes as they are read.
    pub async fn get_stream(&self, key: &str) -> Result<(u64, ByteStream)> {
        let path = self.path(key)?;
        let result = self
            .store
            .get(&path)
            .await
            .map_err(|e| LakeError::store("get", key, e))?;
        let size = result.meta.size;
        let key = key.to_string();
        let stream = result
            .into_stream()
            .map_err(move |e| std::io::Error::other(LakeError::store("get", &key, e)));
        Ok((size, Box::pin(stream)))
    }

    /// The whole object.
    pub async fn get(&self, key: &str) -> Result<Bytes> {
        let path = self.path(key)?;
        let result = self
            .store
            .get(&path)
            .await
            .map_err(|e| LakeError::store("get", key, e))?;
        result
            .bytes()
            .await
            .map_err(|e| LakeError::store("get", key, e))
    }

    /// Bytes `range` of the object.
    pub async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        let path = self.path(key)?;
        self.store
            .get_range(&path, range)
            .await
            .map_err(|e| LakeError::store("get", key, e))
    }

    /// Downloads the object to the local file `target`, streaming. The file appears whole or
    /// not at all (written beside it, then renamed). Returns the bytes written.
    pub async fn get_to_file(&self, key: &str, target: &FsPath) -> Result<u64> {
        let path = self.path(key)?;
        let result = self
            .store
            .get(&path)
            .await
            .map_err(|e| LakeError::store("get", key, e))?;
        let partial = partial_path(target);
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| LakeError::io(&partial, e))?;
        let mut stream = result.into_stream();
        let mut size = 0u64;
        let copied: Result<()> = async {
            while let Some(chunk) = stream
                .try_next()
                .await
                .map_err(|e| LakeError::store("get", key, e))?
            {
                size += chunk.len() as u64;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| LakeError::io(&partial, e))?;
            }
            file.sync_all()
                .await
                .map_err(|e| LakeError::io(&partial, e))?;
            tokio::fs::rename(&partial, target)
                .await
                .map_err(|e| LakeError::io(target, e))
        }
        .await;
        if let Err(error) = copied {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(error);
        }
        Ok(size)
    }

    /// Deletes the object. Deleting a missing object is not an error (S3 cannot tell either).
    pub async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(LakeError::store("delete", key, e)),
        }
    }

    /// Receives an [`ObjectCreated`] for every object weir writes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ObjectCreated> {
        self.events.subscribe()
    }

    /// Emits an [`ObjectCreated`] for an object written around [`Lake::put`] (by DataFusion,
    /// say), once it is visible.
    pub fn notify(&self, event: ObjectCreated) {
        tracing::debug!(
            key = %event.key,
            size = event.size,
            table = event.table.as_deref().unwrap_or(""),
            partition = event.partition.as_deref().unwrap_or(""),
            "object created"
        );
        // No subscriber is not an error: nothing listens until the events subsystem starts.
        let _ = self.events.send(event);
    }

    async fn written(
        &self,
        key: &str,
        size: u64,
        table: Option<String>,
        partition: Option<String>,
    ) -> Result<ObjectInfo> {
        self.notify(ObjectCreated {
            key: key.to_string(),
            size,
            table,
            partition,
            delivery: None,
        });
        self.head(key).await
    }
}

fn invalid(key: &str, reason: String) -> LakeError {
    LakeError::InvalidKey {
        key: key.to_string(),
        reason,
    }
}

/// Checks that `key` names an object inside the lake: relative, no `.` or `..` segments, no
/// empty segments, no control characters. Such keys map to the same object on every backend.
pub fn check_key(key: &str) -> Result<()> {
    let bad = |reason: &str| Err(invalid(key, reason.to_string()));
    if key.is_empty() {
        return bad("the key is empty");
    }
    if key.starts_with('/') {
        return bad("keys are relative to the lake's root: remove the leading `/`");
    }
    if key.len() > MAX_KEY_BYTES {
        return bad(&format!("longer than {MAX_KEY_BYTES} bytes"));
    }
    if key.chars().any(|c| c.is_control()) {
        return bad("control characters are not allowed");
    }
    if key.contains('\\') {
        return bad("use `/` to separate folders, not `\\`");
    }
    for segment in key.split('/') {
        match segment {
            "" if key.ends_with('/') => return bad("a key names an object, not a folder"),
            "" => return bad("empty folder name (`//`)"),
            "." | ".." => return bad("`.` and `..` are not allowed in keys"),
            _ if segment.contains('#') => return bad("`#` is not allowed in keys"),
            _ => {}
        }
    }
    Ok(())
}

/// The file's bytes, a chunk at a time.
fn file_chunks(file: tokio::fs::File) -> ByteStream {
    Box::pin(futures::stream::try_unfold(file, |mut file| async move {
        let mut chunk = Vec::with_capacity(READ_CHUNK);
        let read = (&mut file)
            .take(READ_CHUNK as u64)
            .read_to_end(&mut chunk)
            .await?;
        Ok::<_, std::io::Error>((read > 0).then(|| (Bytes::from(chunk), file)))
    }))
}

/// `target` with `.partial` appended to its file name, in the same directory (so that the final
/// rename stays on one file system).
fn partial_path(target: &FsPath) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".weir-partial");
    target.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        for good in ["a", "a/b.csv", "day=2024-01-01/x y.parquet", "ünï/ok"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("/a", "leading"),
            ("a/../b", "`..`"),
            ("..", "`..`"),
            ("./a", "`.`"),
            ("a//b", "empty folder"),
            ("a/", "not a folder"),
            ("a\nb", "control"),
            ("a\\b", "`\\`"),
            ("a#1", "`#`"),
        ] {
            let message = check_key(bad).unwrap_err().to_string();
            assert!(message.contains(why), "{bad:?}: {message}");
        }
    }

    #[test]
    fn s3_urls_are_parsed() {
        let config = LakeConfig {
            url: "s3://bucket/some/prefix/".into(),
            endpoint: "http://127.0.0.1:9".into(),
            ..LakeConfig::default()
        };
        let lake = Lake::open(&config, FsPath::new("/nonexistent"), "eu-west-1").unwrap();
        assert_eq!(lake.url(), "s3://bucket/some/prefix/");
        assert_eq!(lake.object_store_url().as_str(), "s3://bucket/");
        assert_eq!(lake.path("a/b").unwrap().as_ref(), "some/prefix/a/b");
        assert_eq!(
            lake.key_of(&Path::from("some/prefix/a/b")).as_deref(),
            Some("a/b")
        );
        assert_eq!(lake.key_of(&Path::from("some/prefixes/a")), None);

        let no_bucket = LakeConfig {
            url: "s3:///x".into(),
            ..LakeConfig::default()
        };
        assert!(Lake::open(&no_bucket, FsPath::new("/"), "r").is_err());
        let bad_scheme = LakeConfig {
            url: "gs://bucket".into(),
            ..LakeConfig::default()
        };
        let error = Lake::open(&bad_scheme, FsPath::new("/"), "r").unwrap_err();
        assert!(error.to_string().contains("unsupported"), "{error}");
    }

    #[test]
    fn the_default_lake_is_under_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(&LakeConfig::default(), dir.path(), "us-east-1").unwrap();
        assert!(dir.path().join("lake").is_dir());
        let canonical = std::fs::canonicalize(dir.path().join("lake")).unwrap();
        assert_eq!(lake.url(), format!("file://{}/", canonical.display()));
        assert_eq!(lake.object_store_url().as_str(), "file:///");
    }
}
