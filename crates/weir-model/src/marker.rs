//! The marker that stands for a substituted value while a template that autoescapes renders (a
//! shell line, SQL text): the value as hexadecimal JSON between two private-use characters, so no
//! character of the value can end it, and the escaping pass afterwards sees exactly where each
//! value landed and what it was.

use std::fmt::Write as _;

/// Opens and closes a marker: Unicode private-use characters, which templates do not contain (a
/// template that does is refused by [`check_literal`]).
pub(crate) const START: char = '\u{E000}';
pub(crate) const END: char = '\u{E001}';

/// The marker of a value.
pub(crate) fn encode(value: &serde_json::Value) -> String {
    let json = value.to_string();
    let mut out = String::with_capacity(json.len() * 2 + 2);
    out.push(START);
    for byte in json.bytes() {
        let _ = write!(out, "{byte:02x}");
    }
    out.push(END);
    out
}

/// The value of a marker's hexadecimal text (between [`START`] and [`END`]); None when damaged.
pub(crate) fn decode(hex: &str) -> Option<serde_json::Value> {
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    serde_json::from_slice(&bytes).ok()
}

/// Refuses a template whose own text contains the marker characters; `what` names the text
/// ("the shell line").
pub(crate) fn check_literal(text: &str, what: &str) -> Result<(), String> {
    if text.contains([START, END]) {
        return Err(format!(
            "{what} contains the characters U+E000 or U+E001, which weir reserves"
        ));
    }
    Ok(())
}
