//! Task states: the resource (a URI, with Lambda function ARNs checked; or a placeholder that a
//! template engine fills in), timeouts and heartbeats, credentials.

use super::state::{dynamic_uint, report_field, template};
use super::{Ctx, Obj};
use crate::asl::model::{Dynamic, QueryLanguage, Resource, Task};
use crate::asl::tree::{Member, Value as Tree};

pub(super) fn task(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) -> Option<Task> {
    let m = obj.require(ctx, "Resource", "a Task state")?;
    let resource = resource(ctx, m, &obj.path_of("Resource"))?;
    let timeout_seconds = dynamic_uint(
        ctx,
        obj,
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        (1, 99_999_999),
        language,
    );
    let heartbeat_seconds = dynamic_uint(
        ctx,
        obj,
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        (1, 99_999_999),
        language,
    );
    if let (Some(Dynamic::Fixed(t)), Some(Dynamic::Fixed(h))) =
        (&timeout_seconds, &heartbeat_seconds)
        && h >= t
    {
        report_field(
            ctx,
            obj,
            "HeartbeatSeconds",
            "\"HeartbeatSeconds\" must be smaller than \"TimeoutSeconds\"",
        );
    }
    let credentials = match obj.get("Credentials") {
        Some(c) => {
            Obj::of(
                ctx,
                &c.value,
                &obj.path_of("Credentials"),
                "\"Credentials\"",
            )?;
            template(ctx, obj, "Credentials", language)
        }
        None => None,
    };
    Some(Task {
        resource,
        timeout_seconds,
        heartbeat_seconds,
        credentials,
    })
}

/// A Task's `Resource`: a URI; or something a template engine fills in (`${Name}`, `{"Ref":…}`).
fn resource(ctx: &mut Ctx<'_>, m: &Member, path: &str) -> Option<Resource> {
    let text = match &m.value.value {
        Tree::String(s) => s,
        Tree::Object(_) => return Some(Resource::Unresolved(m.value.to_json())),
        _ => {
            ctx.report(
                m.value.pos,
                path,
                format!("\"Resource\" must be a URI, not {}", m.value.describe()),
            );
            return None;
        }
    };
    if text.contains("${") {
        if placeholders_balanced(text) {
            return Some(Resource::Unresolved(serde_json::Value::String(
                text.clone(),
            )));
        }
        ctx.report(
            m.value.pos,
            path,
            format!("\"Resource\" has an unclosed ${{…}} placeholder: \"{text}\""),
        );
        return None;
    }
    let scheme_len = text
        .find(':')
        .filter(|&i| {
            i > 0
                && text[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
        })
        .filter(|_| text.starts_with(|c: char| c.is_ascii_alphabetic()));
    if scheme_len.is_none() || text.len() == scheme_len.unwrap_or(0) + 1 {
        ctx.report(
            m.value.pos,
            path,
            format!("\"Resource\" must be a URI such as an ARN, not \"{text}\""),
        );
        return None;
    }
    if let Some(problem) = lambda_arn_problem(text) {
        ctx.report(m.value.pos, path, problem);
        return None;
    }
    Some(Resource::Uri(text.clone()))
}

fn placeholders_balanced(text: &str) -> bool {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        match rest[start..].find('}') {
            Some(end) if end > 2 => rest = &rest[start + end + 1..],
            _ => return false,
        }
    }
    true
}

/// A Lambda function ARN's function name and qualifier (`:$LATEST`, an alias or a version).
fn lambda_arn_problem(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 7 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" {
        return None;
    }
    let ok = |s: &str, max: usize| {
        !s.is_empty()
            && s.len() <= max
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let name_ok = ok(parts[6], 140);
    let qualifier_ok = match parts.get(7) {
        None => true,
        Some(q) => *q == "$LATEST" || ok(q, 128),
    };
    if name_ok && qualifier_ok && parts.len() <= 8 {
        None
    } else {
        Some(format!(
            "\"{arn}\" is not a valid Lambda function ARN (function name, then an optional version or alias)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_arns() {
        assert!(lambda_arn_problem("arn:aws:lambda:us-east-1:1:function:f").is_none());
        assert!(lambda_arn_problem("arn:aws:lambda:us-east-1:1:function:f:$LATEST").is_none());
        assert!(lambda_arn_problem("arn:aws:lambda:us-east-1:1:function:f:AZaz12-_").is_none());
        assert!(lambda_arn_problem("arn:aws:lambda:r:1:function:f:").is_some());
        assert!(lambda_arn_problem("arn:aws:lambda:r:1:function:f:$*#$7485").is_some());
        assert!(lambda_arn_problem("arn:aws:states:::lambda:invoke").is_none());
    }
}
