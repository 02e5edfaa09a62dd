//! What the runners' unit tests share.

use std::path::Path;
use std::time::Duration;

use weir_engine::actions::{ActionContext, AttemptId, LogFile};
use weir_engine::secrets::Masker;

/// An attempt of a task whose action `key` has the (rendered) settings `value`, logging to
/// `dir/task.log`, never cancelled.
pub(crate) fn context(
    dir: &Path,
    key: &str,
    value: serde_json::Value,
    masker: Masker,
) -> ActionContext {
    let (cancelled, cancel) = tokio::sync::watch::channel(false);
    // Kept alive: a sender gone reads as "never cancelled", which is what this wants too.
    std::mem::forget(cancelled);
    let mut config = serde_json::Map::new();
    config.insert(key.into(), value);
    ActionContext {
        config,
        attempt: AttemptId {
            run_id: "r".into(),
            task_id: key.into(),
            map_index: -1,
            try_number: 1,
        },
        log: LogFile::new(dir.join("task.log")),
        output_path: dir.join("out.json"),
        project_dir: dir.to_path_buf(),
        env: Vec::new(),
        deadline: None,
        cancel,
        kill_grace: Duration::from_secs(1),
        max_output_bytes: 64 * 1024,
        on_spawn: None,
        masker,
    }
}
