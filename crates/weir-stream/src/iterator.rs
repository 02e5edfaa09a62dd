//! Shard iterators: the opaque text GetShardIterator returns and GetRecords takes. It holds where
//! to read next and when the chain of iterators began being issued, so the caller can refuse one
//! older than AWS's five minutes (ExpiredIteratorException). A checksum makes a mangled token a
//! clear error instead of a read somewhere else.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::ShardId;

/// How long an iterator stays valid, as AWS says.
pub const ITERATOR_LIFETIME_MS: i64 = 5 * 60 * 1000;

const VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardIterator {
    pub stream: String,
    pub shard: ShardId,
    pub offset: u64,
    /// When it was issued, in milliseconds since the epoch.
    pub issued_ms: i64,
}

impl ShardIterator {
    /// The token: base64 of version, issue time, offset, shard, stream name and a CRC32C of them.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(25 + self.stream.len());
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.issued_ms.to_be_bytes());
        bytes.extend_from_slice(&self.offset.to_be_bytes());
        bytes.extend_from_slice(&self.shard.0.to_be_bytes());
        bytes.extend_from_slice(self.stream.as_bytes());
        let crc = crc32c::crc32c(&bytes);
        bytes.extend_from_slice(&crc.to_be_bytes());
        STANDARD.encode(bytes)
    }

    /// Reads a token [`ShardIterator::encode`] made; `None` for anything else.
    pub fn decode(token: &str) -> Option<ShardIterator> {
        let bytes = STANDARD.decode(token).ok()?;
        let (body, crc) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
        if crc32c::crc32c(body).to_be_bytes() != crc {
            return None;
        }
        let (&version, rest) = body.split_first()?;
        if version != VERSION {
            return None;
        }
        let (issued, rest) = rest.split_first_chunk::<8>()?;
        let (offset, rest) = rest.split_first_chunk::<8>()?;
        let (shard, name) = rest.split_first_chunk::<4>()?;
        Some(ShardIterator {
            stream: String::from_utf8(name.to_vec()).ok()?,
            shard: ShardId(u32::from_be_bytes(*shard)),
            offset: u64::from_be_bytes(*offset),
            issued_ms: i64::from_be_bytes(*issued),
        })
    }

    /// Whether it is older than [`ITERATOR_LIFETIME_MS`] at `now_ms`.
    pub fn expired(&self, now_ms: i64) -> bool {
        now_ms.saturating_sub(self.issued_ms) > ITERATOR_LIFETIME_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let iterator = ShardIterator {
            stream: "orders-é".into(),
            shard: ShardId(12),
            offset: 99,
            issued_ms: 1_700_000_000_000,
        };
        let token = iterator.encode();
        assert_eq!(ShardIterator::decode(&token), Some(iterator.clone()));
        assert_eq!(ShardIterator::decode(""), None);
        assert_eq!(ShardIterator::decode("AAAA"), None);
        assert_eq!(ShardIterator::decode("not base64!"), None);
        let mut flipped = STANDARD.decode(&token).unwrap();
        flipped[10] ^= 1;
        assert_eq!(ShardIterator::decode(&STANDARD.encode(flipped)), None);
        assert!(!iterator.expired(iterator.issued_ms + ITERATOR_LIFETIME_MS));
        assert!(iterator.expired(iterator.issued_ms + ITERATOR_LIFETIME_MS + 1));
    }
}
