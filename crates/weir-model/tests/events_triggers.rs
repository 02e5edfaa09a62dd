//! Triggers in pipeline and state machine files, and the triggering event in a task's
//! templates.

use serde_json::json;
use weir_model::asl::parse_machine_file;
use weir_model::events::input::TargetInput;
use weir_model::pipeline::parse_pipeline;

fn problems<T: std::fmt::Debug>(result: Result<T, Vec<weir_model::Problem>>) -> Vec<String> {
    result
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_pipeline_declares_triggers_and_reads_the_event() {
    let text = r#"params:
  day: null
triggers:
  - event: {source: [weir.glue], detail-type: [Partition Added], detail: {table: [clicks]}}
    input_transformer:
      input_paths: {day: $.detail.partition.day}
      input_template: '{"day": <day>}'
  - event: {source: [shop]}
    bus: orders
tasks:
  aggregate:
    command: echo {{ event.detail.table }} {{ params.day }}
"#;
    let pipeline = parse_pipeline("pipelines/agg.yaml", "agg", text).unwrap();
    assert_eq!(pipeline.triggers.len(), 2);
    assert_eq!(
        pipeline.triggers[0].pattern,
        json!({"source": ["weir.glue"], "detail-type": ["Partition Added"], "detail": {"table": ["clicks"]}})
    );
    assert_eq!(pipeline.triggers[0].bus, "default");
    assert_eq!(pipeline.triggers[1].bus, "orders");
    assert_eq!(
        pipeline.triggers[1].input,
        TargetInput::Constant("{}".into())
    );
    // `event` is in every task's context, even without triggers (null when not event-started).
    let plain = "tasks:\n  a:\n    command: echo {{ event.id }}\n";
    assert!(
        parse_pipeline("p.yaml", "p", plain)
            .unwrap()
            .triggers
            .is_empty()
    );
}

#[test]
fn pipeline_trigger_problems_have_positions() {
    let text = r#"params:
  day: null
triggers:
  - event: {source: [a]}
    input: {dya: 1}
  - event: [a]
  - event: {source: [a]}
    input_path: $.detail
    input: {}
tasks:
  a:
    command: echo {{ evnt.id }}
"#;
    assert_eq!(
        problems(parse_pipeline("p.yaml", "p", text)),
        [
            "p.yaml:4:3: a trigger's input sets param `dya`, which `params` does not declare",
            "p.yaml:6:12: `event` must be an event pattern (a mapping such as `{source: [weir.lake]}`), not a list",
            "p.yaml:9:5: Only one of Input, InputPath, or InputTransformer must be provided for target trigger. (`input`, `input_path`, `input_transformer`)",
            "p.yaml:12:22: `evnt` is not defined in the templates of task `a`; did you mean `event`? (they can use ds, ds_nodash, ts, ts_nodash, logical_date, data_interval_start, data_interval_end, run_id, run_type, pipeline, params, tasks, task, try_number, map_index, event, secrets)",
        ]
    );
}

const MACHINE_YAML: &str = r#"triggers:
  - event: {source: [weir.lake], detail-type: [Object Created]}
    input_path: $.detail
StartAt: Done
States:
  Done: {Type: Succeed}
"#;

#[test]
fn a_machine_file_declares_triggers_outside_its_definition() {
    let file = parse_machine_file("machines/m.asl.yaml", "m", MACHINE_YAML).unwrap();
    assert_eq!(file.triggers.len(), 1);
    assert_eq!(file.triggers[0].input, TargetInput::Path("$.detail".into()));
    assert_eq!(file.machine.start_at, "Done");
    let definition: serde_json::Value = serde_json::from_str(&file.definition).unwrap();
    assert_eq!(
        definition,
        json!({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    );
    // JSON files too, with positions.
    let text = "{\n  \"StartAt\": \"Done\",\n  \"triggers\": [{\"event\": {\"source\": [\"a\"]}, \"bus\": \"b b\"}],\n  \"States\": {\"Done\": {\"Type\": \"Succeed\"}}\n}\n";
    assert_eq!(
        problems(parse_machine_file("machines/m.asl.json", "m", text)),
        [
            "machines/m.asl.json:3:52: bus name `b b` must be 1 to 256 letters, digits, `.`, `-` or `_`"
        ]
    );
    let ok = text.replace("b b", "orders");
    let file = parse_machine_file("machines/m.asl.json", "m", &ok).unwrap();
    assert_eq!(file.triggers[0].bus, "orders");
    assert_eq!(file.triggers[0].input, TargetInput::Whole);
    assert!(!file.definition.contains("triggers"));
    // Without triggers, a JSON definition is kept as written.
    let plain = "{\"StartAt\": \"Done\", \"States\": {\"Done\": {\"Type\": \"Succeed\"}}}";
    assert_eq!(
        parse_machine_file("m.asl.json", "m", plain)
            .unwrap()
            .definition,
        plain
    );
    // The States Language itself still refuses the key.
    assert!(weir_model::asl::parse_definition("m.asl.yaml", MACHINE_YAML).is_err());
    // Problems in both parts are reported together.
    let bad = "triggers: [{event: {}}]\nStartAt: Nowhere\nStates:\n  Done: {Type: Succeed}\n";
    let found = problems(parse_machine_file("m.asl.yaml", "m", bad));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("m.asl.yaml:1:20: Event pattern is not valid."),
        "{found:?}"
    );
}
