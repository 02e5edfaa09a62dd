//! Retention: whole segments go once their newest record is older than the stream's retention.
//! An open shard's active segment is first rolled by its writer (so a quiet shard's old records
//! go too), and a closed shard's folder goes with its last segment.

use tokio::sync::oneshot;

use super::Streams;
use crate::log::Command;

impl Streams {
    /// Drops every sealed segment whose newest record is older than its stream's retention, and
    /// asks the writers to roll active segments that are entirely that old (the next run drops
    /// them). Blocking file work: the background task runs it on a blocking thread.
    pub fn enforce_retention(&self, now_ms: i64) {
        for state in self.all_streams() {
            let (cutoff, shards) = {
                let meta = state.meta();
                let cutoff = now_ms.saturating_sub(meta.retention_ms());
                (cutoff, meta.shards.values().cloned().collect::<Vec<_>>())
            };
            let mut dropped = 0;
            for shard in &shards {
                dropped += shard.log.drop_expired(cutoff);
                if shard.ending_offset.is_some()
                    && shard.log.is_empty()
                    && shard.expired(now_ms, now_ms - cutoff)
                    && shard.log.dir.exists()
                    && let Err(error) = std::fs::remove_dir_all(&shard.log.dir)
                {
                    tracing::warn!(dir = %shard.log.dir.display(), %error, "cannot remove an expired shard's folder");
                }
            }
            if dropped > 0 {
                tracing::info!(stream = %state.name, segments = dropped, "retention dropped old segments");
            }
            let (done, _) = oneshot::channel();
            state.writer.send(Command::Expire {
                cutoff_ms: cutoff,
                done,
            });
        }
    }
}
