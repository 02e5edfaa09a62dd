//! Numbers as EventBridge compares them.
//!
//! Event Ruler (the engine behind EventBridge) turns every number it compares — in `numeric`
//! ranges, in `anything-but` lists and in numeric equality — into a fixed-point integer: the
//! value plus five billion, times a million, truncated. That is why patterns only accept numbers
//! from -5e9 to 5e9 and why two numbers that differ below the sixth decimal compare equal. We
//! reproduce the same arithmetic (IEEE doubles, the same order of operations) so the same pairs
//! compare equal here as there.

/// The bound of the comparable range, either side of zero.
const FIVE_BILLION: f64 = 5e9;
const TEN_E_SIX: f64 = 1e6;

/// The message Event Ruler gives for a number outside the comparable range (Java prints the
/// bounds as doubles: `-5.0E9`).
pub(crate) const OUT_OF_RANGE: &str = "Value must be between -5.0E9 and 5.0E9, inclusive";

/// The fixed-point form of `value`, or `None` outside [-5e9, 5e9].
pub(crate) fn comparable(value: f64) -> Option<i64> {
    if !(-FIVE_BILLION..=FIVE_BILLION).contains(&value) {
        return None;
    }
    // Java's `(long) (1E6 * (5E9 + f))`: a truncating conversion of a non-negative double that
    // is at most 1e16, so it always fits.
    Some((TEN_E_SIX * (FIVE_BILLION + value)) as i64)
}

/// A number as it appears in an event or a pattern: its double, its comparable form when it
/// has one, and the bits of the double (normalised so 0 and -0 are one key) for the exact
/// comparison of numbers outside the comparable range.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Num {
    pub value: f64,
    pub comparable: Option<i64>,
}

impl Num {
    pub fn new(value: f64) -> Num {
        Num {
            value,
            comparable: comparable(value),
        }
    }

    /// A JSON number (always a finite double: serde_json reads numbers as i64, u64 or f64).
    pub fn from_json(number: &serde_json::Number) -> Num {
        Num::new(number.as_f64().unwrap_or(f64::NAN))
    }

    /// Exact matching of numbers: Event Ruler compares the comparable forms when both have one,
    /// and otherwise the literal, which for us is the double.
    pub fn same(&self, other: &Num) -> bool {
        match (self.comparable, other.comparable) {
            (Some(a), Some(b)) => a == b,
            _ => self.value == other.value,
        }
    }

    /// A hashable key such that `a.same(b)` implies `a.key() == b.key()` (the matcher's index
    /// relies on it).
    pub fn key(&self) -> NumKey {
        match self.comparable {
            Some(c) => NumKey::Comparable(c),
            None => NumKey::Bits((self.value + 0.0).to_bits()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum NumKey {
    Comparable(i64),
    Bits(u64),
}

/// One end of a numeric range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Bound {
    pub at: i64,
    pub inclusive: bool,
}

/// A `numeric` condition: `=`, one bound, or a lower and an upper bound.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Range {
    pub low: Option<Bound>,
    pub high: Option<Bound>,
}

impl Range {
    /// Only numbers inside the comparable range can satisfy a numeric condition: Event Ruler
    /// has no comparable form for the others.
    pub fn contains(&self, number: &Num) -> bool {
        let Some(at) = number.comparable else {
            return false;
        };
        let above = match self.low {
            None => true,
            Some(b) if b.inclusive => at >= b.at,
            Some(b) => at > b.at,
        };
        let below = match self.high {
            None => true,
            Some(b) if b.inclusive => at <= b.at,
            Some(b) => at < b.at,
        };
        above && below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparable_range_and_precision() {
        assert_eq!(comparable(5e9), Some(10_000_000_000_000_000));
        assert_eq!(comparable(-5e9), Some(0));
        assert_eq!(comparable(5e9 + 1.0), None);
        assert_eq!(comparable(-5.000_000_001e9), None);
        // Six decimals: a difference in the seventh is lost, as in Event Ruler.
        assert_eq!(comparable(1.000_000_01), comparable(1.0));
        assert_ne!(comparable(1.000_001), comparable(1.0));
    }

    #[test]
    fn same_number_across_spellings() {
        assert!(Num::new(300.0).same(&Num::new(3.0e2)));
        assert!(!Num::new(300.0).same(&Num::new(300.1)));
        assert!(Num::new(1e20).same(&Num::new(1e20)));
        assert!(!Num::new(1e20).same(&Num::new(2e20)));
        assert_eq!(Num::new(0.0).key(), Num::new(-0.0).key());
        assert_eq!(Num::new(1e20).key(), Num::new(1e20).key());
    }

    #[test]
    fn range_bounds() {
        let r = Range {
            low: Some(Bound {
                at: comparable(0.0).unwrap_or_default(),
                inclusive: false,
            }),
            high: Some(Bound {
                at: comparable(5.0).unwrap_or_default(),
                inclusive: true,
            }),
        };
        assert!(!r.contains(&Num::new(0.0)));
        assert!(r.contains(&Num::new(0.5)));
        assert!(r.contains(&Num::new(5.0)));
        assert!(!r.contains(&Num::new(5.1)));
        assert!(!r.contains(&Num::new(1e12)));
    }
}
