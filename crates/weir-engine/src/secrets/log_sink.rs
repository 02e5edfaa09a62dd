//! Where a child process's output goes. With no secret to mask, straight into its log file (no
//! copy, no thread). Otherwise through a pipe that a thread copies into the log, masking as the
//! bytes pass ([`MaskingWriter`]): a child cannot write a secret into its log.

use std::fs::File;
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::oneshot;

use super::mask::{Masker, MaskingWriter};

/// The copy of a child's output into its log, when it is masked.
pub(crate) struct LogSink {
    done: Option<oneshot::Receiver<()>>,
}

impl LogSink {
    /// `streams` handles on the log for the child (stdout, stderr…), all going to `log`.
    pub(crate) fn open(
        log: &File,
        masker: &Masker,
        streams: usize,
    ) -> std::io::Result<(Vec<Stdio>, LogSink)> {
        if masker.is_empty() {
            let handles = (0..streams)
                .map(|_| log.try_clone().map(Stdio::from))
                .collect::<std::io::Result<_>>()?;
            return Ok((handles, LogSink { done: None }));
        }
        let (mut reader, writer) = std::io::pipe()?;
        let mut handles = Vec::with_capacity(streams);
        for _ in 1..streams {
            handles.push(Stdio::from(writer.try_clone()?));
        }
        handles.push(Stdio::from(writer));
        let mut out = MaskingWriter::new(log.try_clone()?, masker.clone());
        let (done_tx, done) = oneshot::channel();
        std::thread::Builder::new()
            .name("weir-log-mask".into())
            .spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if out.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = out.finish();
                let _ = done_tx.send(());
            })?;
        Ok((handles, LogSink { done: Some(done) }))
    }

    /// Waits until everything the child's processes wrote is in the log (they have all closed
    /// their output), or `within` has passed: a process that left the attempt's process group
    /// may hold the pipe open, and its later output still arrives, masked, without waiting.
    pub(crate) async fn finish(self, within: Duration) {
        if let Some(done) = self.done {
            let _ = tokio::time::timeout(within, done).await;
        }
    }
}

/// Keeps the secrets key and the environment's secrets (`WEIR_SECRETS_KEY`, `WEIR_SECRET_*`)
/// out of a child's environment: a task gets the secrets it names, not all of them.
pub(crate) fn hide_from_children(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let hidden = name
            .to_str()
            .is_some_and(|name| name == super::KEY_VARIABLE || name.starts_with(super::ENV_PREFIX));
        if hidden {
            command.env_remove(name);
        }
    }
}
