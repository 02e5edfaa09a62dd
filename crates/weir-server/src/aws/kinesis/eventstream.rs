//! AWS's event-stream framing (`application/vnd.amazon.eventstream`), in which SubscribeToShard
//! answers: each message is a prelude (total length, headers' length, the prelude's CRC-32),
//! headers (name, value type, value), a payload, and the whole message's CRC-32, all big-endian.
//! weir only writes string headers (value type 7), which is all the events it sends carry.

/// Header value type 7: a string of up to 2^16 - 1 bytes.
const STRING: u8 = 7;

/// One message: `headers` (names of at most 255 bytes, values of at most 65,535: the callers'
/// are fixed texts and exception messages, cut to fit) and `payload`.
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut encoded_headers = Vec::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(u8::MAX as usize)];
        let value = &value.as_bytes()[..value.len().min(u16::MAX as usize)];
        encoded_headers.push(name.len() as u8);
        encoded_headers.extend_from_slice(name);
        encoded_headers.push(STRING);
        encoded_headers.extend_from_slice(&(value.len() as u16).to_be_bytes());
        encoded_headers.extend_from_slice(value);
    }
    // Prelude (12) + headers + payload + message CRC (4).
    let total = 12 + encoded_headers.len() + payload.len() + 4;
    let mut message = Vec::with_capacity(total);
    message.extend_from_slice(&(total as u32).to_be_bytes());
    message.extend_from_slice(&(encoded_headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&message);
    message.extend_from_slice(&prelude_crc.to_be_bytes());
    message.extend_from_slice(&encoded_headers);
    message.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&message);
    message.extend_from_slice(&message_crc.to_be_bytes());
    message
}

/// An event of `event_type` with its payload in `content_type`.
pub fn event(event_type: &str, content_type: &str, payload: &[u8]) -> Vec<u8> {
    message(
        &[
            (":event-type", event_type),
            (":content-type", content_type),
            (":message-type", "event"),
        ],
        payload,
    )
}

/// An exception the stream ends with (`ResourceNotFoundException`, `InternalFailureException`…).
pub fn exception(exception_type: &str, content_type: &str, payload: &[u8]) -> Vec<u8> {
    message(
        &[
            (":exception-type", exception_type),
            (":content-type", content_type),
            (":message-type", "exception"),
        ],
        payload,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a message back as a decoder does: lengths, both CRCs, headers, payload.
    fn decode(message: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
        let u32_at = |at: usize| u32::from_be_bytes(message[at..at + 4].try_into().unwrap());
        let total = u32_at(0) as usize;
        let headers_length = u32_at(4) as usize;
        assert_eq!(total, message.len());
        assert_eq!(u32_at(8), crc32fast::hash(&message[..8]));
        assert_eq!(u32_at(total - 4), crc32fast::hash(&message[..total - 4]));
        let mut headers = Vec::new();
        let mut at = 12;
        while at < 12 + headers_length {
            let name_length = message[at] as usize;
            let name = String::from_utf8(message[at + 1..at + 1 + name_length].to_vec()).unwrap();
            at += 1 + name_length;
            assert_eq!(message[at], STRING);
            let value_length = u16::from_be_bytes([message[at + 1], message[at + 2]]) as usize;
            let value = String::from_utf8(message[at + 3..at + 3 + value_length].to_vec()).unwrap();
            at += 3 + value_length;
            headers.push((name, value));
        }
        (headers, message[at..total - 4].to_vec())
    }

    #[test]
    fn a_message_carries_its_lengths_crcs_headers_and_payload() {
        let encoded = event(
            "SubscribeToShardEvent",
            "application/json",
            b"{\"Records\":[]}",
        );
        let (headers, payload) = decode(&encoded);
        assert_eq!(
            headers,
            [
                (
                    ":event-type".to_string(),
                    "SubscribeToShardEvent".to_string()
                ),
                (":content-type".to_string(), "application/json".to_string()),
                (":message-type".to_string(), "event".to_string()),
            ]
        );
        assert_eq!(payload, b"{\"Records\":[]}");
    }

    /// The empty message of AWS's event-stream test suite ("empty_message"): 16 bytes, no
    /// headers, no payload.
    #[test]
    fn the_empty_message_matches_the_reference_encoding() {
        assert_eq!(
            message(&[], b""),
            [
                0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98,
                0xc8, 0xff
            ]
        );
    }
}
