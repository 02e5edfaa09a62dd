//! Sealing a secret's value: ChaCha20-Poly1305 (ring) under the secrets key, a random nonce per
//! value, and the secret's name as associated data, so a sealed value moved to another name (a
//! row edited in the database) fails to open instead of answering for the wrong name.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// Bytes of a key.
pub const KEY_LEN: usize = 32;

/// The key that seals and opens stored secrets.
pub struct SealingKey {
    key: LessSafeKey,
    id: String,
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// It is not what [`SealingKey::seal`] writes (not base64, too short).
    Malformed,
    /// It does not authenticate: another key, another name, or changed bytes.
    Rejected,
}

impl SealingKey {
    pub fn new(bytes: &[u8; KEY_LEN]) -> SealingKey {
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes)
            .map(LessSafeKey::new)
            .unwrap_or_else(|_| unreachable!("a 32-byte key is what ChaCha20-Poly1305 takes"));
        // A digest that names the key without revealing it: tells "sealed with another key"
        // from "damaged" when a value does not open.
        let mut labelled = b"weir secrets key id\0".to_vec();
        labelled.extend_from_slice(bytes);
        let digest = ring::digest::digest(&ring::digest::SHA256, &labelled);
        let id = hex::encode(&digest.as_ref()[..8]);
        SealingKey { key, id }
    }

    /// A new random key.
    pub fn generate() -> Result<[u8; KEY_LEN], String> {
        let mut bytes = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| "the system's random source failed".to_string())?;
        Ok(bytes)
    }

    /// The key's id (16 hex digits of a digest of it).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `value` sealed for the secret `name`: base64 of the nonce, the ciphertext and its tag.
    pub fn seal(&self, name: &str, value: &[u8]) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "the system's random source failed".to_string())?;
        let mut sealed = value.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated_data(name)),
                &mut sealed,
            )
            .map_err(|_| "the value could not be sealed".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// The value [`SealingKey::seal`] sealed for `name`.
    pub fn open(&self, name: &str, sealed: &str) -> Result<Vec<u8>, OpenError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| OpenError::Malformed)?;
        if bytes.len() < NONCE_LEN + CHACHA20_POLY1305.tag_len() {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Malformed)?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(associated_data(name)), &mut buffer)
            .map_err(|_| OpenError::Rejected)?;
        Ok(plain.to_vec())
    }
}

fn associated_data(name: &str) -> Vec<u8> {
    let mut aad = b"weir secret\0".to_vec();
    aad.extend_from_slice(name.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SealingKey {
        SealingKey::new(&[byte; KEY_LEN])
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_name() {
        let key = key(1);
        let sealed = key.seal("db_password", b"hunter2 \xe2\x9c\x93").unwrap();
        assert_eq!(
            key.open("db_password", &sealed).unwrap(),
            b"hunter2 \xe2\x9c\x93"
        );
        assert_eq!(key.open("x", &key.seal("x", b"").unwrap()).unwrap(), b"");
        assert!(!sealed.contains("hunter2"));
    }

    #[test]
    fn every_seal_has_its_own_nonce() {
        let key = key(1);
        assert_ne!(
            key.seal("a", b"same").unwrap(),
            key.seal("a", b"same").unwrap()
        );
    }

    #[test]
    fn another_key_is_refused_and_told_by_its_id() {
        let sealed = key(1).seal("a", b"value").unwrap();
        assert_eq!(key(2).open("a", &sealed), Err(OpenError::Rejected));
        assert_ne!(key(1).id(), key(2).id());
        assert_eq!(key(1).id(), key(1).id());
        assert_eq!(key(1).id().len(), 16);
    }

    #[test]
    fn a_value_moved_to_another_name_does_not_open() {
        let key = key(1);
        let sealed = key.seal("read_only_token", b"value").unwrap();
        assert_eq!(key.open("admin_token", &sealed), Err(OpenError::Rejected));
    }

    #[test]
    fn tampered_or_truncated_values_do_not_open() {
        let key = key(1);
        let sealed = key.seal("a", b"value").unwrap();
        let mut bytes = STANDARD.decode(&sealed).unwrap();
        for at in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[at] ^= 1;
            assert_eq!(
                key.open("a", &STANDARD.encode(&bytes)),
                Err(OpenError::Rejected),
                "byte {at} flipped"
            );
            bytes[at] ^= 1;
        }
        assert_eq!(key.open("a", "not base64!"), Err(OpenError::Malformed));
        assert_eq!(
            key.open("a", &STANDARD.encode([0u8; 20])),
            Err(OpenError::Malformed)
        );
    }
}
