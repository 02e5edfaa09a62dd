//! One live server per data directory. Two servers on one directory would each take the other's
//! running attempts for a crash's leftovers, kill them and run them again; so a server holds an
//! exclusive lock on `DATA/server.lock` (with its pid inside, to name it to the next one) for as
//! long as it runs. The kernel drops the lock when the process dies, however it dies, so a crash
//! never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

/// The lock's file name inside the data directory.
const LOCK_FILE: &str = "server.lock";

/// How long a lock whose server is dead may still be held by what it left behind.
const LEFTOVER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Held for the life of a server; dropping it (or the process ending) releases the directory.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum DataDirLockError {
    #[error(
        "the data directory {dir} is in use by another weir server (pid {pid}); stop it first, or give this one another directory with --data"
    )]
    InUse { dir: String, pid: String },
    #[error("cannot lock the data directory {dir}: {source}")]
    Io {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

/// Creates the data directory readable by its owner alone: it holds task logs, the lake, the
/// metadata database and the server's credentials, which other users of a shared host have no
/// business reading. An existing directory is left as its owner made it, with a warning when
/// others may read it.
fn create_private(data_dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if let Ok(metadata) = std::fs::metadata(data_dir) {
        let mode = metadata.permissions().mode();
        if metadata.is_dir() && mode & 0o077 != 0 {
            tracing::warn!(
                dir = %data_dir.display(),
                "the data directory may be read by other users (mode {:o}); `chmod 700` it unless they should read task logs and the lake",
                mode & 0o777
            );
        }
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
}

/// Locks `data_dir` (creating it if needed) for this process, or says which process holds it.
pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock, DataDirLockError> {
    let io = |source| DataDirLockError::Io {
        dir: data_dir.display().to_string(),
        source,
    };
    create_private(data_dir).map_err(io)?;
    let path = data_dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    let started = std::time::Instant::now();
    loop {
        // SAFETY: flock on a descriptor this function owns; no memory is shared with the kernel.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(io(error));
        }
        let mut holder = String::new();
        let _ = file.seek(SeekFrom::Start(0));
        let _ = file.read_to_string(&mut holder);
        let pid = holder.trim().to_string();
        // The server that wrote its pid is gone, yet the lock is held: a child it was forking
        // when it died still shares the lock until its exec closes it, a moment later. Only a
        // live holder is refused at once.
        let holder_alive = !pid.is_empty() && Path::new("/proc").join(&pid).exists();
        if holder_alive || started.elapsed() >= LEFTOVER_WAIT {
            return Err(DataDirLockError::InUse {
                dir: data_dir.display().to_string(),
                pid: if pid.is_empty() {
                    "unknown".into()
                } else {
                    pid
                },
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(DataDirLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = lock_data_dir(dir.path()).expect("first lock");
        // flock locks belong to the open file description, so a second open in the same
        // process is refused just as another process would be.
        let second = lock_data_dir(dir.path()).expect_err("second lock");
        let message = second.to_string();
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        drop(first);
        lock_data_dir(dir.path()).expect("the directory is free again once released");
    }

    #[test]
    fn a_new_data_directory_is_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("project/.weir");
        let _lock = lock_data_dir(&data).expect("lock");
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
