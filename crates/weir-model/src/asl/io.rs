//! Input and output processing of JSONPath states, in the spec's order:
//!
//! ```text
//! raw input ─InputPath─► effective input ─Parameters─► task input ─(task runs)─► result
//! result ─ResultSelector─► selected result ─ResultPath (into raw input)─► ─OutputPath─► output
//! ```
//!
//! JSONata states replace all five with `Arguments` (the task input, a [`Template`]) and
//! `Output` (evaluated with `$states.input` = raw input and `$states.result` = result);
//! [`jsonata_output`] covers the latter. `Assign` is evaluated by [`assign`].

use serde_json::{Map, Value};

use super::env::Env;
use super::errors::{StatesError, names};
use super::path::{Lookup, Path};
use super::payload::Template;

/// `InputPath`: selects the effective input from `env.input` (the raw input). `None` (written
/// as `null`) gives `{}`.
pub fn apply_input_path(input_path: Option<&Path>, env: &Env<'_>) -> Result<Value, StatesError> {
    select(input_path, env)
}

/// `ItemsPath`: selects a Map state's items from its effective input. A member that is not
/// there fails as executions on AWS do, with `States.ReferencePathConflict` and `Unable to
/// apply step "items" to input {…}`; other misses as InputPath does.
pub fn apply_items_path(items_path: &Path, env: &Env<'_>) -> Result<Value, StatesError> {
    let found = items_path.evaluate(env);
    if let Err(Lookup::NotFound) = found
        && let Some(member) = items_path.missing_member(env)
    {
        return Err(StatesError::new(
            names::REFERENCE_PATH_CONFLICT,
            super::path::unable(&member, &env.input.to_string()),
        ));
    }
    match found {
        Ok(items) => Ok(items),
        Err(_) => select(Some(items_path), env),
    }
}

/// `Parameters`: builds the task's input from the template, `env.input` being the effective
/// input; without a template the effective input passes through.
pub fn apply_parameters(
    parameters: Option<&Template>,
    env: &Env<'_>,
) -> Result<Value, StatesError> {
    match parameters {
        Some(t) => t.evaluate(env),
        None => Ok(env.input.clone()),
    }
}

/// `ResultSelector`: builds the state's result from the task's `result` (read as `$`).
pub fn apply_result_selector(
    selector: Option<&Template>,
    result: &Value,
    env: &Env<'_>,
) -> Result<Value, StatesError> {
    match selector {
        Some(t) => t.evaluate(&env.with_input(result)),
        None => Ok(result.clone()),
    }
}

/// `ResultPath`: writes `result` into the raw input. `None` (written as `null`) discards the
/// result and keeps the raw input. A path through something that is not an object fails with
/// `States.ReferencePathConflict` (`Unable to apply step "b" to input {"a":1}`), as executions
/// on AWS do.
pub fn apply_result_path(
    result_path: Option<&Path>,
    raw_input: &Value,
    result: Value,
) -> Result<Value, StatesError> {
    match result_path {
        None => Ok(raw_input.clone()),
        Some(p) => p
            .write(raw_input.clone(), result)
            .map_err(|e| StatesError::new(names::REFERENCE_PATH_CONFLICT, e.0)),
    }
}

/// `OutputPath`: selects the state's output from `value`. `None` (written as `null`) gives `{}`.
pub fn apply_output_path(
    output_path: Option<&Path>,
    value: &Value,
    env: &Env<'_>,
) -> Result<Value, StatesError> {
    select(output_path, &env.with_input(value))
}

/// InputPath and OutputPath: a path that finds nothing fails with Step Functions' words,
/// `Invalid path '$.foo' : No results for path: $['foo']` (the second half is Jayway's).
fn select(path: Option<&Path>, env: &Env<'_>) -> Result<Value, StatesError> {
    let Some(path) = path else {
        return Ok(Value::Object(Map::new()));
    };
    path.evaluate(env).map_err(|e| match e {
        Lookup::NotFound => {
            StatesError::runtime(format!("Invalid path '{path}' : {}", path.not_found(env)))
        }
        Lookup::UnknownVariable(name) => StatesError::runtime(format!(
            "Invalid path '{path}' : The variable ${name} is not defined"
        )),
    })
}

/// The output of a JSONata state: `Output` evaluated with `env.input` = raw input and
/// `env.result` = the result, or by default the result itself (the raw input when there is
/// none, as for Wait and Choice). `field` names where `Output` was written in errors
/// (`Output`, or `Choices[1]/Output` for a Choice rule's own).
pub fn jsonata_output(
    output: Option<&Template>,
    env: &Env<'_>,
    field: &str,
) -> Result<Value, StatesError> {
    match output {
        Some(t) => t.evaluate_field(env, field),
        None => Ok(env.result.unwrap_or(env.input).clone()),
    }
}

/// `Assign`: the variables to set, every expression evaluated against the variables as they
/// were before the state (the spec: assignments do not see each other). Which value `$` /
/// `$states.result` is bound to is the caller's choice (the guide: the state's result where it
/// has one, after ResultSelector; else its input). `field` names where it was written in
/// errors (`Assign`, `Choices[0]/Assign`, `Catch[1]/Assign`).
pub fn assign(
    template: &Template,
    env: &Env<'_>,
    field: &str,
) -> Result<Map<String, Value>, StatesError> {
    match template.evaluate_field(env, field)? {
        Value::Object(map) => Ok(map),
        other => Err(StatesError::runtime(format!(
            "Assign must produce an object, not {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::env::Entropy;
    use crate::asl::read::Ctx;
    use crate::asl::tree::Node;
    use serde_json::json;

    fn template(json: &Value) -> Template {
        let node = node(json);
        let mut ctx = Ctx {
            file: "t",
            problems: Vec::new(),
            unread: Vec::new(),
            distributed: 0,
        };
        let t = crate::asl::payload::jsonpath(&mut ctx, &node, "$");
        assert!(ctx.problems.is_empty(), "{:?}", ctx.problems);
        t.unwrap()
    }

    fn node(json: &Value) -> Node {
        let (root, problems) = crate::asl::json::read(&json.to_string());
        assert!(problems.is_empty());
        root.unwrap()
    }

    fn p(text: &str) -> Path {
        Path::parse(text).unwrap()
    }

    /// The spec's worked example (Input and Output Processing): InputPath, Parameters,
    /// ResultPath and OutputPath on one Task.
    #[test]
    fn spec_example() {
        let raw = json!({
            "title": "Numbers to add",
            "numbers": { "val1": 3, "val2": 4 }
        });
        let context = json!({"Execution": {"Id": "arn:exec:1"}});
        let vars = Map::new();
        let entropy = Entropy::new(1);
        let env = Env::new(&raw, &context, &vars, &entropy);
        let effective = apply_input_path(Some(&p("$.numbers")), &env).unwrap();
        assert_eq!(effective, json!({"val1": 3, "val2": 4}));
        let params = template(&json!({
            "first.$": "$.val1",
            "second.$": "$.val2",
            "exec.$": "$$.Execution.Id",
            "sum.$": "States.MathAdd($.val1, $.val2)",
            "static": {"keep": "as is"}
        }));
        let task_input = apply_parameters(Some(&params), &env.with_input(&effective)).unwrap();
        assert_eq!(
            task_input,
            json!({"first": 3, "second": 4, "exec": "arn:exec:1", "sum": 7, "static": {"keep": "as is"}})
        );
        let result = json!(7);
        let selected = apply_result_selector(None, &result, &env).unwrap();
        let with_result = apply_result_path(Some(&p("$.sum")), &raw, selected).unwrap();
        assert_eq!(
            with_result,
            json!({"title": "Numbers to add", "numbers": {"val1": 3, "val2": 4}, "sum": 7})
        );
        let output = apply_output_path(Some(&p("$.sum")), &with_result, &env).unwrap();
        assert_eq!(output, json!(7));
    }

    #[test]
    fn nulls_and_defaults() {
        let raw = json!({"a": 1});
        let context = json!({});
        let vars = Map::new();
        let entropy = Entropy::new(1);
        let env = Env::new(&raw, &context, &vars, &entropy);
        assert_eq!(apply_input_path(None, &env).unwrap(), json!({}));
        assert_eq!(apply_output_path(None, &raw, &env).unwrap(), json!({}));
        assert_eq!(apply_parameters(None, &env).unwrap(), raw);
        assert_eq!(apply_result_path(None, &raw, json!(5)).unwrap(), raw);
        assert_eq!(
            apply_result_path(Some(&p("$")), &raw, json!(5)).unwrap(),
            json!(5)
        );
        let err = apply_items_path(&p("$.a.items"), &env).unwrap_err();
        assert_eq!(err.error, "States.ReferencePathConflict");
        assert_eq!(
            err.cause,
            r#"Unable to apply step "items" to input {"a":1}"#
        );
        let err = apply_items_path(&p("$.list"), &env).unwrap_err();
        assert_eq!(err.cause, r#"Unable to apply step "list" to input {"a":1}"#);
        let err = apply_input_path(Some(&p("$.missing")), &env).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(
            err.cause,
            "Invalid path '$.missing' : No results for path: $['missing']"
        );
        let err = apply_output_path(Some(&p("$.a.b.c")), &raw, &env).unwrap_err();
        assert_eq!(
            err.cause,
            "Invalid path '$.a.b.c' : No results for path: $['a']['b']['c']"
        );
        let err = apply_output_path(Some(&p("$.x.y")), &raw, &env).unwrap_err();
        assert_eq!(
            err.cause,
            "Invalid path '$.x.y' : Missing property in path $['x']"
        );
        let err = apply_result_path(Some(&p("$.a.b")), &raw, json!(1)).unwrap_err();
        assert_eq!(err.error, "States.ReferencePathConflict");
        assert_eq!(err.cause, r#"Unable to apply step "b" to input {"a":1}"#);
        // An index past the end of an array is null in a `.$` field, a miss in an intrinsic's
        // argument (both as AWS answers).
        let items = json!({"items": [1, 2]});
        let on_items = env.with_input(&items);
        assert_eq!(
            apply_parameters(Some(&template(&json!({"idx.$": "$.items[5]"}))), &on_items).unwrap(),
            json!({"idx": null})
        );
        let err = apply_parameters(
            Some(&template(
                &json!({"v.$": "States.Format('{}', $.items[5])"}),
            )),
            &on_items,
        )
        .unwrap_err();
        assert_eq!(
            err.cause,
            "The function 'States.Format('{}', $.items[5])' had the following error: The JsonPath argument for the field '$.items[5]' could not be found in the input '{\"items\":[1,2]}'"
        );
        let err = apply_parameters(Some(&template(&json!({"x.$": "$.nope"}))), &env).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert!(err.cause.contains("'x.$'"), "{}", err.cause);
    }

    /// The execution's input is quoted as it was written while it is the state's input.
    #[test]
    fn causes_quote_the_input_as_written() {
        let text = "{\n    \"Comment\": \"Insert your JSON here\"\n}";
        let raw: Value = serde_json::from_str(text).unwrap();
        let context = json!({});
        let vars = Map::new();
        let entropy = Entropy::new(1);
        let mut env = Env::new(&raw, &context, &vars, &entropy);
        env.input_text = Some(text);
        let fields = template(&json!({"jobOption.$": "$.jobOption"}));
        let effective = apply_input_path(Some(&p("$")), &env).unwrap();
        let err = apply_parameters(Some(&fields), &env.with_input(&effective)).unwrap_err();
        assert_eq!(
            err.cause,
            format!(
                "The JSONPath '$.jobOption' specified for the field 'jobOption.$' could not be found in the input '{text}'"
            )
        );
        // Another value is quoted as compact JSON.
        let other = json!({"Comment": "x"});
        let err = apply_parameters(Some(&fields), &env.with_input(&other)).unwrap_err();
        assert!(
            err.cause.ends_with(r#"in the input '{"Comment":"x"}'"#),
            "{}",
            err.cause
        );
    }

    /// The developer guide's ResultSelector example: keep parts of a large task result.
    #[test]
    fn result_selector_example() {
        let raw = json!({"comment": "in"});
        let context = json!({});
        let vars = Map::new();
        let entropy = Entropy::new(1);
        let env = Env::new(&raw, &context, &vars, &entropy);
        let result = json!({
            "resourceType": "elasticmapreduce",
            "resource": "createCluster.sync",
            "output": {"SdkHttpMetadata": {"HttpStatusCode": 200}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"}
        });
        let selector = template(&json!({
            "ClusterId.$": "$.output.ClusterId",
            "ResourceType.$": "$.resourceType"
        }));
        let selected = apply_result_selector(Some(&selector), &result, &env).unwrap();
        assert_eq!(
            selected,
            json!({"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"})
        );
        let out = apply_result_path(Some(&p("$.EMROutput")), &raw, selected).unwrap();
        assert_eq!(out["EMROutput"]["ClusterId"], json!("AKIAIOSFODNN7EXAMPLE"));
    }

    #[test]
    fn assign_reads_variables_before_the_state() {
        let raw = json!({"n": 2});
        let context = json!({});
        let mut vars = Map::new();
        vars.insert("x".into(), json!(1));
        let entropy = Entropy::new(1);
        let env = Env::new(&raw, &context, &vars, &entropy);
        let t = template(&json!({"x.$": "$.n", "y.$": "$x", "z": "literal"}));
        let assigned = assign(&t, &env, "Assign").unwrap();
        assert_eq!(
            Value::Object(assigned),
            json!({"x": 2, "y": 1, "z": "literal"})
        );
    }
}
