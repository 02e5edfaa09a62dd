//! Reading a Parquet file's footer (its metadata) from any store with as few requests as it
//! can: the crawler learns schemas and row counts from it, SQL learns encodings.

use std::ops::Range;

use bytes::Bytes;
use datafusion::parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

/// The file's end that is read first: usually the whole footer, often the whole file.
const WHOLE_PARQUET: u64 = 64 * 1024;
/// Parquet's footer: 4 bytes of metadata length, then the magic `PAR1`.
const FOOTER: u64 = 8;

/// A Parquet file's metadata (its footer), read with one request when the footer is within the
/// file's last 64 KiB, else two. `fetch` reads a byte range of the file, whose size is `size`.
pub async fn parquet_metadata<F, Fut>(
    key: &str,
    size: u64,
    fetch: F,
) -> Result<ParquetMetaData, String>
where
    F: Fn(Range<u64>) -> Fut,
    Fut: Future<Output = Result<Bytes, String>>,
{
    if size < FOOTER + 4 {
        return Err(format!(
            "{key}: {size} bytes is too short for a Parquet file"
        ));
    }
    // The end of the file; usually it holds the whole footer.
    let tail_start = size.saturating_sub(WHOLE_PARQUET);
    let tail = fetch(tail_start..size).await?;
    let tail_len = tail.len() as u64;
    if tail_len < FOOTER {
        return Err(format!(
            "{key}: the store returned {tail_len} bytes of its end"
        ));
    }
    let footer = tail.slice((tail_len - FOOTER) as usize..);
    if &footer[4..] != b"PAR1" {
        return Err(format!("{key}: not a Parquet file (no PAR1 footer)"));
    }
    let metadata_len = u64::from(u32::from_le_bytes([
        footer[0], footer[1], footer[2], footer[3],
    ]));
    if metadata_len + FOOTER > size {
        return Err(format!("{key}: Parquet footer is longer than the file"));
    }
    let metadata_bytes = if metadata_len + FOOTER <= tail_len {
        tail.slice((tail_len - FOOTER - metadata_len) as usize..(tail_len - FOOTER) as usize)
    } else {
        let start = size - FOOTER - metadata_len;
        fetch(start..size - FOOTER).await?
    };
    ParquetMetaDataReader::decode_metadata(&metadata_bytes)
        .map_err(|e| format!("{key}: Parquet metadata: {e}"))
}
