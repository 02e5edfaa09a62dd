//! The canonical request, as AWS builds it for every service but S3 ("Create a canonical request"
//! in the IAM user guide; botocore's `SigV4Auth.canonical_request` is the reference client):
//!
//! ```text
//! METHOD \n CANONICAL_URI \n CANONICAL_QUERY \n CANONICAL_HEADERS \n SIGNED_HEADERS \n PAYLOAD_HASH
//! ```

use axum::http::HeaderMap;

/// Builds the canonical request from the request's parts as they arrived. Header values are kept
/// as bytes (a header may carry any byte but control characters); the rest is ASCII.
pub(super) fn request(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    signed_headers: &[String],
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(uri(path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(query_string(query.unwrap_or("")).as_bytes());
    out.push(b'\n');
    for name in signed_headers {
        header_line(&mut out, name, headers);
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// The path as sent (still percent-encoded), with dot segments and repeated slashes removed,
/// then percent-encoded again: the "encode each segment twice" rule of every service but S3, so
/// `arn%3Aaws` is signed as `arn%253Aaws`.
pub(super) fn uri(path: &str) -> String {
    let normalized = remove_dot_segments(path);
    let mut out = String::with_capacity(normalized.len() + 8);
    for &byte in normalized.as_bytes() {
        if byte == b'/' {
            out.push('/');
        } else {
            encode_byte(&mut out, byte);
        }
    }
    out
}

/// RFC 3986's "remove dot segments", also dropping empty segments (AWS requires consecutive
/// slashes to be collapsed); the same steps as botocore's `remove_dot_segments`.
fn remove_dot_segments(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            _ => kept.push(segment),
        }
    }
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !kept.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", kept.join("/"))
}

/// Every parameter decoded, then encoded by RFC 3986 (only `A-Z a-z 0-9 - _ . ~` left as they
/// are), sorted by name and then by value. A parameter without `=` has an empty value; an invalid
/// escape such as `%zz` is kept as the characters it is.
pub(super) fn query_string(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(&decode(name)), encode(&decode(value)))
        })
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len() + 16);
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Whether the query names a parameter (decoded name, exact case).
pub(super) fn query_has(query: Option<&str>, parameter: &str) -> bool {
    query.is_some_and(|query| {
        query.split('&').any(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            decode(name) == parameter.as_bytes()
        })
    })
}

/// `name:value1,value2\n`: every value of the header in the order received, each trimmed and
/// with runs of spaces and tabs made one space. A signed header the request lacks adds no line.
fn header_line(out: &mut Vec<u8>, name: &str, headers: &HeaderMap) {
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return;
    }
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    for (index, value) in values.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        let mut words = value
            .as_bytes()
            .split(|byte| *byte == b' ' || *byte == b'\t')
            .filter(|word| !word.is_empty());
        if let Some(first) = words.next() {
            out.extend_from_slice(first);
        }
        for word in words {
            out.push(b' ');
            out.extend_from_slice(word);
        }
    }
    out.push(b'\n');
}

fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = match bytes.get(index..index + 3) {
            Some([b'%', high, low]) => hex_value(*high).zip(hex_value(*low)),
            _ => None,
        };
        match escaped {
            Some((high, low)) => {
                out.push((high << 4) | low);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        encode_byte(&mut out, byte);
    }
    out
}

/// RFC 3986's unreserved characters as they are, anything else `%XY` in uppercase hex.
fn encode_byte(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
        out.push(char::from(byte));
    } else {
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
}
