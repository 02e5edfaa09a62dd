//! How a record is laid out in a segment file. Each frame is self-checking, so recovery can tell
//! the complete records of a file from a torn or damaged tail:
//!
//! ```text
//! u32 length   bytes of the payload that follows the 8-byte header (little-endian)
//! u32 crc      CRC32C of the payload
//! payload:
//!   u64 offset      the record's offset in its shard (so a frame names itself)
//!   i64 arrival_ms  when the log accepted it
//!   u16 key_len     bytes of the partition key
//!   key             partition key, UTF-8
//!   data            the rest
//! ```

pub(crate) const HEADER: usize = 8;
const FIXED: usize = 18;
/// The largest payload a frame may declare: AWS's 1 MiB record plus a 256-character key (up to 4
/// bytes each in UTF-8) and the fixed fields. A larger length can only be damage.
pub(crate) const MAX_PAYLOAD: usize = FIXED + 1024 + (1 << 20);

/// The bytes a record takes in a segment.
pub(crate) fn framed_len(key: &[u8], data: &[u8]) -> usize {
    HEADER + FIXED + key.len() + data.len()
}

/// Appends one frame to `out`. The caller keeps `key` within `u16` and the payload within
/// [`MAX_PAYLOAD`] (the service refuses larger records before they get here).
pub(crate) fn encode(out: &mut Vec<u8>, offset: u64, arrival_ms: i64, key: &[u8], data: &[u8]) {
    let payload = FIXED + key.len() + data.len();
    let start = out.len();
    out.reserve(HEADER + payload);
    out.extend_from_slice(&(payload as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&arrival_ms.to_le_bytes());
    out.extend_from_slice(&(key.len() as u16).to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(data);
    let crc = crc32c::crc32c(&out[start + HEADER..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// One frame read from bytes; `key` and `data` are ranges of the bytes given to [`decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub offset: u64,
    pub arrival_ms: i64,
    pub key: std::ops::Range<usize>,
    pub data: std::ops::Range<usize>,
    /// Bytes the whole frame takes.
    pub len: usize,
}

/// What the bytes at a position hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decoded {
    Frame(Frame),
    /// A frame starts here but goes past the bytes given: `needed` bytes in all would hold it
    /// (when the header says how many; otherwise [`HEADER`]).
    Incomplete {
        needed: usize,
    },
    /// Not a frame: a length out of bounds, a checksum that does not match, a key that does
    /// not fit or is not UTF-8.
    Corrupt,
}

/// Reads the frame at the start of `bytes`. Never panics, whatever the bytes.
pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    let Some((header, rest)) = bytes.split_first_chunk::<HEADER>() else {
        return Decoded::Incomplete { needed: HEADER };
    };
    let [l0, l1, l2, l3, c0, c1, c2, c3] = *header;
    let payload_len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    if !(FIXED..=MAX_PAYLOAD).contains(&payload_len) {
        return Decoded::Corrupt;
    }
    let Some(payload) = rest.get(..payload_len) else {
        return Decoded::Incomplete {
            needed: HEADER + payload_len,
        };
    };
    if crc32c::crc32c(payload) != u32::from_le_bytes([c0, c1, c2, c3]) {
        return Decoded::Corrupt;
    }
    let Some((offset, rest)) = payload.split_first_chunk::<8>() else {
        return Decoded::Corrupt;
    };
    let Some((arrival, rest)) = rest.split_first_chunk::<8>() else {
        return Decoded::Corrupt;
    };
    let Some((key_len, rest)) = rest.split_first_chunk::<2>() else {
        return Decoded::Corrupt;
    };
    let key_len = u16::from_le_bytes(*key_len) as usize;
    let Some(key) = rest.get(..key_len) else {
        return Decoded::Corrupt;
    };
    if std::str::from_utf8(key).is_err() {
        return Decoded::Corrupt;
    }
    let key_start = HEADER + FIXED;
    Decoded::Frame(Frame {
        offset: u64::from_le_bytes(*offset),
        arrival_ms: i64::from_le_bytes(*arrival),
        key: key_start..key_start + key_len,
        data: key_start + key_len..HEADER + payload_len,
        len: HEADER + payload_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_damage_is_caught() {
        let mut bytes = Vec::new();
        encode(
            &mut bytes,
            7,
            1_700_000_000_123,
            "ключ".as_bytes(),
            b"payload",
        );
        assert_eq!(bytes.len(), framed_len("ключ".as_bytes(), b"payload"));
        let Decoded::Frame(frame) = decode(&bytes) else {
            panic!("a frame")
        };
        assert_eq!((frame.offset, frame.arrival_ms), (7, 1_700_000_000_123));
        assert_eq!(&bytes[frame.key.clone()], "ключ".as_bytes());
        assert_eq!(&bytes[frame.data.clone()], b"payload");
        assert_eq!(frame.len, bytes.len());
        for cut in 0..bytes.len() {
            assert!(matches!(decode(&bytes[..cut]), Decoded::Incomplete { .. }));
        }
        for i in 4..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x40;
            assert_eq!(decode(&damaged), Decoded::Corrupt, "byte {i}");
        }
    }
}
