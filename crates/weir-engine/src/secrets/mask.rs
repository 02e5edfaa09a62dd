//! Masking: secret values replaced by `***` in text weir writes or shows (task logs, history,
//! outputs, errors). Values shorter than [`MIN_MASKED_LEN`] bytes are not masked inside text:
//! replacing every `1` or `ok` would mangle every log without hiding anything (the gaps would
//! give such a value away anyway).
//!
//! A log arrives in pieces, and a value may be split across two of them: [`MaskingWriter`] holds
//! back the end of what it has seen while that end could be the beginning of a value, and
//! writes it once the next bytes tell (or at the end of the stream).

use std::io::Write;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::Value;

/// What a value becomes.
pub const MASK: &str = "***";

/// The shortest value masked inside text.
pub const MIN_MASKED_LEN: usize = 4;

/// The values to mask, searched all at once. Cloning shares them.
#[derive(Clone, Default)]
pub struct Masker {
    patterns: Option<Arc<Patterns>>,
}

struct Patterns {
    finder: AhoCorasick,
    values: Vec<Vec<u8>>,
}

impl Masker {
    /// Masks `values` (those of at least [`MIN_MASKED_LEN`] bytes).
    pub fn new<V: AsRef<[u8]>>(values: impl IntoIterator<Item = V>) -> Masker {
        let mut values: Vec<Vec<u8>> = values
            .into_iter()
            .map(|v| v.as_ref().to_vec())
            .filter(|v| v.len() >= MIN_MASKED_LEN)
            .collect();
        values.sort();
        values.dedup();
        if values.is_empty() {
            return Masker::default();
        }
        let finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&values);
        match finder {
            Ok(finder) => Masker {
                patterns: Some(Arc::new(Patterns { finder, values })),
            },
            // Building fails only past aho-corasick's size limits (gigabytes of values).
            Err(e) => {
                tracing::error!("secret values cannot be masked: {e}");
                Masker::default()
            }
        }
    }

    /// Nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_none()
    }

    /// `text` with every value replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        match &self.patterns {
            Some(p) => p.finder.replace_all(text, &vec![MASK; p.values.len()]),
            None => text.to_string(),
        }
    }

    /// Every string inside `value` (keys included) masked.
    pub fn mask_json(&self, value: &Value) -> Value {
        if self.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.mask(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.mask_json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.mask(k), self.mask_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Writes `bytes` to `out` with every value masked; returns how many bytes at the end were
    /// not written because they could be the start of a value (all are written when `last`).
    fn write_masked(
        &self,
        bytes: &[u8],
        last: bool,
        out: &mut impl Write,
    ) -> std::io::Result<usize> {
        let Some(p) = &self.patterns else {
            out.write_all(bytes)?;
            return Ok(0);
        };
        let held = if last { 0 } else { p.held_back(bytes) };
        // A match starting before `safe` is complete: a longer one from the same start would
        // have to reach past the end, making its start part of the held-back end.
        let safe = bytes.len() - held;
        let mut cursor = 0;
        for found in p.finder.find_iter(bytes) {
            if found.start() >= safe {
                break;
            }
            out.write_all(&bytes[cursor..found.start()])?;
            out.write_all(MASK.as_bytes())?;
            cursor = found.end();
        }
        let upto = cursor.max(safe);
        out.write_all(&bytes[cursor..upto])?;
        Ok(bytes.len() - upto)
    }
}

impl Patterns {
    /// The length of the longest end of `bytes` that begins some value without being all of it.
    fn held_back(&self, bytes: &[u8]) -> usize {
        self.values
            .iter()
            .map(|value| {
                let longest = (value.len() - 1).min(bytes.len());
                (1..=longest)
                    .rev()
                    .find(|&n| bytes.ends_with(&value[..n]))
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }
}

/// A writer that masks secret values in what passes through it, however the bytes are split.
/// [`MaskingWriter::finish`] writes what it held back; dropping it without does too.
pub struct MaskingWriter<W: Write> {
    inner: W,
    masker: Masker,
    pending: Vec<u8>,
}

impl<W: Write> MaskingWriter<W> {
    pub fn new(inner: W, masker: Masker) -> MaskingWriter<W> {
        MaskingWriter {
            inner,
            masker,
            pending: Vec::new(),
        }
    }

    /// Writes what was held back (the stream has ended) and hands back the inner writer.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.drain_all()
    }

    fn drain_all(&mut self) -> std::io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.masker.write_masked(&pending, true, &mut self.inner)?;
        self.inner.flush()
    }
}

impl<W: Write> Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let held = self
            .masker
            .write_masked(&self.pending, false, &mut self.inner)?;
        let written = self.pending.len() - held;
        self.pending.drain(..written);
        Ok(buf.len())
    }

    /// Flushes what was written; what is held back stays held (it may be half a secret).
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for MaskingWriter<W> {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.drain_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(masker: &Masker, pieces: &[&[u8]]) -> String {
        let mut out = Vec::new();
        let mut writer = MaskingWriter::new(&mut out, masker.clone());
        for piece in pieces {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_masked_in_text_and_json() {
        let masker = Masker::new(["hunter22", "s3cr3t-token"]);
        assert_eq!(
            masker.mask("login hunter22 with s3cr3t-token."),
            "login *** with ***."
        );
        assert_eq!(
            masker.mask_json(&serde_json::json!({"hunter22": ["x s3cr3t-token", 1]})),
            serde_json::json!({"***": ["x ***", 1]})
        );
        assert!(Masker::new(Vec::<String>::new()).is_empty());
    }

    #[test]
    fn short_and_empty_values_are_not_masked() {
        let masker = Masker::new(["", "1", "ok", "abc"]);
        assert!(masker.is_empty());
        assert_eq!(masker.mask("ok 1 abc"), "ok 1 abc");
        assert_eq!(Masker::new(["abcd"]).mask("xabcdx"), "x***x");
    }

    #[test]
    fn a_value_split_across_writes_is_masked() {
        let masker = Masker::new(["hunter22"]);
        let text = b"before hunter22 after hunter22";
        // Every way of cutting the stream in two, and byte by byte.
        for cut in 0..=text.len() {
            assert_eq!(
                through(&masker, &[&text[..cut], &text[cut..]]),
                "before *** after ***",
                "cut at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(through(&masker, &bytes), "before *** after ***");
    }

    #[test]
    fn a_prefix_of_a_value_is_held_only_until_the_next_bytes_tell() {
        let masker = Masker::new(["hunter22"]);
        let mut out = Vec::new();
        let mut writer = MaskingWriter::new(&mut out, masker);
        writer.write_all(b"line one\nhunt").unwrap();
        writer.flush().unwrap();
        assert_eq!(
            writer.inner.as_slice(),
            b"line one\n",
            "`hunt` may be a secret's start"
        );
        writer.write_all(b"ing season\n").unwrap();
        assert_eq!(writer.inner.as_slice(), b"line one\nhunting season\n");
        writer.write_all(b"hunter2").unwrap();
        writer.finish().unwrap();
        assert_eq!(
            out, b"line one\nhunting season\nhunter2",
            "the end of the stream"
        );
    }

    #[test]
    fn overlapping_and_nested_values_mask_the_longest() {
        let masker = Masker::new(["pass", "password1"]);
        assert_eq!(
            through(&masker, &[b"my passw", b"ord1 and pass"]),
            "my *** and ***"
        );
        assert_eq!(through(&masker, &[b"my passw", b"ord2"]), "my ***word2");
    }
}
