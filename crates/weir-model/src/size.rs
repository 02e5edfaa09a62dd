//! Sizes in configuration: `512MiB`, `4GiB`, `2GB`, a bare number of bytes, or a share of the
//! machine's memory (`50%`), which the caller resolves (this crate reads nothing from the system).

/// A size as written: bytes, or a percentage of the machine's memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ByteSize {
    Bytes(u64),
    PercentOfMemory(f64),
}

impl ByteSize {
    /// The size in bytes, given the machine's memory.
    pub fn resolve(self, total_memory: u64) -> u64 {
        match self {
            ByteSize::Bytes(bytes) => bytes,
            ByteSize::PercentOfMemory(percent) => (total_memory as f64 * percent / 100.0) as u64,
        }
    }
}

/// Parses `512MiB`, `4GiB`, `1.5GB`, `64KB`, `1048576` (bytes) or `50%`.
pub fn parse_size(text: &str) -> Result<ByteSize, String> {
    let text = text.trim();
    if let Some(percent) = text.strip_suffix('%') {
        return match percent.trim().parse::<f64>() {
            Ok(p) if p > 0.0 && p <= 100.0 => Ok(ByteSize::PercentOfMemory(p)),
            _ => Err(format!(
                "invalid size `{text}`: a percentage of memory is above 0% and at most 100%"
            )),
        };
    }
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..digits].parse().map_err(|_| {
        format!("invalid size `{text}`: expected a number and a unit (e.g. 512MiB, 4GiB, 50%)")
    })?;
    let factor: u64 = match text[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" | "k" => 1 << 10,
        "mb" => 1_000_000,
        "mib" | "m" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" | "g" => 1 << 30,
        "tb" => 1_000_000_000_000,
        "tib" | "t" => 1 << 40,
        other => {
            return Err(format!(
                "invalid size `{text}`: unknown unit `{other}` (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB or %)"
            ));
        }
    };
    let bytes = number * factor as f64;
    if !bytes.is_finite() || !(1.0..=u64::MAX as f64 / 2.0).contains(&bytes) {
        return Err(format!("invalid size `{text}`: out of range"));
    }
    Ok(ByteSize::Bytes(bytes as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("512MiB"), Ok(ByteSize::Bytes(512 << 20)));
        assert_eq!(parse_size("4 GiB"), Ok(ByteSize::Bytes(4 << 30)));
        assert_eq!(parse_size("2GB"), Ok(ByteSize::Bytes(2_000_000_000)));
        assert_eq!(parse_size("1048576"), Ok(ByteSize::Bytes(1 << 20)));
        assert_eq!(parse_size("50%"), Ok(ByteSize::PercentOfMemory(50.0)));
        assert_eq!(ByteSize::PercentOfMemory(50.0).resolve(24 << 30), 12 << 30);
        for bad in ["", "lots", "5 parsecs", "0", "150%", "0%", "-1GiB", "1e400"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
