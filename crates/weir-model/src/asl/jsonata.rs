//! JSONata (`"{% … %}"` strings in states whose QueryLanguage is JSONata), evaluated with the
//! `jsonata-rs` crate.
//!
//! What Step Functions adds is provided here: `$states` (input, context, result, errorOutput),
//! workflow variables as `$name`, and the functions `$partition`, `$range`, `$hash`, `$random`
//! (with an optional seed), `$uuid` and `$parse`. `$random`, `$uuid`, `$now` and `$millis` draw on
//! the caller's [`Env`] (its entropy and `now`) instead of the machine's, to keep this crate pure:
//! the expression is wrapped in a block that rebinds those names to such functions.
//!
//! Known gaps of jsonata-rs 0.3 (checked against the Step Functions guide's examples in this
//! module's tests): `$formatNumber`, `$type`, `$average`, `$spread`, `$sift`,
//! `$encodeUrlComponent` and friends are missing; objects it builds do not keep key order; it
//! accepts `420.` (a number ending in a dot), which is refused here by an extra check.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use bumpalo::Bump;
use jsonata_rs::{ArrayFlags, FunctionContext, JsonAta, Value as Ata};
use serde_json::{Map, Number, Value};

use super::env::{Env, mix};
use super::errors::StatesError;
use super::intrinsic::HASH_ALGORITHMS;

/// How a string field reads in a JSONata state.
#[derive(Debug, PartialEq)]
pub(crate) enum Surround<'s> {
    /// Not an expression: a literal string.
    Plain,
    /// `{% expr %}`: the expression between the delimiters.
    Expr(&'s str),
    /// Starts with `{%` or ends with `%}` but is not a well-formed `{% … %}`.
    Malformed(&'static str),
}

/// Reads the `{% … %}` surround. Following asl-validator: a space (or tab) must follow `{%` and
/// precede `%}`, and the expression must begin on the line of its `{%` (it may span lines).
pub(crate) fn surround(s: &str) -> Surround<'_> {
    let opens = s.starts_with("{%");
    let closes = s.ends_with("%}");
    match (opens, closes) {
        (false, false) => Surround::Plain,
        (true, false) => Surround::Malformed("a JSONata expression must end with `%}`"),
        (false, true) => Surround::Malformed("a JSONata expression must start with `{%`"),
        (true, true) if s.len() < 4 => Surround::Malformed("empty JSONata expression"),
        (true, true) => {
            let inner = &s[2..s.len() - 2];
            let leading = &inner[..inner.len() - inner.trim_start().len()];
            if !inner.starts_with([' ', '\t']) || !inner.ends_with(char::is_whitespace) {
                Surround::Malformed(
                    "write JSONata as \"{% expression %}\", with a space after `{%` and before `%}`",
                )
            } else if leading.contains(['\n', '\r']) {
                Surround::Malformed("a JSONata expression must begin on the line of its `{%`")
            } else if inner.trim().is_empty() {
                Surround::Malformed("empty JSONata expression")
            } else {
                Surround::Expr(inner.trim())
            }
        }
    }
}

/// A JSONata expression whose syntax has been checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Jsonata {
    expr: String,
}

/// Brackets nested deeper than this are refused before jsonata-rs's recursive parser sees them.
const MAX_NESTING: usize = 64;
/// Memory one evaluation may allocate (Step Functions' payloads are at most 256 KiB).
const MAX_ARENA_BYTES: usize = 64 << 20;
/// jsonata-rs's evaluation depth limit (recursive functions end with an error, not a crash).
const MAX_EVAL_DEPTH: usize = 200;

impl Jsonata {
    /// Checks `expr` (the text between `{%` and `%}`).
    pub fn parse(expr: &str) -> Result<Jsonata, String> {
        precheck(expr)?;
        let arena = Bump::new();
        match catch_unwind(AssertUnwindSafe(|| {
            JsonAta::new(expr, &arena)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })) {
            Ok(Ok(())) => Ok(Jsonata {
                expr: expr.to_string(),
            }),
            Ok(Err(e)) => Err(format!("invalid JSONata: {e}")),
            Err(_) => Err("invalid JSONata: the parser failed".into()),
        }
    }

    pub fn text(&self) -> &str {
        &self.expr
    }

    /// Evaluates the expression with `$states` and the variables of `env` bound.
    pub fn evaluate(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        eval_jsonata(&self.expr, env)
    }

    /// Evaluates the expression written in `field` (`Output`, `Arguments/Input/x`, …), which
    /// errors name as Step Functions does.
    pub fn evaluate_field(&self, env: &Env<'_>, field: &str) -> Result<Value, StatesError> {
        eval_jsonata_field(&self.expr, env, field)
    }
}

/// Evaluates a JSONata expression (without its `{% %}`) with `$states` bound from `env`.
/// Errors, and an expression that yields nothing (undefined), raise
/// `States.QueryEvaluationError`.
pub fn eval_jsonata(expr: &str, env: &Env<'_>) -> Result<Value, StatesError> {
    eval_jsonata_field(expr, env, "")
}

/// [`eval_jsonata`] for an expression written in `field`: an expression that yields nothing
/// fails with AWS's words, `The JSONata expression '$x' specified for the field 'Output/v'
/// returned nothing (undefined).`
pub fn eval_jsonata_field(expr: &str, env: &Env<'_>, field: &str) -> Result<Value, StatesError> {
    precheck(expr).map_err(StatesError::query)?;
    let wrapped = format!(
        "($random := $__sfnRandom; $uuid := $__sfnUuid; $now := $__sfnNow; $millis := $__sfnMillis;\n{expr}\n)"
    );
    SEED.with(|s| s.set(env.entropy.next_u64()));
    NOW.with(|n| n.set(env.now.map(|t| t.timestamp_millis())));
    let arena = Bump::new();
    // Bounds the memory one evaluation may take (a runaway tail-recursive function allocates
    // quickly); bumpalo fails the allocation with a panic, caught below like any other.
    arena.set_allocation_limit(Some(MAX_ARENA_BYTES));
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<Option<Value>, String> {
        let ata = JsonAta::new(&wrapped, &arena).map_err(|e| e.to_string())?;
        let mut states = Map::new();
        states.insert("input".into(), env.input.clone());
        states.insert("context".into(), env.context.clone());
        if let Some(result) = env.result {
            states.insert("result".into(), result.clone());
        }
        if let Some(error) = env.error_output {
            states.insert("errorOutput".into(), error.clone());
        }
        ata.assign_var("states", to_ata(&arena, &Value::Object(states), 0));
        for (name, value) in env.variables {
            ata.assign_var(name, to_ata(&arena, value, 0));
        }
        ata.register_function("partition", 2, partition);
        ata.register_function("range", 3, range);
        ata.register_function("hash", 2, hash);
        ata.register_function("parse", 1, parse);
        ata.register_function("__sfnRandom", 1, random);
        ata.register_function("__sfnUuid", 0, uuid);
        ata.register_function("__sfnNow", 2, now);
        ata.register_function("__sfnMillis", 0, millis);
        let result = ata
            .evaluate_timeboxed(
                None,
                Some(MAX_EVAL_DEPTH),
                Some(usize::try_from(env.jsonata_time_limit_ms).unwrap_or(usize::MAX)),
            )
            .map_err(|e| e.to_string())?;
        from_ata(result, 0)
    }));
    match outcome {
        Ok(Ok(Some(value))) => Ok(value),
        Ok(Ok(None)) if field.is_empty() => Err(StatesError::query(format!(
            "The JSONata expression '{expr}' returned nothing (undefined)."
        ))),
        Ok(Ok(None)) => Err(StatesError::query(format!(
            "The JSONata expression '{expr}' specified for the field '{field}' returned nothing (undefined)."
        ))),
        Ok(Err(e)) => Err(StatesError::query(format!(
            "The JSONata expression '{expr}' failed: {e}"
        ))),
        Err(_) => Err(StatesError::query(format!(
            "The JSONata expression '{expr}' could not be evaluated"
        ))),
    }
}

/// Checks jsonata-rs does not make: nesting depth (its parser recurses) and a number ending in
/// a dot (`420.`), which the reference implementation refuses.
fn precheck(expr: &str) -> Result<(), String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut depth = 0usize;
    let mut i = 0;
    // The last significant character: a `/` after a value divides, after anything else it
    // opens a regular expression literal (skipped: its `.`s are not numbers').
    let mut prev: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_whitespace() && c != '/' {
            prev = Some(c);
        }
        match c {
            '/' if chars.get(i + 1) != Some(&'*')
                && !prev.is_some_and(|p| {
                    p.is_alphanumeric()
                        || matches!(p, ')' | ']' | '}' | '_' | '$' | '"' | '\'' | '`')
                }) =>
            {
                i += 1;
                while i < chars.len() && chars[i] != '/' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                prev = Some('/');
            }
            '"' | '\'' | '`' => {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 1;
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!(
                        "invalid JSONata: brackets are nested more than {MAX_NESTING} deep"
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '.' if i > 0 && chars[i - 1].is_ascii_digit() => {
                let starts_number = {
                    let mut j = i;
                    while j > 0 && chars[j - 1].is_ascii_digit() {
                        j -= 1;
                    }
                    j == 0
                        || !(chars[j - 1].is_alphanumeric()
                            || matches!(chars[j - 1], '_' | '$' | '.'))
                };
                let next = chars.get(i + 1).copied();
                let dangling = match next {
                    None => true,
                    Some(n) => {
                        !(n.is_alphanumeric()
                            || matches!(n, '.' | '_' | '$' | '`' | '(' | '[' | '{' | '*'))
                    }
                };
                if starts_number && dangling {
                    return Err(format!(
                        "invalid JSONata: a number cannot end with `.` (at offset {i})"
                    ));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

thread_local! {
    /// The random stream of the evaluation running on this thread (seeded from its `Env`).
    static SEED: Cell<u64> = const { Cell::new(0) };
    /// The `now` of the evaluation running on this thread, in Unix milliseconds.
    static NOW: Cell<Option<i64>> = const { Cell::new(None) };
}

fn next_random() -> u64 {
    SEED.with(|s| {
        let next = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(next);
        mix(next)
    })
}

fn to_unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// A JSON value in the arena. Depth is bounded by the definition reader and by `MAX_DEPTH`.
fn to_ata<'a>(arena: &'a Bump, value: &Value, depth: usize) -> &'a Ata<'a> {
    if depth > 512 {
        return Ata::null(arena);
    }
    match value {
        Value::Null => Ata::null(arena),
        Value::Bool(b) => Ata::bool(*b),
        Value::Number(n) => Ata::number(arena, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Ata::string(arena, s),
        Value::Array(items) => {
            let array = Ata::array_with_capacity(arena, items.len(), ArrayFlags::empty());
            for item in items {
                array.push(to_ata(arena, item, depth + 1));
            }
            array
        }
        Value::Object(map) => {
            let object = Ata::object_with_capacity(arena, map.len());
            for (k, v) in map {
                object.insert(k, to_ata(arena, v, depth + 1));
            }
            object
        }
    }
}

/// A JSONata result as JSON; `None` for undefined. Functions and regexes cannot be returned.
fn from_ata<'a>(value: &'a Ata<'a>, depth: usize) -> Result<Option<Value>, String> {
    if depth > 512 {
        return Err("the result is nested too deeply".into());
    }
    Ok(Some(match value {
        Ata::Undefined => return Ok(None),
        Ata::Null => Value::Null,
        Ata::Bool(b) => Value::Bool(*b),
        Ata::Number(n) => number(*n).ok_or("the result is not a finite number")?,
        Ata::String(s) => Value::String(s.to_string()),
        Ata::Array(..) | Ata::Range(..) => {
            let mut items = Vec::new();
            for item in value.members() {
                if let Some(v) = from_ata(item, depth + 1)? {
                    items.push(v);
                }
            }
            Value::Array(items)
        }
        Ata::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter() {
                if let Some(v) = from_ata(v, depth + 1)? {
                    out.insert(k.to_string(), v);
                }
            }
            Value::Object(out)
        }
        _ => return Err("a function or regular expression cannot be a result".into()),
    }))
}

/// JSONata numbers are doubles; whole ones become JSON integers, as in JavaScript's output.
fn number(n: f64) -> Option<Value> {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Some(Value::Number(Number::from(n as i64)))
    } else {
        Number::from_f64(n).map(Value::Number)
    }
}

type AtaResult<'a> = jsonata_rs::Result<&'a Ata<'a>>;

fn error<'a>(message: impl Into<String>) -> AtaResult<'a> {
    Err(jsonata_rs::Error::D3137Error(message.into()))
}

fn arg<'a>(args: &[&'a Ata<'a>], i: usize) -> &'a Ata<'a> {
    args.get(i).copied().unwrap_or_else(Ata::undefined)
}

fn int_arg<'a>(args: &[&'a Ata<'a>], i: usize, name: &str) -> Result<i64, jsonata_rs::Error> {
    match arg(args, i) {
        Ata::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(*n as i64),
        _ => Err(jsonata_rs::Error::D3137Error(format!(
            "argument {} of ${name} must be an integer",
            i + 1
        ))),
    }
}

/// `$partition(array, size)`: chunks of `size` items.
fn partition<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a Ata<'a>]) -> AtaResult<'a> {
    let items = arg(args, 0);
    if !items.is_array() {
        return error("argument 1 of $partition must be an array");
    }
    let size = usize::try_from(int_arg(args, 1, "partition")?).unwrap_or(0);
    if size == 0 {
        return error("argument 2 of $partition must be a positive integer");
    }
    let members: Vec<_> = items.members().collect();
    let out = Ata::array_with_capacity(ctx.arena, members.len() / size + 1, ArrayFlags::empty());
    for chunk in members.chunks(size) {
        let part = Ata::array_with_capacity(ctx.arena, chunk.len(), ArrayFlags::empty());
        for item in chunk {
            part.push(item);
        }
        out.push(part);
    }
    Ok(out)
}

/// `$range(start, end, step)`: like States.ArrayRange, end included, at most 1000 items.
fn range<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a Ata<'a>]) -> AtaResult<'a> {
    let (start, end, step) = (
        int_arg(args, 0, "range")?,
        int_arg(args, 1, "range")?,
        int_arg(args, 2, "range")?,
    );
    if step == 0 {
        return error("the step of $range cannot be 0");
    }
    let out = Ata::array(ctx.arena, ArrayFlags::empty());
    let mut i = start;
    let mut count = 0;
    while (step > 0 && i <= end) || (step < 0 && i >= end) {
        count += 1;
        if count > 1000 {
            return error("$range produces at most 1000 items");
        }
        out.push(Ata::number(ctx.arena, i as f64));
        let Some(next) = i.checked_add(step) else {
            break;
        };
        i = next;
    }
    Ok(out)
}

/// `$hash(data, algorithm)`.
fn hash<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a Ata<'a>]) -> AtaResult<'a> {
    let (data, algorithm) = (arg(args, 0), arg(args, 1));
    if !data.is_string() || !algorithm.is_string() {
        return error("$hash takes a string and an algorithm name");
    }
    match super::intrinsic::hash_hex(&data.as_str(), &algorithm.as_str()) {
        Some(hex) => Ok(Ata::string(ctx.arena, &hex)),
        None => error(format!(
            "the algorithm of $hash must be one of {}",
            HASH_ALGORITHMS.join(", ")
        )),
    }
}

/// `$parse(text)`: JSON text to a value (Step Functions' stand-in for `$eval`).
fn parse<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a Ata<'a>]) -> AtaResult<'a> {
    let text = arg(args, 0);
    if !text.is_string() {
        return error("$parse takes a string");
    }
    match serde_json::from_str::<Value>(&text.as_str()) {
        Ok(v) => Ok(to_ata(ctx.arena, &v, 0)),
        Err(e) => error(format!("$parse: not JSON: {e}")),
    }
}

/// `$random([seed])`: a number in `[0, 1)`; one seed always gives the same number.
fn random<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a Ata<'a>]) -> AtaResult<'a> {
    let bits = match arg(args, 0) {
        Ata::Undefined => next_random(),
        // Like the other functions Step Functions adds, a non-integer seed is cut toward zero
        // (`$random(42.9)` is `$random(42)`).
        Ata::Number(seed) if seed.is_finite() => mix(seed.trunc() as i64 as u64),
        _ => return error("the seed of $random must be a number"),
    };
    Ok(Ata::number(ctx.arena, to_unit(bits)))
}

/// `$uuid()`: a version 4 UUID from the caller's entropy.
fn uuid<'a>(ctx: FunctionContext<'a, '_>, _args: &[&'a Ata<'a>]) -> AtaResult<'a> {
    let entropy = super::env::Entropy::new(next_random());
    Ok(Ata::string(ctx.arena, &entropy.uuid()))
}

/// `$now()`: the caller's `now` as an ISO 8601 timestamp (picture and time zone are ignored).
fn now<'a>(ctx: FunctionContext<'a, '_>, _args: &[&'a Ata<'a>]) -> AtaResult<'a> {
    match NOW
        .with(Cell::get)
        .and_then(chrono::DateTime::from_timestamp_millis)
    {
        Some(t) => Ok(Ata::string(
            ctx.arena,
            &t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        )),
        None => error("$now() needs the current time, which the caller did not provide"),
    }
}

/// `$millis()`: the caller's `now` in Unix milliseconds.
fn millis<'a>(ctx: FunctionContext<'a, '_>, _args: &[&'a Ata<'a>]) -> AtaResult<'a> {
    match NOW.with(Cell::get) {
        Some(ms) => Ok(Ata::number(ctx.arena, ms as f64)),
        None => error("$millis() needs the current time, which the caller did not provide"),
    }
}
