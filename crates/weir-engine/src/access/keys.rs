//! The secrets of credentials: bearer tokens (random, stored only as a SHA-256 hash), AWS access
//! key ids, and the server key from which each key id's secret access key is derived.
//!
//! Signature Version 4 needs the secret on the server (it recomputes the signature), so a hash
//! would not do. Instead of storing secrets, the server derives each one from the access key id
//! with a key kept in a file beside the data (`DATA/credentials.key`, mode 0600), outside the
//! metadata database: a copy of the database alone gives away no credential.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac};

use super::AccessError;

const KEY_BYTES: usize = 32;
/// Bearer tokens start with this, so that a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "weir_";

/// The server's key: derives secret access keys and signs session cookies.
pub struct ServerKey {
    key: hmac::Key,
}

impl ServerKey {
    /// Reads the key file, creating it (mode 0600) with a random key when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<ServerKey, AccessError> {
        let bytes = match std::fs::read_to_string(path) {
            Ok(text) => {
                keep_private(path).map_err(|e| AccessError::KeyFile {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })?;
                hex::decode(text.trim())
                    .ok()
                    .filter(|b| b.len() == KEY_BYTES)
                    .ok_or_else(|| AccessError::KeyFile {
                        path: path.to_path_buf(),
                        reason: format!("expected {} hexadecimal digits", KEY_BYTES * 2),
                    })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let bytes = random_bytes::<KEY_BYTES>()?;
                write_private(path, hex::encode(bytes).as_bytes()).map_err(|e| {
                    AccessError::KeyFile {
                        path: path.to_path_buf(),
                        reason: e.to_string(),
                    }
                })?;
                bytes.to_vec()
            }
            Err(e) => {
                return Err(AccessError::KeyFile {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
            }
        };
        Ok(ServerKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, &bytes),
        })
    }

    /// The secret access key of an access key id: 40 characters, as AWS's are.
    pub fn secret_access_key(&self, access_key_id: &str) -> String {
        let tag = self.sign(&["sigv4-secret", access_key_id]);
        base64::engine::general_purpose::STANDARD.encode(&tag[..30])
    }

    /// An HMAC over `parts` (each ended by a NUL, so `["ab", "c"]` and `["a", "bc"]` differ).
    pub fn sign(&self, parts: &[&str]) -> Vec<u8> {
        let mut context = hmac::Context::with_key(&self.key);
        for part in parts {
            context.update(part.as_bytes());
            context.update(&[0]);
        }
        context.sign().as_ref().to_vec()
    }

    /// Whether `tag` is the HMAC of `parts`, compared in constant time.
    pub fn verify(&self, parts: &[&str], tag: &[u8]) -> bool {
        let mut message = Vec::new();
        for part in parts {
            message.extend_from_slice(part.as_bytes());
            message.push(0);
        }
        hmac::verify(&self.key, &message, tag).is_ok()
    }
}

/// A new bearer token: the prefix and 256 random bits.
pub fn new_token() -> Result<String, AccessError> {
    let bytes = random_bytes::<32>()?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// What the store keeps of a token: its SHA-256, in hex. A token carries 256 random bits, so a
/// fast hash is enough (a slow one protects guessable passwords, not random keys).
pub fn token_hash(token: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

/// A new access key id: `AKIA` and 16 characters of base32, the shape of AWS's long-term keys.
pub fn new_access_key_id() -> Result<String, AccessError> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bytes = random_bytes::<16>()?;
    let suffix: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect();
    Ok(format!("AKIA{suffix}"))
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], AccessError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| AccessError::Random)?;
    Ok(bytes)
}

/// Makes a secret file that others may read (copied with a lax umask, say) its owner's alone
/// again, with a warning: whoever reads it holds every credential.
pub fn keep_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            file = %path.display(),
            "the file could be read by other users (mode {:o}); it is made private (600)",
            mode & 0o777
        );
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Writes a file only its owner may read, atomically: a temporary file made with mode 0600, then
/// renamed over `path`, so no moment exists when the secret is readable by others or half written.
pub fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let temporary: PathBuf = path.with_extension("tmp");
    let _ = std::fs::remove_file(&temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(content)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.key");
        let first = ServerKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = ServerKey::load_or_create(&path).unwrap();
        assert_eq!(
            first.secret_access_key("AKIAX"),
            again.secret_access_key("AKIAX")
        );
        assert_ne!(
            first.secret_access_key("AKIAX"),
            first.secret_access_key("AKIAY")
        );
        assert_eq!(first.secret_access_key("AKIAX").len(), 40);
    }

    #[test]
    fn a_key_file_others_may_read_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.key");
        let first = ServerKey::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let again = ServerKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            first.secret_access_key("AKIAX"),
            again.secret_access_key("AKIAX")
        );
    }

    #[test]
    fn a_damaged_key_file_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.key");
        std::fs::write(&path, "not hex").unwrap();
        let error = ServerKey::load_or_create(&path).err().unwrap().to_string();
        assert!(error.contains("credentials.key"), "{error}");
    }

    #[test]
    fn tokens_and_key_ids_are_random_and_well_formed() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43);
        assert_eq!(token_hash(&a).len(), 64);
        let id = new_access_key_id().unwrap();
        assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
    }

    #[test]
    fn signatures_verify_only_their_parts() {
        let dir = tempfile::tempdir().unwrap();
        let key = ServerKey::load_or_create(&dir.path().join("k")).unwrap();
        let tag = key.sign(&["ab", "c"]);
        assert!(key.verify(&["ab", "c"], &tag));
        assert!(!key.verify(&["a", "bc"], &tag));
    }
}
