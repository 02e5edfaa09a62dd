//! The `copy` pipeline action (AWS Data Pipeline's `CopyActivity`): copies the objects under a
//! folder (or one object) between the lake, S3-compatible stores and local directories.
//!
//! ```yaml
//! tasks:
//!   backup:
//!     copy: { from: "curated/orders/", to: "s3://backups/orders/", parallel: 8 }
//! ```
//!
//! - **Where.** A lake key or folder, `s3://BUCKET/KEY` inside one of the `[copy.stores.NAME]`
//!   (its `url`, `s3://BUCKET[/PREFIX]`, is a boundary: a key outside it, or a bucket no store
//!   names, is refused), or `file:///PATH` under one of `[copy] local_roots`. A pipeline may not
//!   read or write what the server's credentials or files reach at will. The two ends may not
//!   overlap (one inside the other): a copy into its own source would nest deeper each run.
//! - **Streamed.** Each object goes from `Lake::get_stream` into `Lake::put_stream_sized` (S3
//!   multipart uploads of parts of 8 MiB or more, two in flight, or a staged local file renamed
//!   into place), never whole in memory; at most `parallel` objects at once. An upload left
//!   unfinished (stopped, failed) is aborted.
//! - **Resumable.** An object the target already holds with the same size, written no earlier
//!   than the source's, is skipped (unless `overwrite: true`), so an attempt that was killed
//!   or failed midway continues where it stopped when it runs again. A target object appears whole
//!   or not at all.
//! - **Progress** goes to the task's log every two seconds: objects and bytes done of the total,
//!   bytes counted as they stream.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use weir_engine::actions::{ActionContext, ActionOutcome, ActionRunner, FailureKind};
use weir_engine::secrets::Masker;
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
    /// `aws.region`, for stores that name none.
    region: String,
}

/// One end of a copy, opened: the store, the key (or folder) inside it, and for a local
/// directory its root (each object's path is checked against it).
struct End {
    store: Arc<Lake>,
    key: String,
    local_root: Option<PathBuf>,
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
    fn open(&self, location: &Location) -> Result<End, String> {
        match location {
            Location::Lake(key) => Ok(End {
                store: self.lake.clone(),
                key: key.clone(),
                local_root: None,
            }),
            Location::S3 { bucket, key } => {
                let (config, inside) = self.store_for(bucket, key)?;
                let store = Lake::open(&config, Path::new("."), &self.region)
                    .map_err(|e| format!("s3://{bucket}: {e}"))?;
                Ok(End {
                    store: Arc::new(store),
                    key: inside,
                    local_root: None,
                })
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
                Ok(End {
                    store: Arc::new(store),
                    key,
                    local_root: Some(PathBuf::from(root)),
                })
            }
        }
    }

    /// The `[copy.stores]` entry whose `url` (`s3://BUCKET[/PREFIX]`) holds `key` of `bucket`,
    /// and the key relative to that store's prefix. A bucket or key no store holds is refused:
    /// the environment's credentials are the server's, not the pipeline's.
    fn store_for(&self, bucket: &str, key: &str) -> Result<(LakeConfig, String), String> {
        let mut named = Vec::new();
        for store in self.config.stores.values() {
            let Some(rest) = store.url.trim().strip_prefix("s3://") else {
                continue;
            };
            let (store_bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if store_bucket != bucket {
                continue;
            }
            let prefix = prefix.trim_matches('/');
            named.push(format!("s3://{bucket}/{prefix}"));
            let inside = if prefix.is_empty() {
                Some(key)
            } else if key.trim_end_matches('/') == prefix {
                Some("")
            } else {
                key.strip_prefix(prefix).and_then(|r| r.strip_prefix('/'))
            };
            if let Some(inside) = inside {
                return Ok((store.clone(), inside.to_string()));
            }
        }
        if named.is_empty() {
            Err(format!(
                "s3://{bucket}: no [copy.stores] entry names this bucket (a copy reaches only the buckets its stores name)"
            ))
        } else {
            Err(format!(
                "s3://{bucket}/{key} is outside the stores of this bucket ([copy.stores]: {})",
                named.join(", ")
            ))
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

/// Whether one of two locations (full URLs) holds the other: a copy between them would read
/// what it writes (`raw/` into `raw/bak/` nests deeper each run).
fn overlap(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
    let inside = |outer: &str, inner: &str| {
        inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    inside(a, b) || inside(b, a)
}

/// One object to copy: where it is, where it goes.
struct Planned {
    source: ObjectInfo,
    target: String,
}

/// The objects under `from` (a folder) or the object `from`, with their keys under `to`.
async fn plan(source: &Lake, from: &str, to: &str) -> Result<Vec<Planned>, LakeError> {
    let folder = from.trim_end_matches('/');
    let objects = source.list(folder).await?;
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
            Err(e) => Err(e),
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

/// The two ends of a copy and what they share while it runs.
struct Job {
    source: Arc<Lake>,
    target: Arc<Lake>,
    /// The target's local root: each object's folder is checked just before it is written.
    target_root: Option<PathBuf>,
    overwrite: bool,
    /// Bytes streamed so far, across objects (for progress lines).
    streamed: AtomicU64,
}

impl Job {
    async fn copy_one(&self, item: &Planned) -> Result<Copied, String> {
        let failed =
            |e: &dyn std::fmt::Display| format!("{} → {}: {e}", item.source.key, item.target);
        if !self.overwrite {
            match self.target.head(&item.target).await {
                Ok(existing) if already_copied(&item.source, &existing) => {
                    return Ok(Copied::Skipped);
                }
                Ok(_) | Err(LakeError::NotFound { .. }) => {}
                Err(e) => return Err(failed(&e)),
            }
        }
        if let Some(root) = &self.target_root {
            // A link made inside the target since the copy began is no way out of the root.
            let (root, path) = (root.clone(), root.join(&item.target));
            tokio::task::spawn_blocking(move || resolves_inside(&root, &path))
                .await
                .map_err(|e| failed(&e))??;
        }
        let (_, body) = self
            .source
            .get_stream(&item.source.key)
            .await
            .map_err(|e| failed(&e))?;
        let written = self
            .target
            .put_stream_sized(&item.target, body, Some(item.source.size), |n| {
                self.streamed.fetch_add(n, Ordering::Relaxed);
            })
            .await
            .map_err(|e| failed(&e))?;
        Ok(Copied::Bytes(written.size))
    }
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
    /// `streamed`: bytes copied so far, objects still in flight included.
    fn line(&self, streamed: u64, total_objects: usize, total_bytes: u64) -> String {
        format!(
            "{}/{} object(s), {} of {} byte(s) done ({} copied, {} already there)",
            self.objects + self.skipped,
            total_objects,
            streamed.max(self.bytes) + self.skipped_bytes,
            total_bytes,
            self.objects,
            self.skipped
        )
    }
}

/// A copy's failure, with the setting it concerns (`copy.from: …`).
fn at(key: &str, message: impl std::fmt::Display) -> String {
    format!("copy.{key}: {message}")
}

impl CopyRunner {
    async fn copy(
        &self,
        spec: &Copy,
        log: &mut weir_engine::actions::LogFile,
        masker: &Masker,
    ) -> Result<serde_json::Value, String> {
        let source = self.open(&spec.from).map_err(|e| at("from", e))?;
        let target = self.open(&spec.to).map_err(|e| at("to", e))?;
        let (from_url, to_url) = (
            source.store.url_of(&source.key),
            target.store.url_of(&target.key),
        );
        if overlap(&from_url, &to_url) {
            return Err(at(
                "to",
                format!(
                    "`{to_url}` overlaps `{from_url}` (one holds the other): a copy may not write where it reads"
                ),
            ));
        }
        let planned = plan(&source.store, &source.key, &target.key)
            .await
            .map_err(|e| at("from", e))?;
        if planned.is_empty() && !spec.allow_empty {
            return Err(at(
                "from",
                format!(
                    "`{from_url}` matches no object (allow_empty: true lets a copy of nothing succeed)"
                ),
            ));
        }
        if let Some(root) = &source.local_root {
            // Listing a folder follows symbolic links: each file must still be inside the root.
            for item in &planned {
                resolves_inside(root, &root.join(&item.source.key)).map_err(|e| at("from", e))?;
            }
        }
        let total_bytes: u64 = planned.iter().map(|p| p.source.size).sum();
        let total_objects = planned.len();
        let _ = writeln!(
            log,
            "{}",
            masker.mask(&format!(
                "copying {total_objects} object(s), {total_bytes} byte(s), from {from_url} to {to_url} ({} at once)",
                spec.parallel
            ))
        );
        let job = Arc::new(Job {
            source: source.store,
            target: target.store,
            target_root: target.local_root,
            overwrite: spec.overwrite,
            streamed: AtomicU64::new(0),
        });
        let mut progress = Progress::default();
        // Owned futures (no borrow of the plan), so the runner's future stays `Send`.
        let mut copies = futures::stream::iter(planned)
            .map(|item| {
                let job = job.clone();
                async move {
                    let result = job.copy_one(&item).await;
                    (item.source.size, result)
                }
            })
            .buffer_unordered(spec.parallel);
        let mut ticks = tokio::time::interval(PROGRESS_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is at once
        loop {
            tokio::select! {
                next = copies.next() => {
                    let Some((size, result)) = next else { break };
                    match result.map_err(|e| masker.mask(&e))? {
                        Copied::Bytes(n) => {
                            progress.objects += 1;
                            progress.bytes += n;
                        }
                        Copied::Skipped => {
                            progress.skipped += 1;
                            progress.skipped_bytes += size;
                        }
                    }
                }
                _ = ticks.tick() => {
                    let streamed = job.streamed.load(Ordering::Relaxed);
                    let _ = writeln!(log, "{}", progress.line(streamed, total_objects, total_bytes));
                }
            }
        }
        let streamed = job.streamed.load(Ordering::Relaxed);
        let _ = writeln!(
            log,
            "done: {}",
            progress.line(streamed, total_objects, total_bytes)
        );
        Ok(json!({
            "objects": progress.objects,
            "bytes": progress.bytes,
            "skipped": progress.skipped,
            "from": masker.mask(&from_url),
            "to": masker.mask(&to_url),
        }))
    }
}

#[async_trait::async_trait]
impl ActionRunner for CopyRunner {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let spec = match weir_model::lake_actions::copy(&ctx.config, Phase::Run) {
            Ok(spec) => spec,
            Err(e) => {
                // Rendered templates are only checked now: say which setting is wrong.
                let message = ctx
                    .masker
                    .mask(&format!("{}: {}", e.path.join("."), e.message));
                let _ = writeln!(ctx.log, "{message}");
                return ActionOutcome::failure(FailureKind::Failed, message);
            }
        };
        let stop = crate::stop::stopped(ctx.deadline, ctx.cancel.clone());
        // Stopping drops the copies in flight: their uploads are aborted, never visible, and
        // what was finished is skipped by the next attempt.
        let masker = ctx.masker.clone();
        let result = tokio::select! {
            result = self.copy(&spec, &mut ctx.log, &masker) => result,
            stopped = stop => return stopped,
        };
        match result {
            Ok(output) => ActionOutcome::success(Some(output)),
            Err(message) => {
                let message = masker.mask(&format!("copy failed: {message}"));
                let _ = writeln!(ctx.log, "{message}");
                ActionOutcome::failure(FailureKind::Failed, message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::context;
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
        let end = runner
            .open(&Location::Local(format!("{root}/in/a.csv")))
            .unwrap();
        assert_eq!(end.key, "in/a.csv");
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
            allow_empty: false,
        };
        let mut log = weir_engine::actions::LogFile::new(dir.path().join("copy.log"));
        let refused = runner
            .copy(&spec, &mut log, &Masker::default())
            .await
            .err()
            .unwrap();
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
            allow_empty: false,
        };
        let mut log = weir_engine::actions::LogFile::new(dir.path().join("copy.log"));
        let first = runner
            .copy(&spec, &mut log, &Masker::default())
            .await
            .unwrap();
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
        let second = runner
            .copy(&spec, &mut log, &Masker::default())
            .await
            .unwrap();
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
            allow_empty: false,
        };
        let third = runner
            .copy(&back, &mut log, &Masker::default())
            .await
            .unwrap();
        assert_eq!(third["objects"].as_u64(), Some(1));
        assert_eq!(lake.get("restored/part-2.csv").await.unwrap().len(), 1002);
        let text = std::fs::read_to_string(dir.path().join("copy.log")).unwrap();
        assert!(
            text.contains("done: 5/5 object(s), 5010 of 5010 byte(s) done"),
            "{text}"
        );
    }

    fn spec(from: Location, to: Location) -> Copy {
        Copy {
            from,
            to,
            parallel: 2,
            overwrite: false,
            allow_empty: false,
        }
    }

    #[tokio::test]
    async fn a_link_inside_a_target_folder_is_no_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Arc::new(Lake::open_local(&dir.path().join("lake")).unwrap());
        lake.put("in/sub/x.csv", Bytes::from_static(b"x"))
            .await
            .unwrap();
        let root = dir.path().join("exchange");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("backup")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("backup/sub")).unwrap();
        let root = root.to_str().unwrap().to_string();
        let runner = runner(lake, vec![root.clone()]);
        let mut log = weir_engine::actions::LogFile::new(dir.path().join("copy.log"));
        let copy = spec(
            Location::Lake("in/".into()),
            Location::Local(format!("{root}/backup/")),
        );
        let refused = runner
            .copy(&copy, &mut log, &Masker::default())
            .await
            .unwrap_err();
        assert!(refused.contains("leads outside"), "{refused}");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    }

    #[test]
    fn s3_only_inside_the_stores_named() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Arc::new(Lake::open_local(&dir.path().join("lake")).unwrap());
        let mut config = CopyConfig::default();
        config.stores.insert(
            "backups".into(),
            LakeConfig {
                url: "s3://bucket/allowed/".into(),
                ..LakeConfig::default()
            },
        );
        let runner = CopyRunner::new(lake, config, "us-east-1");
        let inside = |key: &str| runner.store_for("bucket", key).map(|(_, k)| k);
        assert_eq!(inside("allowed/x/y.csv"), Ok("x/y.csv".into()));
        assert_eq!(inside("allowed/"), Ok(String::new()));
        assert_eq!(inside("allowed"), Ok(String::new()));
        for outside in ["other/x", "allowedx/y", ""] {
            let refused = inside(outside).unwrap_err();
            assert!(refused.contains("outside the stores"), "{refused}");
        }
        let unnamed = runner.store_for("elsewhere", "x").unwrap_err();
        assert!(unnamed.contains("no [copy.stores] entry"), "{unnamed}");
        let opened = runner.open(&Location::S3 {
            bucket: "elsewhere".into(),
            key: "x".into(),
        });
        assert!(opened.is_err());
    }

    #[test]
    fn ends_that_hold_one_another_overlap() {
        assert!(overlap("file:///l/raw", "file:///l/raw/bak/"));
        assert!(overlap("file:///l/raw/", "file:///l/raw"));
        assert!(overlap("file:///data/lake/x", "file:///data"));
        assert!(overlap("s3://b/lake/", "s3://b/lake/in"));
        assert!(!overlap("file:///l/raw", "file:///l/rawx"));
        assert!(!overlap("s3://b/raw", "s3://c/raw"));
        assert!(!overlap("file:///l/in/a.csv", "file:///l/in/b.csv"));
    }

    #[tokio::test]
    async fn overlapping_and_empty_copies_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Arc::new(Lake::open_local(&dir.path().join("lake")).unwrap());
        lake.put("raw/a.csv", Bytes::from_static(b"a"))
            .await
            .unwrap();
        let root = dir.path().to_str().unwrap().to_string();
        let runner = runner(lake.clone(), vec![root.clone()]);
        let mut log = weir_engine::actions::LogFile::new(dir.path().join("copy.log"));
        let masker = Masker::default();
        for (from, to) in [("raw/", "raw/bak/"), ("raw", "raw/"), ("raw/bak/", "raw")] {
            let copy = spec(Location::Lake(from.into()), Location::Lake(to.into()));
            let refused = runner.copy(&copy, &mut log, &masker).await.unwrap_err();
            assert!(
                refused.starts_with("copy.to: ") && refused.contains("overlaps"),
                "{refused}"
            );
        }
        // A local root that holds the lake holds every lake key.
        let copy = spec(
            Location::Local(format!("{root}/")),
            Location::Lake("copied/".into()),
        );
        let refused = runner.copy(&copy, &mut log, &masker).await.unwrap_err();
        assert!(refused.contains("overlaps"), "{refused}");
        assert!(lake.list("raw/bak").await.unwrap().is_empty());

        let mut nothing = spec(
            Location::Lake("empty/".into()),
            Location::Lake("out/".into()),
        );
        let refused = runner.copy(&nothing, &mut log, &masker).await.unwrap_err();
        assert!(
            refused.starts_with("copy.from: `") && refused.contains("matches no object"),
            "{refused}"
        );
        nothing.allow_empty = true;
        let done = runner.copy(&nothing, &mut log, &masker).await.unwrap();
        assert_eq!(done["objects"], 0);
    }

    #[tokio::test]
    async fn run_time_errors_name_the_setting_and_hide_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Arc::new(Lake::open_local(&dir.path().join("lake")).unwrap());
        let runner = runner(lake, Vec::new());
        let failed = |outcome: ActionOutcome| outcome.result.unwrap_err().message;
        // What a template rendered to is only checked when the task runs.
        let bad = failed(
            runner
                .run(context(
                    dir.path(),
                    "copy",
                    json!({"from": "in/../../etc", "to": "x/"}),
                    Masker::default(),
                ))
                .await,
        );
        assert!(bad.starts_with("copy.from: "), "{bad}");
        let unnamed = failed(
            runner
                .run(context(
                    dir.path(),
                    "copy",
                    json!({"from": "in/", "to": "s3://their-bucket/x/"}),
                    Masker::default(),
                ))
                .await,
        );
        assert!(unnamed.contains("copy.to: s3://their-bucket"), "{unnamed}");
        let secret = failed(
            runner
                .run(context(
                    dir.path(),
                    "copy",
                    json!({"from": "in/hunter2/", "to": "x/"}),
                    Masker::new(["hunter2"]),
                ))
                .await,
        );
        assert!(secret.contains("matches no object"), "{secret}");
        assert!(!secret.contains("hunter2"), "{secret}");
        let log = std::fs::read_to_string(dir.path().join("task.log")).unwrap();
        assert!(
            !log.contains("hunter2") && log.contains("matches no object"),
            "{log}"
        );
    }
}
