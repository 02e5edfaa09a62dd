//! One state: its type, the fields each type allows (and which query language allows them), the
//! input/output fields every state shares, and the simple state types. Choice, Map and
//! Retry/Catch have their own modules.

use chrono::DateTime;

use super::{Ctx, Obj, branch, choice, map, retry};
use crate::asl::model::{
    Dynamic, Fail, Parallel, Pass, QueryLanguage, State, StateKind, Transition, Wait,
};
use crate::asl::path::Path;
use crate::asl::payload::{self, Template};
use crate::asl::tree::{Node, Value as Tree, index};
use crate::problem::did_you_mean;

const TYPES: &[&str] = &[
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

/// Fields each state type allows, besides `Type`, `Comment` and `QueryLanguage`.
fn fields(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "Pass" => &[
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "Result",
            "Next",
            "End",
            "Assign",
            "Output",
        ],
        "Task" => &[
            "Resource",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
            "Next",
            "End",
            "Assign",
            "Arguments",
            "Output",
        ],
        "Choice" => &[
            "Choices",
            "Default",
            "InputPath",
            "OutputPath",
            "Assign",
            "Output",
        ],
        "Wait" => &[
            "Seconds",
            "SecondsPath",
            "Timestamp",
            "TimestampPath",
            "InputPath",
            "OutputPath",
            "Next",
            "End",
            "Assign",
            "Output",
        ],
        "Succeed" => &["InputPath", "OutputPath", "Output"],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &[
            "Branches",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "Next",
            "End",
            "Assign",
            "Arguments",
            "Output",
        ],
        "Map" => map::FIELDS,
        _ => &[],
    }
}

/// Fields only JSONPath states have (JSONata states use Arguments, Output and `{% %}` values).
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Result",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "ItemsPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
    "Iterator",
];
/// Fields only JSONata states have.
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];

pub(super) fn state(
    ctx: &mut Ctx<'_>,
    name: &str,
    node: &Node,
    path: &str,
    machine_language: QueryLanguage,
) -> Option<State> {
    let obj = Obj::of(ctx, node, path, "a state")?;
    let type_member = obj.require(ctx, "Type", "a state")?;
    let type_name = obj.string(ctx, "Type")?;
    if !TYPES.contains(&type_name) {
        let hint = did_you_mean(type_name, TYPES.iter().copied());
        ctx.report(
            type_member.value.pos,
            &obj.path_of("Type"),
            format!(
                "\"{type_name}\" is not a state type (one of {}){hint}",
                TYPES.join(", ")
            ),
        );
        return None;
    }
    let own = obj.query_language(ctx);
    if machine_language == QueryLanguage::Jsonata
        && own == Some(QueryLanguage::JsonPath)
        && ctx.distributed == 0
    {
        report_field(
            ctx,
            &obj,
            "QueryLanguage",
            "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata",
        );
    }
    let language = own.unwrap_or(machine_language);
    let mut allowed = vec!["Type", "Comment", "QueryLanguage"];
    allowed.extend_from_slice(fields(type_name));
    obj.only(ctx, &allowed, &format!("a {type_name} state"));
    check_language(ctx, &obj, language);

    let jsonpath = language == QueryLanguage::JsonPath;
    let mut st = State {
        name: name.to_string(),
        comment: obj.string(ctx, "Comment").map(str::to_string),
        query_language: language,
        kind: StateKind::Succeed,
        input_path: io_path(ctx, &obj, "InputPath", false),
        parameters: None,
        result_selector: None,
        result_path: io_path(ctx, &obj, "ResultPath", true),
        output_path: io_path(ctx, &obj, "OutputPath", false),
        output: template(ctx, &obj, "Output", language),
        assign: None,
        transition: Transition::None,
        retry: Vec::new(),
        catch: Vec::new(),
    };
    // A Map's `Parameters` is its item selector (the older name for ItemSelector).
    st.parameters = if type_name == "Map" {
        None
    } else if jsonpath {
        template(ctx, &obj, "Parameters", language)
    } else {
        template(ctx, &obj, "Arguments", language)
    };
    // Both must be objects (their values hold the paths and expressions).
    for key in ["ResultSelector", "Assign"] {
        if let Some(m) = obj.get(key)
            && Obj::of(ctx, &m.value, &obj.path_of(key), &format!("\"{key}\"")).is_some()
        {
            let t = template(ctx, &obj, key, language);
            match key {
                "Assign" => st.assign = t,
                _ => st.result_selector = t,
            }
        }
    }
    if !matches!(type_name, "Choice" | "Succeed" | "Fail") {
        st.transition = transition(ctx, &obj);
    }
    if matches!(type_name, "Task" | "Parallel" | "Map") {
        st.retry = retry::retriers(ctx, &obj);
        st.catch = retry::catchers(ctx, &obj, language);
    }
    st.kind = match type_name {
        "Pass" => StateKind::Pass(Pass {
            result: obj.get("Result").map(|m| m.value.to_json()),
        }),
        "Task" => StateKind::Task(super::task::task(ctx, &obj, language)?),
        "Choice" => StateKind::Choice(choice::choice(ctx, &obj, language)?),
        "Wait" => StateKind::Wait(wait(ctx, &obj, language)?),
        "Fail" => StateKind::Fail(fail(ctx, &obj, language)),
        "Parallel" => StateKind::Parallel(parallel(ctx, &obj, language)?),
        "Map" => StateKind::Map(Box::new(map::map(ctx, &obj, language)?)),
        _ => StateKind::Succeed,
    };
    Some(st)
}

pub(super) fn report_field(ctx: &mut Ctx<'_>, obj: &Obj<'_>, key: &str, message: &str) {
    if let Some(m) = obj.get(key) {
        ctx.report(m.key_pos, &obj.path_of(key), message);
    }
}

fn check_language(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) {
    let (forbidden, name, instead) = match language {
        QueryLanguage::Jsonata => (
            JSONPATH_ONLY,
            "JSONata",
            "use Arguments, Output, Assign and {% %} expressions",
        ),
        QueryLanguage::JsonPath => (
            JSONATA_ONLY,
            "JSONPath",
            "set \"QueryLanguage\": \"JSONata\" to use it",
        ),
    };
    for m in obj.members {
        if forbidden.contains(&m.key.as_str()) {
            ctx.report(
                m.key_pos,
                &obj.path_of(&m.key),
                format!(
                    "field \"{}\" is not allowed in a {name} state ({instead})",
                    m.key
                ),
            );
        }
    }
}

/// A JSONPath payload template or a JSONata value, by the state's language.
pub(super) fn template(
    ctx: &mut Ctx<'_>,
    obj: &Obj<'_>,
    key: &str,
    language: QueryLanguage,
) -> Option<Template> {
    let m = obj.get(key)?;
    let path = obj.path_of(key);
    match language {
        QueryLanguage::JsonPath => payload::jsonpath(ctx, &m.value, &path),
        QueryLanguage::Jsonata => payload::jsonata(ctx, &m.value, &path),
    }
}

/// `InputPath`, `OutputPath` (any path but an intrinsic) or `ResultPath` (a reference path into
/// the input); `null` gives `None`, absence `$`.
pub(super) fn io_path(
    ctx: &mut Ctx<'_>,
    obj: &Obj<'_>,
    key: &str,
    reference: bool,
) -> Option<Path> {
    let dollar = Path::parse("$").ok();
    let Some(m) = obj.get(key) else {
        return dollar;
    };
    if m.value.is_null() {
        return None;
    }
    let path = obj.path_of(key);
    let Some(text) = m.value.as_str() else {
        ctx.report(
            m.value.pos,
            &path,
            format!(
                "\"{key}\" must be a path or null, not {}",
                m.value.describe()
            ),
        );
        return dollar;
    };
    match Path::parse(text) {
        Ok(p) if reference && !p.is_reference() => {
            ctx.report(
                m.value.pos,
                &path,
                format!("\"{key}\" must be a reference path into the input (like $.result), not \"{text}\""),
            );
            dollar
        }
        Ok(p) => Some(p),
        Err(e) => {
            ctx.report(
                m.value.pos,
                &path,
                format!("\"{key}\" is not a valid JSONPath: \"{text}\": {e}"),
            );
            dollar
        }
    }
}

/// A path field that must be a reference path (`TimeoutSecondsPath`, `SecondsPath`, …).
pub(super) fn reference_path(ctx: &mut Ctx<'_>, obj: &Obj<'_>, key: &str) -> Option<Path> {
    let m = obj.get(key)?;
    let path = obj.path_of(key);
    let Some(text) = m.value.as_str() else {
        ctx.report(
            m.value.pos,
            &path,
            format!("\"{key}\" must be a path, not {}", m.value.describe()),
        );
        return None;
    };
    match Path::parse(text) {
        Ok(p) if p.is_definite() => Some(p),
        Ok(_) => {
            ctx.report(
                m.value.pos,
                &path,
                format!("\"{key}\" must name one value: \"{text}\""),
            );
            None
        }
        Err(e) => {
            ctx.report(
                m.value.pos,
                &path,
                format!("\"{key}\" is not a valid JSONPath: \"{text}\": {e}"),
            );
            None
        }
    }
}

/// A whole-number field that may instead come from a path (`…Path`, JSONPath) or be a `{% %}`
/// expression (JSONata).
pub(super) fn dynamic_uint(
    ctx: &mut Ctx<'_>,
    obj: &Obj<'_>,
    key: &str,
    path_key: &str,
    (min, max): (u64, u64),
    language: QueryLanguage,
) -> Option<Dynamic<u64>> {
    obj.at_most_one(ctx, &[key, path_key]);
    if let Some(m) = obj.get(key) {
        let path = obj.path_of(key);
        if language == QueryLanguage::JsonPath {
            return obj.uint(ctx, key, min, max).map(Dynamic::Fixed);
        }
        return match payload::jsonata_expr(ctx, &m.value, &path) {
            Ok(Some(t)) => Some(Dynamic::Computed(t)),
            Ok(None) => obj.uint(ctx, key, min, max).map(Dynamic::Fixed),
            Err(()) => None,
        };
    }
    reference_path(ctx, obj, path_key).map(|p| Dynamic::Computed(Template::Path(p)))
}

fn transition(ctx: &mut Ctx<'_>, obj: &Obj<'_>) -> Transition {
    let next = obj.string(ctx, "Next");
    let end = obj.boolean(ctx, "End");
    match (next, end) {
        (Some(next), None) => Transition::Next(next.to_string()),
        (None, Some(true)) => Transition::End,
        (Some(next), Some(_)) => {
            report_field(
                ctx,
                obj,
                "End",
                "a state may have only one of [\"Next\", \"End\"]",
            );
            Transition::Next(next.to_string())
        }
        (None, Some(false)) => {
            report_field(
                ctx,
                obj,
                "End",
                "\"End\" must be true, or replaced by \"Next\"",
            );
            Transition::End
        }
        (None, None) => {
            if !obj.has("Next") && !obj.has("End") {
                ctx.report(
                    obj.node.pos,
                    obj.path,
                    "a state needs \"Next\" or \"End\": true",
                );
            }
            Transition::End
        }
    }
}

fn wait(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) -> Option<Wait> {
    let keys = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"];
    let present: Vec<&str> = keys.iter().copied().filter(|k| obj.has(k)).collect();
    if present.len() != 1 {
        let message = "a Wait state must have exactly one of [\"Seconds\", \"SecondsPath\", \"Timestamp\", \"TimestampPath\"]";
        match present.get(1) {
            Some(k) => report_field(ctx, obj, k, message),
            None => ctx.report(obj.node.pos, obj.path, message),
        }
        return None;
    }
    match present[0] {
        "Seconds" | "SecondsPath" => dynamic_uint(
            ctx,
            obj,
            "Seconds",
            "SecondsPath",
            (0, 99_999_999),
            language,
        )
        .map(Wait::Seconds),
        "TimestampPath" => reference_path(ctx, obj, "TimestampPath")
            .map(|p| Wait::Timestamp(Dynamic::Computed(Template::Path(p)))),
        _ => {
            let m = obj.get("Timestamp")?;
            let path = obj.path_of("Timestamp");
            if language == QueryLanguage::Jsonata
                && let Ok(Some(t)) = payload::jsonata_expr(ctx, &m.value, &path)
            {
                return Some(Wait::Timestamp(Dynamic::Computed(t)));
            }
            let text = obj.string(ctx, "Timestamp")?;
            if !is_timestamp(text) {
                ctx.report(m.value.pos, &path, format!("\"Timestamp\" must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z, not \"{text}\""));
                return None;
            }
            Some(Wait::Timestamp(Dynamic::Fixed(text.to_string())))
        }
    }
}

/// RFC 3339 with an uppercase `T` (and `Z` when there is no numeric offset), as the spec says.
pub(crate) fn is_timestamp(text: &str) -> bool {
    text.get(10..11) == Some("T")
        && !text.ends_with('z')
        && DateTime::parse_from_rfc3339(text).is_ok()
}

fn fail(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) -> Fail {
    let mut read = |key: &str, path_key: &str| -> Option<Dynamic<String>> {
        obj.at_most_one(ctx, &[key, path_key]);
        if let Some(m) = obj.get(key) {
            let path = obj.path_of(key);
            if language == QueryLanguage::Jsonata
                && let Ok(Some(t)) = payload::jsonata_expr(ctx, &m.value, &path)
            {
                return Some(Dynamic::Computed(t));
            }
            return obj.string(ctx, key).map(|s| Dynamic::Fixed(s.to_string()));
        }
        let m = obj.get(path_key)?;
        let what = format!("\"{path_key}\"");
        payload::path_or_intrinsic(ctx, &m.value, &obj.path_of(path_key), &what)
            .map(Dynamic::Computed)
    };
    let error = read("Error", "ErrorPath");
    let cause = read("Cause", "CausePath");
    Fail { error, cause }
}

fn parallel(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) -> Option<Parallel> {
    let m = obj.require(ctx, "Branches", "a Parallel state")?;
    let path = obj.path_of("Branches");
    let Tree::Array(items) = &m.value.value else {
        ctx.report(
            m.value.pos,
            &path,
            format!("\"Branches\" must be an array, not {}", m.value.describe()),
        );
        return None;
    };
    if items.is_empty() {
        ctx.report(m.value.pos, &path, "\"Branches\" must not be empty");
    }
    let branches: Vec<_> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| branch(ctx, item, &index(&path, i), language, "a branch", &[]))
        .collect();
    (branches.len() == items.len()).then_some(Parallel { branches })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert!(is_timestamp("2016-03-14T01:59:00Z"));
        assert!(is_timestamp("2016-03-14T01:59:00.123+02:00"));
        assert!(!is_timestamp("2016-03-14t01:59:00Z"));
        assert!(!is_timestamp("2016-03-14 01:59:00Z"));
        assert!(!is_timestamp("yesterday"));
    }
}
