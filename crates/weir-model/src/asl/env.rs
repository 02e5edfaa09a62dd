//! What an expression is evaluated against: the state's input, the context object, the workflow
//! variables, and — to keep this crate pure — the clock reading and the randomness that
//! `States.UUID`, `States.MathRandom`, `$uuid()`, `$random()` and `$now()` use, both handed in by
//! the caller. The interpreter records what it passed, so a replay computes the same values.

use std::cell::Cell;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The default for [`Env::jsonata_time_limit_ms`]: far above what real expressions take
/// (microseconds), low enough that a runaway loop, whose frames jsonata-rs keeps on the heap,
/// stays within a few hundred megabytes.
pub const DEFAULT_JSONATA_TIME_LIMIT_MS: u64 = 250;

/// The bindings of one evaluation. Cheap to copy; [`Env::with_input`] rebinds `$` (ResultSelector
/// reads the task's result as `$`).
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// `$` in JSONPath, `$states.input` in JSONata.
    pub input: &'a Value,
    /// `$$` in JSONPath, `$states.context` in JSONata.
    pub context: &'a Value,
    /// Workflow variables (`$name`), as set by `Assign`.
    pub variables: &'a Map<String, Value>,
    /// `$states.result` (JSONata: in Output, Assign and ResultSelector's place).
    pub result: Option<&'a Value>,
    /// `$states.errorOutput` (JSONata: in a Catcher's Output and Assign).
    pub error_output: Option<&'a Value>,
    /// Randomness for the functions that need it.
    pub entropy: &'a Entropy,
    /// What `$now()` and `$millis()` return; `None` makes them fail rather than read a clock.
    pub now: Option<DateTime<Utc>>,
    /// How long one JSONata evaluation may run before it fails (JSONata's tail calls can loop
    /// forever). jsonata-rs measures it with a monotonic timer: a guard, not an input to any
    /// result.
    pub jsonata_time_limit_ms: u64,
    /// The text `input` was given as, when it is the execution's input as the caller sent it:
    /// error causes quote an input by its text, and Step Functions quotes the first state's
    /// input as it was written (with its spaces and line breaks), later ones as compact JSON.
    pub input_text: Option<&'a str>,
}

impl<'a> Env<'a> {
    /// An environment with only input, context and variables (no result, no clock).
    pub fn new(
        input: &'a Value,
        context: &'a Value,
        variables: &'a Map<String, Value>,
        entropy: &'a Entropy,
    ) -> Self {
        Env {
            input,
            context,
            variables,
            result: None,
            error_output: None,
            entropy,
            now: None,
            jsonata_time_limit_ms: DEFAULT_JSONATA_TIME_LIMIT_MS,
            input_text: None,
        }
    }

    /// The same environment with `$` bound to `input` (which keeps the input's text only when
    /// it is the same value, as the effective input of a state without InputPath is).
    pub fn with_input(self, input: &'a Value) -> Self {
        let input_text = self.input_text.filter(|_| input == self.input);
        Env {
            input,
            input_text,
            ..self
        }
    }

    /// The input as error causes quote it: its text when known, else compact JSON; cut at 256
    /// characters.
    pub fn shown_input(&self) -> String {
        let mut shown = match self.input_text {
            Some(text) => text.to_string(),
            None => self.input.to_string(),
        };
        if shown.len() > 256 {
            let cut = (0..=256)
                .rev()
                .find(|i| shown.is_char_boundary(*i))
                .unwrap_or(0);
            shown.truncate(cut);
            shown.push('…');
        }
        shown
    }
}

/// A deterministic stream of random numbers (SplitMix64) seeded by the caller. The interpreter
/// seeds it from a real random source and records the seed with the state's events.
#[derive(Debug)]
pub struct Entropy {
    state: Cell<u64>,
}

impl Entropy {
    pub fn new(seed: u64) -> Self {
        Entropy {
            state: Cell::new(seed),
        }
    }

    pub fn next_u64(&self) -> u64 {
        let next = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(next);
        mix(next)
    }

    /// A number in `[0, 1)`.
    pub fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A random (version 4) UUID in its usual text form.
    pub fn uuid(&self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

/// SplitMix64's output function: also used to turn a user's seed into a number
/// (`States.MathRandom(1, 10, seed)`, `$random(seed)`), so one seed always gives one value.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_is_deterministic_and_in_range() {
        let a = Entropy::new(7);
        let b = Entropy::new(7);
        for _ in 0..100 {
            let x = a.next_f64();
            assert_eq!(x, b.next_f64());
            assert!((0.0..1.0).contains(&x));
        }
        let uuid = a.uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(uuid, a.uuid());
    }
}
