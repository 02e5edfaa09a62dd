//! An object upload that cleans up after itself: `object_store`'s [`BufWriter`] with bounded
//! memory, aborted when it is dropped unfinished (a cancelled or timed-out task, a sibling copy
//! that failed, an export whose statement failed), so no S3 multipart upload is left behind to
//! be billed for its parts.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use object_store::ObjectStore;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use tokio::io::AsyncWrite;

/// The smallest upload part (object_store's and S3's usual 8 MiB); smaller objects go up in
/// one request.
pub const MIN_PART: usize = 8 * 1024 * 1024;
/// S3's most parts per upload.
const MAX_PARTS: u64 = 10_000;
/// Parts uploaded at once by one upload (object_store's default is 8): with the part being
/// filled, an upload holds at most three parts in memory.
pub const PARTS_IN_FLIGHT: usize = 2;

/// The part size for an object of `size` bytes (when known): 8 MiB, or more when 10,000 parts
/// of 8 MiB would not hold it.
pub fn part_size(size: Option<u64>) -> usize {
    let needed = size.map_or(0, |s| s.div_ceil(MAX_PARTS));
    usize::try_from(needed).unwrap_or(usize::MAX).max(MIN_PART)
}

/// One object being written; see the module's comment.
pub struct Upload {
    writer: Option<BufWriter>,
    /// The upload's completion began: from there on the writer can no longer be aborted.
    finishing: bool,
}

impl Upload {
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, size: Option<u64>) -> Upload {
        Upload {
            writer: Some(
                BufWriter::with_capacity(store, path, part_size(size))
                    .with_max_concurrency(PARTS_IN_FLIGHT),
            ),
            finishing: false,
        }
    }

    fn writer(&mut self) -> std::io::Result<&mut BufWriter> {
        self.writer
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the upload is already finished"))
    }

    pub async fn put(&mut self, bytes: Bytes) -> object_store::Result<()> {
        match self.writer.as_mut() {
            Some(writer) => writer.put(bytes).await,
            None => Err(object_store::Error::NotImplemented {
                operation: "a write after the upload finished".into(),
                implementer: "weir".into(),
            }),
        }
    }

    /// Completes the upload: the object appears whole.
    pub async fn finish(&mut self) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        self.shutdown().await
    }

    /// Abandons the upload, removing what was uploaded of it.
    pub async fn abort(&mut self) {
        if self.finishing {
            return;
        }
        if let Some(mut writer) = self.writer.take()
            && let Err(e) = writer.abort().await
        {
            tracing::warn!(error = %e, "cannot abort an unfinished upload");
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.finishing {
            return;
        }
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        // Dropped midway: abort in the background (Drop cannot wait), when a runtime is there.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = writer.abort().await {
                    tracing::warn!(error = %e, "cannot abort an abandoned upload");
                }
            });
        }
    }
}

impl AsyncWrite for Upload {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.writer() {
            Ok(writer) => Pin::new(writer).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.writer() {
            Ok(writer) => Pin::new(writer).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.finishing = true;
        let done = match self.writer() {
            Ok(writer) => Pin::new(writer).poll_shutdown(cx),
            Err(e) => return Poll::Ready(Err(e)),
        };
        if done.is_ready() {
            self.writer = None;
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_grow_only_for_objects_too_large_for_ten_thousand() {
        assert_eq!(part_size(None), MIN_PART);
        assert_eq!(part_size(Some(1)), MIN_PART);
        assert_eq!(part_size(Some(80_000 * 1024 * 1024)), MIN_PART);
        let five_tib = 5u64 << 40;
        let part = part_size(Some(five_tib)) as u64;
        assert!(part * MAX_PARTS >= five_tib && part > MIN_PART as u64);
    }
}
