//! The secrets key: outside the metadata database, so that a copy of the database (a backup, a
//! PostgreSQL dump) holds no readable secret. It comes from `WEIR_SECRETS_KEY` (base64 of 32
//! bytes), or else from a key file (`[secrets] key_file`, by default `DATA/secrets.key`), which
//! is created, readable by its owner only, the first time the server starts.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::seal::{KEY_LEN, SealingKey};

/// The environment variable that holds the key itself.
pub const KEY_VARIABLE: &str = "WEIR_SECRETS_KEY";

/// The key and where it came from (for messages: never the key itself).
pub struct LoadedKey {
    pub key: SealingKey,
    /// `the key file /path` or `$WEIR_SECRETS_KEY`.
    pub source: String,
}

/// Loads the key from `variable` (the value of [`KEY_VARIABLE`], if set) or `file`, creating the
/// file with a new random key when it does not exist.
pub fn load_key(variable: Option<&str>, file: &Path) -> Result<LoadedKey, String> {
    if let Some(text) = variable {
        let key = decode(text).map_err(|why| format!("${KEY_VARIABLE} {why}"))?;
        return Ok(LoadedKey {
            key: SealingKey::new(&key),
            source: format!("${KEY_VARIABLE}"),
        });
    }
    let source = format!("the key file {}", file.display());
    let text = match std::fs::read_to_string(file) {
        Ok(text) => {
            warn_if_readable_by_others(file);
            text
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(file)?,
        Err(e) => return Err(format!("cannot read {source}: {e}")),
    };
    let key = decode(&text).map_err(|why| format!("{source} {why}"))?;
    Ok(LoadedKey {
        key: SealingKey::new(&key),
        source,
    })
}

/// The default key file of a data directory.
pub fn default_key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("secrets.key")
}

fn decode(text: &str) -> Result<[u8; KEY_LEN], String> {
    STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; KEY_LEN]>::try_from(bytes).ok())
        .ok_or_else(|| format!("does not hold a key: {KEY_LEN} bytes in base64 (44 characters)"))
}

/// Writes a new key to `file`, mode 0600, refusing to replace a file that appeared meanwhile.
fn create(file: &Path) -> Result<String, String> {
    let key = SealingKey::generate()?;
    let text = format!("{}\n", STANDARD.encode(key));
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the directory of {}: {e}", file.display()))?;
    }
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(|e| format!("cannot create the key file {}: {e}", file.display()))?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .map_err(|e| format!("cannot write the key file {}: {e}", file.display()))?;
    tracing::info!(file = %file.display(), "created the secrets key; keep it safe, and out of backups of the metadata database");
    Ok(text)
}

fn warn_if_readable_by_others(file: &Path) {
    if let Ok(metadata) = std::fs::metadata(file)
        && metadata.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %file.display(),
            "the secrets key file can be read by others than its owner: chmod 600 it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_file_is_created_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data/secrets.key");
        let first = load_key(None, &file).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = load_key(None, &file).unwrap();
        assert_eq!(
            first.key.id(),
            again.key.id(),
            "the same key the second time"
        );
        assert!(first.source.contains("secrets.key"), "{}", first.source);
    }

    #[test]
    fn the_variable_wins_and_bad_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets.key");
        let text = STANDARD.encode([7u8; KEY_LEN]);
        let loaded = load_key(Some(&text), &file).unwrap();
        assert_eq!(loaded.key.id(), SealingKey::new(&[7; KEY_LEN]).id());
        assert!(!file.exists(), "no file when the variable holds the key");
        let error = load_key(Some("short"), &file).err().unwrap();
        assert!(
            error.starts_with("$WEIR_SECRETS_KEY does not hold a key"),
            "{error}"
        );
        std::fs::write(&file, "garbage").unwrap();
        let error = load_key(None, &file).err().unwrap();
        assert!(error.contains("secrets.key does not hold a key"), "{error}");
    }
}
