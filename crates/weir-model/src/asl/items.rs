//! What a Map state iterates over, from the value its `ItemsPath` (JSONPath) or `Items`
//! (JSONata) gives, or from its input.
//!
//! A JSON array's elements, one iteration each; a JSON object's members, one iteration each,
//! whose input is the pair `{"Key": name, "Value": value}` and whose `$$.Map.Item` has `Key`
//! besides `Index` and `Value`. The guide's ItemsPath page: "If the input to the Map state is a
//! JSON object, it runs an iteration for each key-value pair in the object, passing the pair to
//! the iteration as input"; the shape of the pair and `$$.Map.Item.Key` are as recorded from
//! executions on AWS (floci-io/floci#1588: "Each Map iteration receives an item shaped like
//! `{"Key": "a", "Value": {"x": 1}}`", with `$$.Map.Item.Key`, `.Index` and `.Value`).

use serde_json::{Map, Value, json};

use super::errors::StatesError;

/// One iteration of a Map state.
#[derive(Debug, Clone, PartialEq)]
pub struct MapItem {
    /// The iteration's input, unless an `ItemSelector` builds another.
    pub input: Value,
    /// `$$.Map.Item.Key`: the member's name, when the items are an object's members.
    pub key: Option<String>,
    /// `$$.Map.Item.Value`: the element, or the member's value.
    pub value: Value,
}

impl MapItem {
    /// An array element (or a batch, or an item an `ItemReader` read).
    pub fn element(value: Value) -> MapItem {
        MapItem {
            input: value.clone(),
            key: None,
            value,
        }
    }

    /// `$$.Map.Item` for the iteration at `index`.
    pub fn context(&self, index: usize) -> Value {
        let mut item = json!({"Index": index, "Value": self.value});
        if let Some(key) = &self.key {
            item["Key"] = json!(key);
        }
        item
    }
}

/// The items of `value`: an array's elements or an object's members, in their order. Anything
/// else is handed back for the caller to refuse in its field's words.
pub fn map_items(value: Value) -> Result<Vec<MapItem>, Value> {
    match value {
        Value::Array(elements) => Ok(elements.into_iter().map(MapItem::element).collect()),
        Value::Object(members) => Ok(members
            .into_iter()
            .map(|(key, value)| MapItem {
                input: Value::Object(Map::from_iter([
                    ("Key".to_string(), json!(key)),
                    ("Value".to_string(), value.clone()),
                ])),
                key: Some(key),
                value,
            })
            .collect()),
        other => Err(other),
    }
}

/// A JSONata `Items` expression that gave anything but an array, refused as executions on AWS
/// refuse it: `States.QueryEvaluationError`, `The JSONata expression '$jobs' specified for the
/// field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for
/// value: {…}` (recorded on AWS, an object included; the value's rendering as localstack's
/// provider writes it).
pub fn not_an_array(expr: &str, value: &Value) -> StatesError {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    StatesError::query(format!(
        "The JSONata expression '{expr}' specified for the field 'Items' returned an unexpected \
         result type. Expected 'array', but was '{kind}' for value: {value}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_give_their_elements_and_objects_their_members() {
        let items = map_items(json!([1, {"a": 2}])).unwrap();
        assert_eq!(items[1].input, json!({"a": 2}));
        assert_eq!(items[1].context(1), json!({"Index": 1, "Value": {"a": 2}}));

        let items = map_items(json!({"web": {"port": 80}, "db": 5432})).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].input, json!({"Key": "web", "Value": {"port": 80}}));
        assert_eq!(
            items[1].context(1),
            json!({"Index": 1, "Key": "db", "Value": 5432})
        );
        assert_eq!(map_items(json!({})).unwrap(), Vec::new());
        assert_eq!(map_items(json!("abc")), Err(json!("abc")));
    }

    #[test]
    fn a_jsonata_result_that_is_no_array_is_named_with_its_type_and_value() {
        let error = not_an_array("$jobs", &json!({"id": 1}));
        assert_eq!(error.error, "States.QueryEvaluationError");
        assert_eq!(
            error.cause,
            "The JSONata expression '$jobs' specified for the field 'Items' returned an \
             unexpected result type. Expected 'array', but was 'object' for value: {\"id\":1}"
        );
        assert!(
            not_an_array("$s", &json!("x"))
                .cause
                .ends_with("'string' for value: \"x\"")
        );
    }
}
