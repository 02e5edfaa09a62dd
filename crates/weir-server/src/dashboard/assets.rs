//! The dashboard's stylesheet and script, compiled into the binary: no build step, no CDN, no
//! third-party code. Pages link them with `?v=VERSION` (a hash of their contents), so a new
//! binary's assets are never mixed with an old one's.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: [(&str, &str, &str); 3] = [
    (
        "weir.css",
        "text/css; charset=utf-8",
        include_str!("assets/weir.css"),
    ),
    (
        "weir.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/weir.js"),
    ),
    ("weir.svg", "image/svg+xml", include_str!("assets/weir.svg")),
];

/// A short hash of every asset: the pages' cache-busting `?v=` and the assets' ETag.
pub(crate) static VERSION: LazyLock<String> = LazyLock::new(|| {
    // FNV-1a: stable across builds and platforms, enough to tell versions apart.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (_, _, text) in FILES {
        for byte in text.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
});

pub(crate) async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((_, content_type, text)) = FILES.iter().find(|(name, _, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = format!("\"{}\"", VERSION.as_str());
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (*text).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
