//! What the fuzz targets share: an input read as fields separated by NUL (a byte no header value
//! holds), and header values set from them.

use http::{HeaderMap, HeaderName, HeaderValue};

/// `count` fields of `data` split on NUL, the last one the rest of the input (NULs and all);
/// fields the input is too short for are empty.
pub fn fields(data: &[u8], count: usize) -> Vec<&[u8]> {
    let mut fields: Vec<&[u8]> = data.splitn(count, |byte| *byte == 0).collect();
    fields.resize(count, &[]);
    fields
}

/// Appends each non-empty value that is a valid header value under its name.
pub fn append_headers(headers: &mut HeaderMap, names: &[&'static str], values: &[&[u8]]) {
    for (name, value) in names.iter().zip(values) {
        if !value.is_empty()
            && let Ok(value) = HeaderValue::from_bytes(value)
        {
            headers.append(HeaderName::from_static(name), value);
        }
    }
}
