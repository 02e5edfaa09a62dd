//! Watches the project's definition folders and reports edits, debounced: an editor's save is
//! often several writes. Pipelines (and flows, which are pipelines) reload in the core; state
//! machines load their files again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::core::{Command, Msg};

const DEBOUNCE: Duration = Duration::from_millis(150);

/// Asks the core to reload whenever a file under `pipelines/` or `flows/` (a flow is a
/// pipeline) changes.
pub(crate) fn watch_project(project: &Path, core: mpsc::UnboundedSender<Msg>) {
    for folder in ["pipelines", "flows"] {
        let Some(mut changes) = watch_dir(project, folder) else {
            continue;
        };
        let core = core.clone();
        tokio::spawn(async move {
            while changes.recv().await.is_some() {
                if core
                    .send(Msg::Command(Command::Reload { reply: None }))
                    .is_err()
                {
                    return;
                }
            }
        });
    }
}

/// One message per burst of changes to definition files (YAML, JSON, TOML) under
/// `project/dir`; `None` when the platform cannot watch. The watch lasts as long as the receiver.
///
/// A missing folder is not created (the server does not write into the user's project): the
/// project directory itself is watched, and the folder is watched as soon as it appears.
pub fn watch_dir(project: &Path, dir: &str) -> Option<mpsc::UnboundedReceiver<()>> {
    let folder = project.join(dir);
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = events_tx.send(event.paths);
        }
    });
    let mut watcher = match watcher {
        Ok(watcher) => watcher,
        Err(e) => {
            tracing::warn!(error = %e, dir, "cannot watch the project; edits need a restart");
            return None;
        }
    };
    // The project's own entries (not its data directory's tree) tell when the folder appears.
    if let Err(e) = watcher.watch(project, RecursiveMode::NonRecursive) {
        tracing::warn!(error = %e, path = %project.display(), "cannot watch");
    }
    if folder.is_dir()
        && let Err(e) = watcher.watch(&folder, RecursiveMode::Recursive)
    {
        tracing::warn!(error = %e, path = %folder.display(), "cannot watch");
    }
    let (changes_tx, changes_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        // The folder was created (or replaced): watch what is in it from now on, and read what
        // it already holds. True when `paths` name the folder itself.
        let mut follow = |paths: &[PathBuf]| {
            let appeared = paths.iter().any(|p| p == &folder);
            if appeared && folder.is_dir() {
                let _ = watcher.watch(&folder, RecursiveMode::Recursive);
            }
            appeared
        };
        while let Some(paths) = events_rx.recv().await {
            if !(follow(&paths) | is_definition_change(&folder, &paths)) {
                continue;
            }
            tokio::time::sleep(DEBOUNCE).await;
            while let Ok(more) = events_rx.try_recv() {
                follow(&more);
            }
            if changes_tx.send(()).is_err() {
                return;
            }
        }
    });
    Some(changes_rx)
}

/// Whether an event touched a definition file (YAML, JSON, TOML) inside `folder`.
fn is_definition_change(folder: &Path, paths: &[PathBuf]) -> bool {
    paths.iter().any(|p| {
        p.starts_with(folder)
            && matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json" | "toml")
            )
    })
}
