//! Running intrinsic functions. Bad arguments at run time (a path that yields the wrong type, an
//! index out of range, …) raise `States.IntrinsicFailure`; a path that finds nothing raises
//! `States.Runtime`, as a missing path does anywhere else.

use base64::Engine as _;
use serde_json::Value;

use super::{Arg, Call, Func, Intrinsic, Piece};
use crate::asl::env::{Env, mix};
use crate::asl::errors::{StatesError, names};
use crate::asl::path::Lookup;

/// Inputs to Base64Encode/Decode and Hash are limited to this many characters, as in AWS.
const MAX_INPUT_CHARS: usize = 10_000;
/// States.ArrayRange produces at most this many items, as in AWS.
const MAX_RANGE_ITEMS: usize = 1_000;

impl Intrinsic {
    /// Runs the call against `env` (paths in arguments read `$`, `$$` and variables from it).
    /// A path argument that finds nothing fails the way Step Functions words it, naming the
    /// whole expression: `The function 'States.Format('{}', $.nope)' had the following error:
    /// The JsonPath argument for the field '$.nope' could not be found in the input '{…}'`.
    pub fn evaluate(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        call(&self.call, env).map_err(|e| {
            if e.error == names::RUNTIME {
                StatesError::runtime(format!(
                    "The function '{}' had the following error: {}",
                    self.text, e.cause
                ))
            } else {
                e
            }
        })
    }
}

/// The error a path argument that finds nothing raises.
pub(crate) fn lookup_error(path: &str, env: &Env<'_>, lookup: Lookup) -> StatesError {
    match lookup {
        Lookup::NotFound => StatesError::runtime(format!(
            "The JsonPath argument for the field '{path}' could not be found in the input '{}'",
            env.shown_input()
        )),
        Lookup::UnknownVariable(name) => {
            StatesError::runtime(format!("The variable ${name} is not defined"))
        }
    }
}

fn arg(arg: &Arg, env: &Env<'_>) -> Result<Value, StatesError> {
    Ok(match arg {
        Arg::Str(s, _) => Value::String(s.clone()),
        Arg::Number(n) => Value::Number(n.clone()),
        Arg::Bool(b) => Value::Bool(*b),
        Arg::Null => Value::Null,
        Arg::Path(path) => path
            .evaluate(env)
            .map_err(|e| lookup_error(path.text(), env, e))?,
        Arg::Call(c) => call(c, env)?,
    })
}

fn fail<T>(func: Func, why: impl std::fmt::Display) -> Result<T, StatesError> {
    Err(StatesError::intrinsic(format!(
        "Invalid arguments in {}: {why}",
        func.name()
    )))
}

fn string(func: Func, v: &Value) -> Result<String, StatesError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => fail(func, format!("expected a string, got {other}")),
    }
}

fn int(func: Func, v: &Value) -> Result<i64, StatesError> {
    match v.as_i64() {
        Some(i) => Ok(i),
        None => match v.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => fail(func, format!("expected an integer, got {v}")),
        },
    }
}

/// A number argument AWS documents as "rounded off to the nearest integer" when it is not
/// one (MathAdd, MathRandom, ArrayRange): rounded as Java's `Math.round` does, halves up
/// (`2.5` → 3, `-2.5` → -2), which is what Step Functions answers.
fn rounded(func: Func, v: &Value) -> Result<i64, StatesError> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    match v.as_f64() {
        Some(f) if f.is_finite() && f.abs() < 9.0e15 => Ok((f + 0.5).floor() as i64),
        _ => fail(func, format!("expected an integer, got {v}")),
    }
}

fn array(func: Func, v: Value) -> Result<Vec<Value>, StatesError> {
    match v {
        Value::Array(items) => Ok(items),
        other => fail(func, format!("expected an array, got {other}")),
    }
}

fn call(c: &Call, env: &Env<'_>) -> Result<Value, StatesError> {
    let f = c.func;
    if f == Func::Format {
        return format(c, env);
    }
    let mut args = c
        .args
        .iter()
        .map(|a| arg(a, env))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter();
    let mut next = || args.next().unwrap_or(Value::Null);
    Ok(match f {
        Func::Format => Value::Null,
        Func::StringToJson => {
            let s = string(f, &next())?;
            // Jackson, which Step Functions parses with, reads an empty (or blank) text as
            // null.
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            match serde_json::from_str(&s) {
                Ok(v) => without_negative_zero(v),
                Err(e) => return fail(f, format!("not JSON: {e}")),
            }
        }
        Func::JsonToString => Value::String(next().to_string()),
        Func::Array => Value::Array(c.args.iter().map(|_| next()).collect()),
        Func::ArrayPartition => {
            let items = array(f, next())?;
            let size = int(f, &next())?;
            let Ok(size @ 1..) = usize::try_from(size) else {
                return fail(f, "the chunk size must be positive");
            };
            Value::Array(
                items
                    .chunks(size)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            )
        }
        Func::ArrayContains => {
            let items = array(f, next())?;
            let wanted = next();
            Value::Bool(items.contains(&wanted))
        }
        Func::ArrayRange => range(
            f,
            rounded(f, &next())?,
            rounded(f, &next())?,
            rounded(f, &next())?,
        )?,
        Func::ArrayGetItem => {
            let items = array(f, next())?;
            let index = int(f, &next())?;
            match usize::try_from(index).ok().and_then(|i| items.get(i)) {
                Some(v) => v.clone(),
                None => return fail(f, format!("index {index} is out of bounds")),
            }
        }
        Func::ArrayLength => Value::from(array(f, next())?.len()),
        Func::ArrayUnique => {
            let mut unique: Vec<Value> = Vec::new();
            for item in array(f, next())? {
                if !unique.contains(&item) {
                    unique.push(item);
                }
            }
            Value::Array(unique)
        }
        Func::Base64Encode => {
            let s = limited(f, string(f, &next())?)?;
            Value::String(base64::engine::general_purpose::STANDARD.encode(s))
        }
        Func::Base64Decode => {
            let s = limited(f, string(f, &next())?)?;
            let bytes = match base64::engine::general_purpose::STANDARD.decode(s.trim()) {
                Ok(b) => b,
                Err(e) => return fail(f, format!("not base64: {e}")),
            };
            match String::from_utf8(bytes) {
                Ok(s) => Value::String(s),
                Err(_) => return fail(f, "the decoded bytes are not UTF-8 text"),
            }
        }
        Func::Hash => {
            let data = limited(f, string(f, &next())?)?;
            let algorithm = string(f, &next())?;
            match hash(&data, &algorithm) {
                Some(hex) => Value::String(hex),
                None => return fail(f, format!("unknown algorithm {algorithm}")),
            }
        }
        Func::JsonMerge => {
            let (Value::Object(mut a), Value::Object(b)) = (next(), next()) else {
                return fail(f, "both values to merge must be objects");
            };
            if next() != Value::Bool(false) {
                return fail(f, "only a shallow merge (false) is supported");
            }
            for (k, v) in b {
                a.insert(k, v);
            }
            Value::Object(a)
        }
        Func::MathRandom => {
            let start = rounded(f, &next())?;
            let end = rounded(f, &next())?;
            let seed = match next() {
                Value::Null => None,
                s => Some(int(f, &s)?),
            };
            if end <= start {
                return fail(f, "the end must be greater than the start");
            }
            let span = end.abs_diff(start);
            let draw = match seed {
                Some(seed) => mix(seed as u64),
                None => env.entropy.next_u64(),
            };
            Value::from(start.wrapping_add((draw % span) as i64))
        }
        Func::MathAdd => {
            let (a, b) = (rounded(f, &next())?, rounded(f, &next())?);
            match a.checked_add(b) {
                Some(sum) => Value::from(sum),
                None => return fail(f, "the sum overflows"),
            }
        }
        Func::StringSplit => {
            let s = string(f, &next())?;
            let delimiters = string(f, &next())?;
            Value::Array(
                s.split(|c| delimiters.contains(c))
                    .filter(|part| !part.is_empty())
                    .map(|part| Value::String(part.to_string()))
                    .collect(),
            )
        }
        Func::Uuid => Value::String(env.entropy.uuid()),
    })
}

/// serde_json reads `-0` as the float -0.0; Jackson, as Step Functions does, as the integer 0.
fn without_negative_zero(value: Value) -> Value {
    match value {
        Value::Number(n) if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) => {
            Value::from(0)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(without_negative_zero).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, without_negative_zero(v)))
                .collect(),
        ),
        other => other,
    }
}

fn limited(f: Func, s: String) -> Result<String, StatesError> {
    if s.chars().count() > MAX_INPUT_CHARS {
        return fail(f, format!("the input exceeds {MAX_INPUT_CHARS} characters"));
    }
    Ok(s)
}

fn range(f: Func, start: i64, end: i64, step: i64) -> Result<Value, StatesError> {
    if step == 0 {
        return fail(f, "the step cannot be 0");
    }
    let mut items = Vec::new();
    let mut i = start;
    while (step > 0 && i <= end) || (step < 0 && i >= end) {
        if items.len() == MAX_RANGE_ITEMS {
            return fail(
                f,
                format!("the range has more than {MAX_RANGE_ITEMS} items"),
            );
        }
        items.push(Value::from(i));
        let Some(next) = i.checked_add(step) else {
            break;
        };
        i = next;
    }
    Ok(Value::Array(items))
}

/// `data` hashed with one of [`super::HASH_ALGORITHMS`], as lowercase hex.
pub(crate) fn hash(data: &str, algorithm: &str) -> Option<String> {
    use sha2::Digest;
    let bytes = data.as_bytes();
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        _ => return None,
    };
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn format(c: &Call, env: &Env<'_>) -> Result<Value, StatesError> {
    let f = Func::Format;
    let mut values = c.args.iter().skip(1);
    let pieces = match c.args.first() {
        Some(Arg::Str(_, pieces)) => pieces.clone(),
        Some(other) => template_pieces(&string(f, &arg(other, env)?)?),
        None => return fail(f, "a template is required"),
    };
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Hole => match values.next() {
                Some(a) => match arg(a, env)? {
                    Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                },
                None => return fail(f, "more placeholders than arguments"),
            },
        }
    }
    if values.next().is_some() {
        return fail(f, "more arguments than placeholders");
    }
    Ok(Value::String(out))
}

/// The pieces of a template that arrived through a path (no escapes: every `{}` is a hole).
fn template_pieces(template: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for (i, text) in template.split("{}").enumerate() {
        if i > 0 {
            pieces.push(Piece::Hole);
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text.to_string()));
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::env::Entropy;
    use serde_json::{Map, json};

    fn run(text: &str, input: Value) -> Result<Value, StatesError> {
        let context = json!({"Execution": {"Id": "arn:exec"}});
        let mut vars = Map::new();
        vars.insert("greeting".into(), json!("Hi"));
        let entropy = Entropy::new(3);
        let env = Env::new(&input, &context, &vars, &entropy);
        Intrinsic::parse(text).unwrap().evaluate(&env)
    }

    #[test]
    fn documented_examples() {
        let ok = |text: &str, input: Value, expected: Value| {
            assert_eq!(run(text, input).unwrap(), expected, "{text}");
        };
        ok(
            "States.Format('Hello, my name is {}.', $.name)",
            json!({"name": "Arnav"}),
            json!("Hello, my name is Arnav."),
        );
        ok(
            "States.Format('{} {} {} {}', 'a', 1, true, null)",
            json!({}),
            json!("a 1 true null"),
        );
        ok(
            "States.Format('\\{\\} {}', $greeting)",
            json!({}),
            json!("{} Hi"),
        );
        ok(
            "States.StringToJson($.escapedJsonString)",
            json!({"escapedJsonString": "{\"foo\": \"bar\"}"}),
            json!({"foo": "bar"}),
        );
        ok(
            "States.JsonToString($.unescapedJson)",
            json!({"unescapedJson": {"foo": "bar"}}),
            json!("{\"foo\":\"bar\"}"),
        );
        ok("States.Array($.Id)", json!({"Id": 123456}), json!([123456]));
        ok(
            "States.ArrayPartition($.inputArray, 4)",
            json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}),
            json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        );
        ok(
            "States.ArrayContains($.inputArray, $.lookingFor)",
            json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5}),
            json!(true),
        );
        ok(
            "States.ArrayRange(1, 9, 2)",
            json!({}),
            json!([1, 3, 5, 7, 9]),
        );
        ok("States.ArrayRange(5, 1, -2)", json!({}), json!([5, 3, 1]));
        ok(
            "States.ArrayGetItem($.inputArray, $.index)",
            json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5}),
            json!(6),
        );
        ok(
            "States.ArrayLength($.inputArray)",
            json!({"inputArray": [1, 2, 3]}),
            json!(3),
        );
        ok(
            "States.ArrayUnique($.inputArray)",
            json!({"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]}),
            json!([1, 2, 3, 4]),
        );
        ok(
            "States.Base64Encode($.input)",
            json!({"input": "Data to encode"}),
            json!("RGF0YSB0byBlbmNvZGU="),
        );
        ok(
            "States.Base64Decode($.base64)",
            json!({"base64": "RGF0YSB0byBlbmNvZGU="}),
            json!("Data to encode"),
        );
        ok(
            "States.Hash($.Data, $.Algorithm)",
            json!({"Data": "input data", "Algorithm": "SHA-1"}),
            json!("aaff4a450a104cd177d28d18d74485e8cae074b7"),
        );
        ok(
            "States.Hash('abc', 'MD5')",
            json!({}),
            json!("900150983cd24fb0d6963f7d28e17f72"),
        );
        ok(
            "States.Hash('abc', 'SHA-256')",
            json!({}),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        );
        ok(
            "States.JsonMerge($.json1, $.json2, false)",
            json!({"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}}),
            json!({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}),
        );
        ok(
            "States.MathAdd($.value1, $.step)",
            json!({"value1": 111, "step": -1}),
            json!(110),
        );
        ok(
            "States.StringSplit($.inputString, $.splitter)",
            json!({"inputString": "1,2,3,4,5", "splitter": ","}),
            json!(["1", "2", "3", "4", "5"]),
        );
        ok(
            "States.StringSplit('This.is+a,test=string', '.+,=')",
            json!({}),
            json!(["This", "is", "a", "test", "string"]),
        );
        ok(
            "States.ArrayGetItem(States.StringSplit(States.Format('{}/x', $$.Execution.Id), '/'), 1)",
            json!({}),
            json!("x"),
        );
    }

    #[test]
    fn randomness_comes_from_the_caller() {
        let a = run("States.MathRandom(1, 999)", json!({})).unwrap();
        assert_eq!(a, run("States.MathRandom(1, 999)", json!({})).unwrap());
        let n = a.as_i64().unwrap();
        assert!((1..999).contains(&n));
        let seeded = run("States.MathRandom(1, 10, 7)", json!({})).unwrap();
        assert_eq!(
            seeded,
            run("States.MathRandom(1, 10, 7)", json!({})).unwrap()
        );
        let uuid = run("States.UUID()", json!({})).unwrap();
        assert_eq!(uuid.as_str().map(str::len), Some(36));
    }

    /// AWS rounds non-integer arguments of MathAdd, MathRandom and ArrayRange to the nearest
    /// integer, halves up as Java does (recorded on AWS: 1.49 + 1.5 = 3, -1.49 + -1.5 = -2).
    #[test]
    fn non_integer_numbers_are_rounded_halves_up() {
        let add =
            |a: f64, b: f64| run("States.MathAdd($.a, $.b)", json!({"a": a, "b": b})).unwrap();
        assert_eq!(add(-9.0, 3.0), json!(-6));
        assert_eq!(add(1.49, 1.5), json!(3));
        assert_eq!(add(1.5, 1.51), json!(4));
        assert_eq!(add(-1.49, -1.5), json!(-2));
        assert_eq!(add(-1.5, -1.51), json!(-3));
        assert_eq!(add(0.5, 0.0), json!(1));
        assert_eq!(add(2.5, 0.0), json!(3));
        assert_eq!(add(-0.5, 0.5), json!(1));
        assert_eq!(add(-2.5, 0.0), json!(-2));
        assert_eq!(
            run(
                "States.ArrayRange($.a, $.b, $.c)",
                json!({"a": 0.5, "b": 3.4, "c": 1.5})
            )
            .unwrap(),
            json!([1, 3])
        );
        let n = run("States.MathRandom($.a, $.b)", json!({"a": 12.5, "b": 14.4})).unwrap();
        assert_eq!(n, json!(13));
    }

    /// Jackson reads an empty or blank text as null; `-0` is the integer 0 (recorded on AWS).
    #[test]
    fn string_to_json_reads_as_step_functions_does() {
        let parse = |s: &str| run("States.StringToJson($.s)", json!({ "s": s })).unwrap();
        assert_eq!(parse(""), Value::Null);
        assert_eq!(parse(" "), Value::Null);
        assert_eq!(parse("null"), Value::Null);
        assert_eq!(parse("-0"), json!(0));
        assert_eq!(parse("1.1"), json!(1.1));
        assert_eq!(parse("\"HelloWorld\""), json!("HelloWorld"));
        assert_eq!(
            parse("{\"Arg1\": 1, \"Arg2\": []}"),
            json!({"Arg1": 1, "Arg2": []})
        );
    }

    /// A path argument that finds nothing names the whole expression and the input (AWS's
    /// words, recorded in us-east-1).
    #[test]
    fn a_missing_argument_names_the_whole_call() {
        let err = run(
            "States.Format('{}', States.Format('{}', $.nope))",
            json!({"other": 1}),
        )
        .unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(
            err.cause,
            "The function 'States.Format('{}', States.Format('{}', $.nope))' had the following error: The JsonPath argument for the field '$.nope' could not be found in the input '{\"other\":1}'"
        );
    }

    #[test]
    fn failures_carry_step_functions_names() {
        let err = |text: &str, input: Value| run(text, input).unwrap_err().error;
        assert_eq!(
            err("States.ArrayLength($.x)", json!({"x": 1})),
            "States.IntrinsicFailure"
        );
        assert_eq!(
            err("States.ArrayLength($.nope)", json!({})),
            "States.Runtime"
        );
        assert_eq!(
            err("States.ArrayGetItem($.a, 5)", json!({"a": [1]})),
            "States.IntrinsicFailure"
        );
        assert_eq!(
            err("States.StringToJson('{')", json!({})),
            "States.IntrinsicFailure"
        );
        assert_eq!(
            err("States.ArrayRange(1, 5000, 1)", json!({})),
            "States.IntrinsicFailure"
        );
        assert_eq!(
            err("States.MathRandom(5, 5)", json!({})),
            "States.IntrinsicFailure"
        );
        assert_eq!(
            err("States.Base64Decode('!!')", json!({})),
            "States.IntrinsicFailure"
        );
        assert_eq!(
            err("States.Format($.t, 1)", json!({"t": "{} {}"})),
            "States.IntrinsicFailure"
        );
    }
}
