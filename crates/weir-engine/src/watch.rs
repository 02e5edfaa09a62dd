//! Watches the project directory and asks the core to reload when definitions change. Events
//! are debounced: an editor's save is often several writes.

use std::path::Path;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::core::{Command, Msg};

const DEBOUNCE: Duration = Duration::from_millis(150);

pub(crate) fn watch_project(project: &Path, core: mpsc::UnboundedSender<Msg>) {
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
            tracing::warn!(error = %e, "cannot watch the project; edits need `weir pipelines reload` or a restart");
            return;
        }
    };
    {
        let dir = "pipelines";
        let path = project.join(dir);
        let _ = std::fs::create_dir_all(&path);
        if let Err(e) = watcher.watch(&path, RecursiveMode::Recursive) {
            tracing::warn!(error = %e, path = %path.display(), "cannot watch");
        }
    }
    tokio::spawn(async move {
        let _watcher = watcher; // lives as long as this task
        while events_rx.recv().await.is_some() {
            tokio::time::sleep(DEBOUNCE).await;
            while events_rx.try_recv().is_ok() {}
            if core
                .send(Msg::Command(Command::Reload { reply: None }))
                .is_err()
            {
                return;
            }
        }
    });
}
