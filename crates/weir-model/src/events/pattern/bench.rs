//! Rule sets and events for measuring the matcher (`weir bench events`, and the release-mode
//! test in `tests/event_patterns.rs`). Deterministic, so runs compare; no clock here — the
//! caller times.

use serde_json::{Value, json};

use super::Pattern;

/// `count` rules of mixed operators, each keyed by its index: exact values, prefixes, numeric
/// ranges, anything-but, equals-ignore-case, wildcards, cidr blocks, `$or`, `exists: false`,
/// suffixes, and nested arrays — shaped like real rules, most of them naming a `source`.
pub fn mixed_rules(count: usize) -> Vec<(usize, Pattern)> {
    (0..count)
        .filter_map(|i| Pattern::from_value(&mixed_rule(i)).ok().map(|p| (i, p)))
        .collect()
}

fn mixed_rule(i: usize) -> Value {
    let source = format!("app.{i}");
    let low = (i % 50) * 20;
    match i % 10 {
        0 => json!({"source": [source], "detail-type": ["Order Placed", "Order Updated"]}),
        1 => {
            json!({"source": [source], "detail": {"amount": [{"numeric": [">", low, "<=", low + 100]}]}})
        }
        2 => json!({"source": [{"prefix": format!("{source}.")}],
                    "detail": {"status": [{"anything-but": ["cancelled", "failed"]}]}}),
        3 => json!({"detail-type": [format!("Type {i}")],
                    "detail": {"customer": {"tier": [{"equals-ignore-case": "GOLD"}]}}}),
        4 => {
            json!({"source": [source], "detail": {"path": [{"wildcard": format!("orders/*/{}.json", i % 7)}]}})
        }
        5 => {
            json!({"source": [source], "detail": {"ip": [{"cidr": format!("10.{}.0.0/16", i % 256)}]}})
        }
        6 => json!({"source": [source], "$or": [
                    {"detail": {"priority": ["high"]}},
                    {"detail": {"amount": [{"numeric": [">=", 900]}]}}]}),
        7 => json!({"source": [source],
                    "detail": {"note": [{"exists": false}], "items": {"sku": [{"suffix": format!("-{}", i % 5)}]}}}),
        8 => json!({"resources": [{"prefix": format!("arn:aws:s3:::bucket-{i}")}],
                    "detail": {"size": [{"numeric": [">", 0]}]}}),
        _ => {
            json!({"account": [format!("{:012}", i)], "region": [{"anything-but": {"prefix": "us-gov"}}]})
        }
    }
}

/// `count` events shaped like EventBridge envelopes whose sources and fields land on the
/// rules of [`mixed_rules`]`(rules)`: some match one or a few rules, most match few.
pub fn sample_events(count: usize, rules: usize) -> Vec<Value> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: usize| {
        // xorshift: cheap, deterministic, good enough to spread events over rules.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound.max(1) as u64) as usize
    };
    (0..count)
        .map(|n| {
            let r = next(rules);
            let status = ["open", "cancelled", "shipped"][n % 3];
            let tier = ["gold", "Silver", "GOLD"][n % 3];
            let source = if n % 2 == 0 {
                format!("app.{r}")
            } else {
                format!("app.{r}.svc")
            };
            json!({
                "version": "0",
                "id": format!("6a7e8feb-b491-4cf7-a9f1-{n:012}"),
                "detail-type": if n % 3 == 0 { "Order Placed".to_string() } else { format!("Type {r}") },
                "source": source,
                "account": format!("{:012}", next(rules)),
                "time": "2026-12-06T11:00:00Z",
                "region": if n % 5 == 0 { "us-gov-west-1" } else { "eu-west-1" },
                "resources": [format!("arn:aws:s3:::bucket-{r}/key-{n}")],
                "detail": {
                    "amount": next(1200),
                    "status": status,
                    "customer": {"tier": tier, "id": n},
                    "path": format!("orders/{}/{}.json", n % 13, r % 7),
                    "ip": format!("10.{}.{}.{}", r % 256, n % 256, next(256)),
                    "priority": if n % 4 == 0 { "high" } else { "low" },
                    "size": next(10),
                    "items": [
                        {"sku": format!("sku-{}", next(5)), "qty": 1},
                        {"sku": format!("sku-{}", next(5)), "qty": 2}
                    ]
                }
            })
        })
        .collect()
}
