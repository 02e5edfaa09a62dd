//! Watches the project's definition folders and reports edits, debounced: an editor's save is
//! often several writes. Pipelines reload in the core; state machines load their files again.

use std::path::Path;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::core::{Command, Msg};

const DEBOUNCE: Duration = Duration::from_millis(150);

/// Asks the core to reload whenever a file under `pipelines/` changes.
pub(crate) fn watch_project(project: &Path, core: mpsc::UnboundedSender<Msg>) {
    let Some(mut changes) = watch_dir(project, "pipelines") else {
        return;
    };
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

/// One message per burst of changes to definition files (YAML, JSON, TOML) under
/// `project/dir`, which is created if missing; `None` when the platform cannot watch. The watch
/// lasts as long as the receiver.
pub(crate) fn watch_dir(project: &Path, dir: &str) -> Option<mpsc::UnboundedReceiver<()>> {
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<()>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            let relevant = event.paths.iter().any(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json" | "toml")
                )
            });
            if relevant && !matches!(event.kind, notify::EventKind::Access(_)) {
                let _ = events_tx.send(());
            }
        }
    });
    let mut watcher = match watcher {
        Ok(watcher) => watcher,
        Err(e) => {
            tracing::warn!(error = %e, dir, "cannot watch the project; edits need a restart");
            return None;
        }
    };
    let path = project.join(dir);
    let _ = std::fs::create_dir_all(&path);
    if let Err(e) = watcher.watch(&path, RecursiveMode::Recursive) {
        tracing::warn!(error = %e, path = %path.display(), "cannot watch");
    }
    let (changes_tx, changes_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _watcher = watcher; // lives as long as this task
        while events_rx.recv().await.is_some() {
            tokio::time::sleep(DEBOUNCE).await;
            while events_rx.try_recv().is_ok() {}
            if changes_tx.send(()).is_err() {
                return;
            }
        }
    });
    Some(changes_rx)
}
