//! IP addresses and `cidr` blocks, read as Event Ruler reads them.
//!
//! Event Ruler only treats a string as an address when it has the shape of one (four dotted
//! decimal numbers, or hex digits and colons with at least one colon) and then parses it; a
//! block is "address/bits", and the range it covers runs from the address as written (host bits
//! are not cleared) to the address with every host bit set. A plain pattern string that is an
//! address matches the same address however the event spells it.

use std::net::Ipv6Addr;

/// An address: which family, and its bits (IPv4 in the low 32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Ip {
    pub v6: bool,
    pub bits: u128,
}

fn looks_v4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn looks_v6(text: &str) -> bool {
    text.contains(':') && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
}

/// Whether `text` has an address's shape (so a failure to parse it is "Invalid", not
/// "Nonstandard").
fn looks_like_ip(text: &str) -> bool {
    looks_v4(text) || looks_v6(text)
}

fn parse_v4(text: &str) -> Option<u32> {
    let mut bits: u32 = 0;
    for part in text.split('.') {
        // Decimal octets, leading zeros allowed (Java reads "010" as ten, not octal).
        let digits = part.trim_start_matches('0');
        if digits.len() > 3 {
            return None;
        }
        let octet: u32 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        if octet > 255 {
            return None;
        }
        bits = (bits << 8) | octet;
    }
    Some(bits)
}

/// The address `text` denotes, if it has an address's shape and parses.
pub(crate) fn parse_ip(text: &str) -> Option<Ip> {
    if looks_v4(text) {
        return parse_v4(text).map(|v| Ip {
            v6: false,
            bits: u128::from(v),
        });
    }
    if looks_v6(text) {
        return text.parse::<Ipv6Addr>().ok().map(|a| Ip {
            v6: true,
            bits: u128::from(a),
        });
    }
    None
}

/// A `cidr` block: every address of one family from `low` to `high` inclusive.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cidr {
    pub v6: bool,
    pub low: u128,
    pub high: u128,
}

impl Cidr {
    /// Reads "address/bits" with Event Ruler's checks and messages.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        // Java's String.split drops trailing empty strings, so "10.0.0.0/24/" still has two
        // parts and "10.0.0.0/" has one.
        let mut parts: Vec<&str> = text.split('/').collect();
        while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        let [address, mask] = parts[..] else {
            return Err("Malformed CIDR, one '/' required".to_string());
        };
        let mask_bits = parse_java_int(mask)
            .ok_or_else(|| "Malformed CIDR, mask bits must be an integer".to_string())?;
        if mask_bits < 0 {
            return Err("Malformed CIDR, mask bits must not be negative".to_string());
        }
        let ip = match parse_ip(address) {
            Some(ip) => ip,
            None if looks_like_ip(address) => return Err(format!("Invalid IP address: {address}")),
            None => return Err(format!("Nonstandard IP address: {address}")),
        };
        let width: i64 = if ip.v6 { 128 } else { 32 };
        if ip.v6 && mask_bits > 127 {
            return Err("IPv6 mask bits must be < 128".to_string());
        }
        if !ip.v6 && mask_bits > 31 {
            return Err("IPv4 mask bits must be < 32".to_string());
        }
        let host_bits = width - mask_bits;
        let host_mask: u128 = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        Ok(Cidr {
            v6: ip.v6,
            low: ip.bits,
            high: ip.bits | host_mask,
        })
    }

    pub fn contains(&self, ip: Ip) -> bool {
        ip.v6 == self.v6 && self.low <= ip.bits && ip.bits <= self.high
    }
}

/// Java's `Integer.parseInt`: an optional sign, ASCII digits, within 32 bits.
fn parse_java_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    i32::try_from(value).ok().map(i64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Ip {
        parse_ip(text).unwrap_or(Ip { v6: true, bits: 0 })
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_ip("10.0.0.1").map(|i| i.bits), Some(0x0a00_0001));
        assert_eq!(parse_ip("010.000.0.1").map(|i| i.bits), Some(0x0a00_0001));
        assert_eq!(parse_ip("256.0.0.1"), None);
        assert_eq!(parse_ip("::1").map(|i| (i.v6, i.bits)), Some((true, 1)));
        assert_eq!(parse_ip("::ffff:1.2.3.4"), None);
        assert_eq!(parse_ip("example.com"), None);
        assert_eq!(parse_ip("1.2.3"), None);
    }

    #[test]
    fn blocks() {
        let b = Cidr::parse("10.0.0.0/24").unwrap_or(Cidr {
            v6: false,
            low: 1,
            high: 0,
        });
        assert!(b.contains(ip("10.0.0.0")));
        assert!(b.contains(ip("10.0.0.255")));
        assert!(!b.contains(ip("10.0.1.0")));
        assert!(!b.contains(ip("::a00:0")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap_or(Cidr {
            v6: false,
            low: 1,
            high: 0,
        });
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        // Host bits are kept in the low end, as Event Ruler does.
        let odd = Cidr::parse("10.0.0.5/24").unwrap_or(Cidr {
            v6: false,
            low: 1,
            high: 0,
        });
        assert!(!odd.contains(ip("10.0.0.4")));
        assert!(odd.contains(ip("10.0.0.5")));
        assert!(Cidr::parse("0.0.0.0/0").is_ok_and(|c| c.contains(ip("255.255.255.255"))));
    }

    #[test]
    fn block_errors() {
        let err = |t: &str| Cidr::parse(t).err().unwrap_or_default();
        assert_eq!(err("10.0.0.0"), "Malformed CIDR, one '/' required");
        assert_eq!(err("10.0.0.0/"), "Malformed CIDR, one '/' required");
        assert_eq!(err("1/2/3"), "Malformed CIDR, one '/' required");
        assert_eq!(
            err("10.0.0.0/x"),
            "Malformed CIDR, mask bits must be an integer"
        );
        assert_eq!(
            err("10.0.0.0/99999999999"),
            "Malformed CIDR, mask bits must be an integer"
        );
        assert_eq!(
            err("10.0.0.0/-1"),
            "Malformed CIDR, mask bits must not be negative"
        );
        assert_eq!(err("10.0.0.0/32"), "IPv4 mask bits must be < 32");
        assert_eq!(err("::/128"), "IPv6 mask bits must be < 128");
        assert_eq!(err("999.0.0.0/8"), "Invalid IP address: 999.0.0.0");
        assert_eq!(err("host/8"), "Nonstandard IP address: host");
        assert!(Cidr::parse("10.0.0.0/+8").is_ok());
        assert!(Cidr::parse("10.0.0.0/24/").is_ok());
    }
}
