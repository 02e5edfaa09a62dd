//! The `copy` pipeline action (AWS Data Pipeline's `CopyActivity`): copies the objects under a
//! folder (or one object) between the lake, S3-compatible stores and local directories.
//!
//! ```yaml
//! tasks:
//!   backup:
//!     copy: { from: "curated/orders/", to: "s3://backups/orders/", parallel: 8 }
//! ```
//!
//! - **Where.** A lake key or folder, `s3://BUCKET/KEY` (the endpoint and credentials of the
//!   `[copy.stores.NAME]` whose `url` names the bucket, else the environment's), or
//!   `file:///PATH` under one of `[copy] local_roots` (anything else is refused: a pipeline may
//!   not read or write the server's files at will).
//! - **Streamed.** Each object goes through a part at a time (`Lake::get_stream` into
//!   `Lake::put_stream`: S3 multipart uploads, or a staged local file renamed into place), never
//!   whole in memory; at most `parallel` objects at once.
//! - **Resumable.** An object the target already holds with the same size, written no earlier
//!   than the source's, is skipped (unless `overwrite: true`), so an attempt that was killed
//!   or failed midway continues where it stopped when it runs again. A target object appears whole
//!   or not at all.
//! - **Progress** goes to the task's log every few seconds: objects and bytes done of the total.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use weir_engine::actions::{ActionContext, ActionOutcome, ActionRunner, FailureKind};
use weir_model::config::{CopyConfig, LakeConfig};
use weir_model::lake_actions::{Copy, Location, Phase};

use crate::error::LakeError;
use crate::lake::{Lake, ObjectInfo};

/// How often a copy says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Runs `copy:` tasks.
pub struct CopyRunner {
    lake: Arc<Lake>,
    config: CopyConfig,
    /// `aws.region`, for buckets whose store names none.
    region: String,
}

impl CopyRunner {
    pub fn new(lake: Arc<Lake>, config: CopyConfig, region: &str) -> CopyRunner {
        CopyRunner {
            lake,
            config,
            region: region.to_string(),
        }
    }

    /// The store a location is in and the key (or folder) inside it.
    fn open(&self, location: &Location) -> Result<(Arc<Lake>, String), String> {
        match location {
            Location::Lake(key) => Ok((self.lake.clone(), key.clone())),
            Location::S3 { bucket, key } => {
                let named = self.config.stores.values().find(|store| {
                    store
                        .url
                        .strip_prefix("s3://")
                        .and_then(|rest| rest.split('/').next())
                        == Some(bucket.as_str())
                });
                let config = LakeConfig {
                    url: format!("s3://{bucket}"),
                    ..named.cloned().unwrap_or_default()
                };
                let store = Lake::open(&config, Path::new("."), &self.region)
                    .map_err(|e| format!("s3://{bucket}: {e}"))?;
                Ok((Arc::new(store), key.clone()))
            }
            Location::Local(path) => {
                let root = self
                    .config
                    .local_roots
                    .iter()
                    .map(|r| r.trim_end_matches('/'))
                    .find(|root| {
                        path.strip_prefix(root)
                            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                    })
                    .ok_or_else(|| {
                        format!(
                            "file://{path} is outside the directories a copy may use ([copy] local_roots{})",
                            if self.config.local_roots.is_empty() {
                                " is empty".to_string()
                            } else {
                                format!(": {}", self.config.local_roots.join(", "))
                            }
                        )
                    })?;
                let root = if root.is_empty() { "/" } else { root };
                let store =
                    Lake::open_local(Path::new(root)).map_err(|e| format!("file://{root}: {e}"))?;
                resolves_inside(Path::new(root), Path::new(path))?;
                let key = path
                    .strip_prefix(root)
                    .unwrap_or(path)
                    .trim_start_matches('/')
                    .to_string();
                Ok((Arc::new(store), key))
            }
        }
    }
}

/// Refuses `path` when the deepest part of it that exists resolves (through symbolic links)
/// outside `root`: a link inside a root is no way out of it.
fn resolves_inside(root: &Path, path: &Path) -> Result<(), String> {
    let real_root = std::fs::canonicalize(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut existing = path;
    while !existing.exists() {
        match existing.parent() {
            Some(parent) => existing = parent,
            None => return Ok(()),
        }
    }
    let real =
        std::fs::canonicalize(existing).map_err(|e| format!("{}: {e}", existing.display()))?;
    if real.starts_with(&real_root) {
        Ok(())
    } else {
        Err(format!(
            "file://{} leads outside {} (through a symbolic link)",
            path.display(),
            root.display()
        ))
    }
}

/// One object to copy: where it is, where it goes.
struct Planned {
    source: ObjectInfo,
    target: String,
}

/// The objects under `from` (a folder) or the object `from`, with their keys under `to`.
async fn plan(source: &Lake, from: &str, to: &str) -> Result<Vec<Planned>, String> {
    let folder = from.trim_end_matches('/');
    let objects = source.list(folder).await.map_err(|e| e.to_string())?;
    let join = |relative: &str| {
        let to = to.trim_end_matches('/');
        if to.is_empty() {
            relative.to_string()
        } else {
            format!("{to}/{relative}")
        }
    };
    if objects.is_empty() && !from.ends_with('/') && !folder.is_empty() {
        // Not a folder: perhaps one object.
        return match source.head(folder).await {
            Ok(object) => {
                let name = folder.rsplit('/').next().unwrap_or(folder);
                let target = if to.ends_with('/') || to.is_empty() {
                    join(name)
                } else {
                    to.to_string()
                };
                Ok(vec![Planned {
                    source: object,
                    target,
                }])
            }
            Err(LakeError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        };
    }
    Ok(objects
        .into_iter()
        .map(|object| {
            let relative = object
                .key
                .strip_prefix(folder)
                .unwrap_or(&object.key)
                .trim_start_matches('/')
                .to_string();
            Planned {
                target: join(&relative),
                source: object,
            }
        })
        .collect())
}

/// Whether `target` already holds what `source` holds: the same size, and the same entity tag or
/// written no earlier than the source (stores round times differently, so within a second).
fn already_copied(source: &ObjectInfo, target: &ObjectInfo) -> bool {
    source.size == target.size
        && (source.etag.is_some() && source.etag == target.etag
            || target.last_modified + 1_000_000 >= source.last_modified)
}

/// What one object's copy did.
enum Copied {
    Bytes(u64),
    Skipped,
}

async fn copy_one(
    source: &Lake,
    target: &Lake,
    item: &Planned,
    overwrite: bool,
) -> Result<Copied, String> {
    if !overwrite {
        match target.head(&item.target).await {
            Ok(existing) if already_copied(&item.source, &existing) => return Ok(Copied::Skipped),
            Ok(_) | Err(LakeError::NotFound { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let (_, body) = source
        .get_stream(&item.source.key)
        .await
        .map_err(|e| e.to_string())?;
    let written = target
        .put_stream(&item.target, body)
        .await
        .map_err(|e| format!("{} → {}: {e}", item.source.key, item.target))?;
    Ok(Copied::Bytes(written.size))
}

/// Counts as a copy goes.
#[derive(Default)]
struct Progress {
    objects: u64,
    bytes: u64,
    skipped: u64,
    skipped_bytes: u64,
}

impl Progress {
    fn line(&self, total_objects: usize, total_bytes: u64) -> String {
        format!(
            "{}/{} object(s), {} of {} byte(s) done ({} copied, {} already there)",
            self.objects + self.skipped,
            total_objects,
            self.bytes + self.skipped_bytes,
            total_bytes,
            self.objects,
            self.skipped
        )
    }
}

impl CopyRunner {
    async fn copy(
        &self,
        spec: &Copy,
        log: &mut weir_engine::actions::LogFile,
    ) -> Result<serde_json::Value, String> {
        if spec.from == spec.to {
            return Err("from and to are the same place".into());
        }
        let (source, from) = self.open(&spec.from)?;
        let (target, to) = self.open(&spec.to)?;
        let planned = plan(&source, &from, &to).await?;
        if let Location::Local(_) = &spec.from {
            // Listing a folder follows symbolic links: each file must still be inside the root.
            let root = source.root().as_ref();
            let root = Path::new("/").join(root);
            for item in &planned {
                resolves_inside(&root, &root.join(&item.source.key))?;
            }
        }
        let total_bytes: u64 = planned.iter().map(|p| p.source.size).sum();
        let _ = writeln!(
            log,
            "copying {} object(s), {} byte(s), from {} to {} ({} at once)",
            planned.len(),
            total_bytes,
            source.url_of(&from),
            target.url_of(&to),
            spec.parallel
        );
        let mut progress = Progress::default();
        let mut last_line = tokio::time::Instant::now();
        let total_objects = planned.len();
        let overwrite = spec.overwrite;
        // Owned futures (no borrow of the plan), so the runner's future stays `Send`.
        let mut copies = futures::stream::iter(planned)
            .map(|item| {
                let (source, target) = (source.clone(), target.clone());
                async move {
                    let result = copy_one(&source, &target, &item, overwrite).await;
                    (item.source.size, result)
                }
            })
            .buffer_unordered(spec.parallel);
        while let Some((size, result)) = copies.next().await {
            match result? {
                Copied::Bytes(n) => {
                    progress.objects += 1;
                    progress.bytes += n;
                }
                Copied::Skipped => {
                    progress.skipped += 1;
                    progress.skipped_bytes += size;
                }
            }
            if last_line.elapsed() >= PROGRESS_EVERY {
                last_line = tokio::time::Instant::now();
                let _ = writeln!(log, "{}", progress.line(total_objects, total_bytes));
            }
        }
        let _ = writeln!(log, "done: {}", progress.line(total_objects, total_bytes));
        Ok(json!({
            "objects": progress.objects,
            "bytes": progress.bytes,
            "skipped": progress.skipped,
            "from": source.url_of(&from),
            "to": target.url_of(&to),
        }))
    }
}

#[async_trait::async_trait]
impl ActionRunner for CopyRunner {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let spec = match weir_model::lake_actions::copy(&ctx.config, Phase::Run) {
            Ok(spec) => spec,
            Err(e) => return ActionOutcome::failure(FailureKind::Failed, e.message),
        };
        let stop = crate::stop::stopped(ctx.deadline, ctx.cancel.clone());
        // Stopping drops the copies in flight: an upload not finished never becomes visible,
        // and what was finished is skipped by the next attempt.
        let result = tokio::select! {
            result = self.copy(&spec, &mut ctx.log) => result,
            stopped = stop => return stopped,
        };
        match result {
            Ok(output) => ActionOutcome::success(Some(output)),
            Err(message) => {
                let message = format!("copy failed: {message}");
                let _ = writeln!(ctx.log, "{message}");
                ActionOutcome::failure(FailureKind::Failed, message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn runner(lake: Arc<Lake>, roots: Vec<String>) -> CopyRunner {
        CopyRunner::new(
            lake,
            CopyConfig {
                local_roots: roots,
                ..CopyConfig::default()
            },
            "us-east-1",
        )
    }

    fn info(size: u64, last_modified: i64, etag: Option<&str>) -> ObjectInfo {
        ObjectInfo {
            key: "k".into(),
            size,
            last_modified,
            etag: etag.map(str::to_string),
        }
    }

    #[test]
    fn what_counts_as_copied() {
        let source = info(10, 5_000_000, Some("a"));
        assert!(already_copied(&source, &info(10, 9_000_000, Some("b"))));
        assert!(already_copied(&source, &info(10, 1_000_000, Some("a"))));
        assert!(!already_copied(&source, &info(11, 9_000_000, None)));
        assert!(!already_copied(&source, &info(10, 1_000_000, None)));
    }

    #[tokio::test]
    async fn local_paths_only_under_a_root() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Arc::new(Lake::open_local(&dir.path().join("lake")).unwrap());
        let root = dir.path().join("exchange");
        std::fs::create_dir_all(&root).unwrap();
        let root = root.to_str().unwrap().to_string();
        let runner = runner(lake, vec![root.clone()]);
        let (_, key) = runner
            .open(&Location::Local(format!("{root}/in/a.csv")))
            .unwrap();
        assert_eq!(key, "in/a.csv");
        let outside = runner
            .open(&Location::Local(format!("{root}2/a.csv")))
            .err()
            .unwrap();
        assert!(outside.contains("outside the directories"), "{outside}");
        assert!(runner.open(&Location::Local("/etc/passwd".into())).is_err());
        // A symbolic link inside the root is no way out of it.
        std::os::unix::fs::symlink("/etc", format!("{root}/etc")).unwrap();
        let linked = runner
            .open(&Location::Local(format!("{root}/etc/passwd")))
            .err()
            .unwrap();
        assert!(linked.contains("leads outside"), "{linked}");
        assert!(
            runner
                .open(&Location::Local(format!("{root}/new/dir/")))
                .is_ok()
        );

        // Nor is a link inside a folder being copied.
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "s").unwrap();
        std::fs::create_dir_all(format!("{root}/in")).unwrap();
        std::fs::write(format!("{root}/in/a.csv"), "a").unwrap();
        std::os::unix::fs::symlink(&outside, format!("{root}/in/more")).unwrap();
        let spec = Copy {
            from: Location::Local(format!("{root}/in/")),
            to: Location::Lake("in/".into()),
            parallel: 1,
            overwrite: false,
        };
        let mut log = weir_engine::actions::LogFile::new(dir.path().join("copy.log"));
        let refused = runner.copy(&spec, &mut log).await.err().unwrap();
        assert!(refused.contains("leads outside"), "{refused}");
    }

    #[tokio::test]
    async fn copies_a_folder_then_skips_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Arc::new(Lake::open_local(&dir.path().join("lake")).unwrap());
        for i in 0..5 {
            lake.put(
                &format!("out/part-{i}.csv"),
                Bytes::from(vec![b'x'; 1000 + i]),
            )
            .await
            .unwrap();
        }
        lake.put("outside.csv", Bytes::from_static(b"no"))
            .await
            .unwrap();
        let root = dir.path().join("exchange");
        std::fs::create_dir_all(&root).unwrap();
        let root = root.to_str().unwrap().to_string();
        let runner = runner(lake.clone(), vec![root.clone()]);
        let spec = Copy {
            from: Location::Lake("out/".into()),
            to: Location::Local(format!("{root}/backup/")),
            parallel: 2,
            overwrite: false,
        };
        let mut log = weir_engine::actions::LogFile::new(dir.path().join("copy.log"));
        let first = runner.copy(&spec, &mut log).await.unwrap();
        assert_eq!(
            (first["objects"].as_u64(), first["skipped"].as_u64()),
            (Some(5), Some(0))
        );
        assert_eq!(first["bytes"].as_u64(), Some(5010));
        let copied = std::fs::read(format!("{root}/backup/part-3.csv")).unwrap();
        assert_eq!(copied.len(), 1003);
        assert!(!Path::new(&format!("{root}/backup/outside.csv")).exists());

        // One object removed at the target, one changed at the source: only those are copied.
        std::fs::remove_file(format!("{root}/backup/part-0.csv")).unwrap();
        lake.put("out/part-1.csv", Bytes::from(vec![b'y'; 7]))
            .await
            .unwrap();
        let second = runner.copy(&spec, &mut log).await.unwrap();
        assert_eq!(
            (second["objects"].as_u64(), second["skipped"].as_u64()),
            (Some(2), Some(3))
        );
        assert_eq!(
            std::fs::read(format!("{root}/backup/part-1.csv")).unwrap(),
            vec![b'y'; 7]
        );

        // Back into the lake, one object by name.
        let back = Copy {
            from: Location::Local(format!("{root}/backup/part-2.csv")),
            to: Location::Lake("restored/".into()),
            parallel: 1,
            overwrite: true,
        };
        let third = runner.copy(&back, &mut log).await.unwrap();
        assert_eq!(third["objects"].as_u64(), Some(1));
        assert_eq!(lake.get("restored/part-2.csv").await.unwrap().len(), 1002);
        let text = std::fs::read_to_string(dir.path().join("copy.log")).unwrap();
        assert!(
            text.contains("done: 5/5 object(s), 5010 of 5010 byte(s) done"),
            "{text}"
        );
    }
}
