//! The local lake's store: object_store's `LocalFileSystem`, made durable. `LocalFileSystem`
//! writes a staged file and renames it into place, but never fsyncs: after a power loss, a file
//! that a committed manifest names could be empty or missing. [`DurableLocalStore`] fsyncs every
//! file it finishes writing, then the directories from the file's up to the lake's root (a new
//! file's name lives in its directory, a new directory's in its parent), before the write returns.
//! Every writer (`Lake::put`, uploads, SQL writes) commits a manifest only after its writes
//! returned, so a file named by a committed manifest is on disk.

use std::fmt;
use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, UploadPart,
};

/// Called with each object whose file and directories were fsynced (tests watch the order of
/// syncs and commits through it).
pub type SyncListener = Arc<dyn Fn(&Path) + Send + Sync>;

/// `LocalFileSystem` (rooted at `/`, as DataFusion resolves `file://` URLs) with every finished
/// write fsynced, up to the directory `root`.
pub struct DurableLocalStore {
    inner: Arc<LocalFileSystem>,
    syncer: Arc<Syncer>,
}

struct Syncer {
    /// Directories are synced from a file's up to this one (the lake's root), inclusive.
    root: PathBuf,
    listener: OnceLock<SyncListener>,
}

impl DurableLocalStore {
    /// A store for a lake in the directory `root` (absolute, canonical).
    pub fn new(root: PathBuf) -> Self {
        DurableLocalStore {
            inner: Arc::new(LocalFileSystem::new()),
            syncer: Arc::new(Syncer {
                root,
                listener: OnceLock::new(),
            }),
        }
    }

    /// Calls `listener` after each object is made durable. Set once; later calls are ignored.
    pub fn set_sync_listener(&self, listener: SyncListener) {
        let _ = self.syncer.listener.set(listener);
    }

    /// Fsyncs the object at `location` (written by someone else, say) and its directories.
    pub async fn sync(&self, location: &Path) -> object_store::Result<()> {
        self.syncer.sync(&self.inner, location).await
    }
}

impl Syncer {
    async fn sync(&self, store: &LocalFileSystem, location: &Path) -> object_store::Result<()> {
        let file = store.path_to_filesystem(location)?;
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || sync_file_and_dirs(&file, &root))
            .await
            .map_err(|e| generic(std::io::Error::other(e)))?
            .map_err(generic)?;
        if let Some(listener) = self.listener.get() {
            listener(location);
        }
        Ok(())
    }
}

/// Fsyncs `file`, then each directory from its parent up to `root` (only its parent when the file
/// lies outside `root`).
fn sync_file_and_dirs(file: &FsPath, root: &FsPath) -> std::io::Result<()> {
    std::fs::File::open(file)?.sync_all()?;
    let inside = file.starts_with(root);
    for dir in file.ancestors().skip(1) {
        std::fs::File::open(dir)?.sync_all()?;
        if !inside || dir == root {
            break;
        }
    }
    Ok(())
}

fn generic(source: std::io::Error) -> object_store::Error {
    object_store::Error::Generic {
        store: "LocalFileSystem",
        source: Box::new(source),
    }
}

impl fmt::Display for DurableLocalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Durable({})", self.inner)
    }
}

impl fmt::Debug for DurableLocalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableLocalStore")
            .field("root", &self.syncer.root)
            .finish()
    }
}

#[async_trait]
impl ObjectStore for DurableLocalStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let result = self.inner.put_opts(location, payload, opts).await?;
        self.syncer.sync(&self.inner, location).await?;
        Ok(result)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let upload = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(DurableUpload {
            upload,
            location: location.clone(),
            store: Arc::clone(&self.inner),
            syncer: Arc::clone(&self.syncer),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await?;
        self.syncer.sync(&self.inner, to).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: RenameOptions,
    ) -> object_store::Result<()> {
        self.inner.rename_opts(from, to, options).await?;
        self.syncer.sync(&self.inner, to).await
    }
}

/// A multipart upload whose completion (the rename into place) is followed by the fsyncs.
struct DurableUpload {
    upload: Box<dyn MultipartUpload>,
    location: Path,
    store: Arc<LocalFileSystem>,
    syncer: Arc<Syncer>,
}

impl fmt::Debug for DurableUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableUpload")
            .field("location", &self.location)
            .finish()
    }
}

#[async_trait]
impl MultipartUpload for DurableUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.upload.put_part(data)
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        let result = self.upload.complete().await?;
        self.syncer.sync(&self.store, &self.location).await?;
        Ok(result)
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.upload.abort().await
    }
}
