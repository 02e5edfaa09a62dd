//! Dynamic partitioning's metadata extraction: Firehose runs a JQ query such as
//! `{customer_id: .customer_id, device: .type.device}` over each JSON record and partitions by
//! the values. weir reads the simple paths such queries are made of (`.field`, `.a.b`,
//! `."a key"`, `.["a key"]`), which covers partitioning by record fields without a JQ engine.

use serde_json::Value;

/// A path into a JSON record: the object members to follow, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub text: String,
    pub members: Vec<String>,
}

/// Parses `.a.b`, `."a b"`, `.["a b"]`.
pub fn parse_path(text: &str) -> Result<FieldPath, String> {
    let source = text.trim();
    let bad = |why: &str| {
        Err(format!(
            "invalid query `{source}`: {why} (weir reads paths such as `.customer_id` or `.device.type`)"
        ))
    };
    if !source.starts_with('.') {
        return bad("a path starts with `.`");
    }
    let chars: Vec<char> = source.chars().collect();
    let mut members = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '.' {
            return bad(&format!("unexpected `{}`", chars[i]));
        }
        i += 1;
        let bracket = chars.get(i) == Some(&'[');
        if bracket {
            i += 1;
        }
        if chars.get(i) == Some(&'"') {
            let mut name = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return bad("unterminated string"),
                    Some('"') => break,
                    Some('\\') => {
                        let Some(&next) = chars.get(i + 1) else {
                            return bad("unterminated string");
                        };
                        name.push(next);
                        i += 2;
                    }
                    Some(&c) => {
                        name.push(c);
                        i += 1;
                    }
                }
            }
            i += 1;
            members.push(name);
        } else if !bracket {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            if start == i || chars[start].is_ascii_digit() {
                if start == i && i == chars.len() && members.is_empty() {
                    return bad("`.` alone is the whole record, not a field of it");
                }
                return bad("expected a field name after `.`");
            }
            members.push(chars[start..i].iter().collect());
        } else {
            return bad("expected a quoted name inside `[ ]`");
        }
        if bracket {
            if chars.get(i) != Some(&']') {
                return bad("expected `]`");
            }
            i += 1;
        }
    }
    Ok(FieldPath {
        text: source.to_string(),
        members,
    })
}

/// Parses a metadata extraction query, `{name: .path, other: .a.b}`, into named paths in their
/// order. Names are JQ's object keys: bare words or quoted strings.
pub fn parse_query(text: &str) -> Result<Vec<(String, FieldPath)>, String> {
    let source = text.trim();
    let Some(body) = source
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
    else {
        return Err(format!(
            "invalid query `{source}`: expected an object such as {{customer_id: .customer_id}}"
        ));
    };
    let mut keys: Vec<(String, FieldPath)> = Vec::new();
    for entry in split_top_level(body) {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let Some((name, path)) = entry.split_once(':') else {
            return Err(format!(
                "invalid query `{source}`: `{entry}` must be `name: .path`"
            ));
        };
        let name = name.trim().trim_matches('"').to_string();
        if !is_key_name(&name) {
            return Err(format!(
                "invalid query `{source}`: partition key name `{name}` must be letters, digits and `_`"
            ));
        }
        if keys.iter().any(|(k, _)| *k == name) {
            return Err(format!(
                "invalid query `{source}`: partition key `{name}` is given twice"
            ));
        }
        keys.push((name, parse_path(path)?));
    }
    if keys.is_empty() {
        return Err(format!(
            "invalid query `{source}`: it names no partition key"
        ));
    }
    Ok(keys)
}

/// Splits at commas outside quoted strings.
fn split_top_level(body: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
}

/// `[A-Za-z0-9_]+`: names that can appear in `!{partitionKeyFromQuery:NAME}`.
pub fn is_key_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl FieldPath {
    /// The value at this path as partition text: strings as they are, numbers and booleans as
    /// JSON writes them. Missing members, nulls, objects and lists are errors, as they are for
    /// Firehose (a partition key must be a scalar).
    pub fn extract(&self, record: &Value) -> Result<String, String> {
        let mut value = record;
        for member in &self.members {
            value = match value.get(member.as_str()) {
                Some(v) => v,
                None => return Err(format!("`{}` is not in the record", self.text)),
            };
        }
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Null => Err(format!("`{}` is null", self.text)),
            Value::Array(_) | Value::Object(_) => Err(format!(
                "`{}` is not a string, number or boolean",
                self.text
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn paths_reach_fields() {
        let record = json!({"customer": {"id": 7, "tier": "gold"}, "a b": true, "n": null});
        let get = |p: &str| parse_path(p).unwrap().extract(&record);
        assert_eq!(get(".customer.id").unwrap(), "7");
        assert_eq!(get(".customer.tier").unwrap(), "gold");
        assert_eq!(get(".\"a b\"").unwrap(), "true");
        assert_eq!(get(".[\"a b\"]").unwrap(), "true");
        assert!(get(".n").unwrap_err().contains("null"));
        assert!(get(".customer").unwrap_err().contains("not a string"));
        assert!(get(".missing").unwrap_err().contains("not in the record"));
        for bad in [
            "", "customer", ".", ".a..b", ".1a", ".[a]", ".\"open", ".a b",
        ] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn queries_name_paths() {
        let keys = parse_query("{customer_id: .customer.id, \"device\":.type.device}").unwrap();
        assert_eq!(keys[0].0, "customer_id");
        assert_eq!(keys[0].1.members, ["customer", "id"]);
        assert_eq!(keys[1].0, "device");
        assert!(parse_query(".a").is_err());
        assert!(parse_query("{}").is_err());
        assert!(parse_query("{a: .x, a: .y}").unwrap_err().contains("twice"));
        assert!(parse_query("{a-b: .x}").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,30}") {
            let _ = parse_path(&text);
            let _ = parse_query(&text);
        }

        #[test]
        fn simple_paths_round_trip(members in proptest::collection::vec("[a-z_][a-z0-9_]{0,6}", 1..4)) {
            let text = format!(".{}", members.join("."));
            let path = parse_path(&text).unwrap();
            prop_assert_eq!(&path.members, &members);
            let mut record = json!("leaf");
            for m in members.iter().rev() {
                record = json!({ m.as_str(): record });
            }
            prop_assert_eq!(path.extract(&record).unwrap(), "leaf");
        }
    }
}
