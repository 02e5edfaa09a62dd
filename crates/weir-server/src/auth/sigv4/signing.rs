//! The cryptography of SigV4, all of it from `ring`: SHA-256 of the payload and of the canonical
//! request, the signing key derived from the secret, and the signature compared in constant time.

use ring::{digest, hmac};

/// Lowercase hex of the SHA-256 of `data`.
pub(super) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(super) fn signing_key(secret: &[u8], date: &str, region: &str, service: &str) -> hmac::Key {
    let mut seed = Vec::with_capacity(4 + secret.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret);
    let mut key = hmac::Key::new(hmac::HMAC_SHA256, &seed);
    for part in [date, region, service, "aws4_request"] {
        key = hmac::Key::new(
            hmac::HMAC_SHA256,
            hmac::sign(&key, part.as_bytes()).as_ref(),
        );
    }
    key
}

/// The signature of `string_to_sign`: its HMAC in lowercase hex, as clients send it.
pub(super) fn signature(key: &hmac::Key, string_to_sign: &[u8]) -> String {
    hex::encode(hmac::sign(key, string_to_sign))
}

/// Whether `signature` (lowercase hex, as clients send it) is the HMAC of `string_to_sign`.
/// `ring::hmac::verify` compares in constant time; a signature that is not 64 lowercase hex
/// digits matches nothing.
pub(super) fn signature_matches(key: &hmac::Key, string_to_sign: &[u8], signature: &str) -> bool {
    match decode_signature(signature) {
        Some(tag) => hmac::verify(key, string_to_sign, &tag).is_ok(),
        None => false,
    }
}

fn decode_signature(signature: &str) -> Option<[u8; 32]> {
    let digits = signature.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut tag = [0u8; 32];
    for (byte, pair) in tag.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (lower_hex_value(pair[0])? << 4) | lower_hex_value(pair[1])?;
    }
    Some(tag)
}

fn lower_hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}
