//! Receipt handles: what a receive hands out to delete the message or change its visibility.
//! A handle names the queue, the message (its seq) and the receive (a random nonce that every
//! receive of the message changes), so a handle from an earlier receive is told apart from the
//! current one, as SQS tells them apart.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const MAGIC: &[u8; 3] = b"wr1";

/// A receipt handle, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Receipt {
    pub queue: String,
    pub seq: i64,
    pub nonce: u64,
}

impl Receipt {
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(MAGIC.len() + 16 + self.queue.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        bytes.extend_from_slice(&self.nonce.to_be_bytes());
        bytes.extend_from_slice(self.queue.as_bytes());
        STANDARD.encode(bytes)
    }

    /// `None` when `handle` is not one of ours.
    pub fn decode(handle: &str) -> Option<Receipt> {
        let bytes = STANDARD.decode(handle).ok()?;
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        if rest.len() < 17 {
            return None;
        }
        let seq = i64::from_be_bytes(rest[..8].try_into().ok()?);
        let nonce = u64::from_be_bytes(rest[8..16].try_into().ok()?);
        let queue = String::from_utf8(rest[16..].to_vec()).ok()?;
        Some(Receipt { queue, seq, nonce })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip_and_strangers_are_refused() {
        let receipt = Receipt {
            queue: "orders.fifo".into(),
            seq: 1_733_000_000_000_123,
            nonce: u64::MAX - 7,
        };
        assert_eq!(Receipt::decode(&receipt.encode()), Some(receipt));
        for stranger in ["", "abc", "not base64!", &STANDARD.encode(b"wr1short")] {
            assert_eq!(Receipt::decode(stranger), None, "{stranger}");
        }
    }
}
