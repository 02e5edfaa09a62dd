//! Map states: where the items come from (ItemsPath / Items / ItemReader), how each is shaped
//! (ItemSelector, or the older Parameters), the processor (ItemProcessor, or the older Iterator),
//! concurrency and failure tolerance, batching and result writing.

use super::state::{dynamic_uint, reference_path, report_field, template};
use super::{Ctx, Obj, branch};
use crate::asl::model::{Dynamic, Map, QueryLanguage};
use crate::asl::path::Path;
use crate::asl::payload::{self, Template};

pub(super) const FIELDS: &[&str] = &[
    "ItemProcessor",
    "Iterator",
    "ItemsPath",
    "Items",
    "ItemSelector",
    "Parameters",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "Label",
    "InputPath",
    "OutputPath",
    "ResultPath",
    "ResultSelector",
    "Retry",
    "Catch",
    "Next",
    "End",
    "Assign",
    "Output",
];

pub(super) fn map(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) -> Option<Map> {
    obj.at_most_one(ctx, &["ItemProcessor", "Iterator"]);
    obj.at_most_one(ctx, &["ItemSelector", "Parameters"]);
    obj.at_most_one(ctx, &["Items", "ItemsPath"]);
    let processor_key = if obj.has("ItemProcessor") {
        "ItemProcessor"
    } else {
        "Iterator"
    };
    let Some(pm) = obj.get(processor_key) else {
        ctx.report(
            obj.node.pos,
            obj.path,
            "a Map state requires field \"ItemProcessor\" (or the older \"Iterator\")",
        );
        return None;
    };
    let processor = branch(
        ctx,
        &pm.value,
        &obj.path_of(processor_key),
        language,
        "an item processor",
        &["ProcessorConfig"],
    );
    let items = items(ctx, obj, language);
    let selector_key = if obj.has("ItemSelector") {
        "ItemSelector"
    } else {
        "Parameters"
    };
    let item_selector = template(ctx, obj, selector_key, language);
    let max_concurrency = dynamic_uint(
        ctx,
        obj,
        "MaxConcurrency",
        "MaxConcurrencyPath",
        (0, 99_999_999),
        language,
    );
    let tolerated_failure_count = dynamic_uint(
        ctx,
        obj,
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        (0, 99_999_999),
        language,
    );
    let tolerated_failure_percentage = percentage(ctx, obj, language);
    let item_reader = json_object(ctx, obj, "ItemReader", language);
    if let Some(reader) = obj.get("ItemReader")
        && let Some(reader) = Obj::of(
            ctx,
            &reader.value,
            &obj.path_of("ItemReader"),
            "\"ItemReader\"",
        )
        && let Some(config) = reader.get("ReaderConfig")
        && let Some(config) = Obj::of(
            ctx,
            &config.value,
            &reader.path_of("ReaderConfig"),
            "\"ReaderConfig\"",
        )
    {
        config.at_most_one(ctx, &["MaxItems", "MaxItemsPath"]);
    }
    let item_batcher = json_object(ctx, obj, "ItemBatcher", language);
    if let Some(batcher) = obj.get("ItemBatcher")
        && let Some(batcher) = Obj::of(
            ctx,
            &batcher.value,
            &obj.path_of("ItemBatcher"),
            "\"ItemBatcher\"",
        )
    {
        batcher.at_most_one(ctx, &["MaxItemsPerBatch", "MaxItemsPerBatchPath"]);
        batcher.at_most_one(ctx, &["MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"]);
    }
    let result_writer = json_object(ctx, obj, "ResultWriter", language);
    let label = obj.string(ctx, "Label").map(str::to_string);
    Some(Map {
        items,
        item_selector,
        processor: processor?,
        max_concurrency,
        tolerated_failure_count,
        tolerated_failure_percentage,
        item_reader,
        item_batcher,
        result_writer,
        label,
    })
}

/// `ItemsPath` (a path, not null; default `$`) or `Items` (JSONata: an array or an expression).
fn items(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) -> Option<Template> {
    if let Some(m) = obj.get("Items") {
        let t = template(ctx, obj, "Items", language)?;
        if !matches!(t, Template::Jsonata(_)) && !m.value.to_json().is_array() {
            report_field(
                ctx,
                obj,
                "Items",
                "\"Items\" must be an array or a {% … %} expression",
            );
        }
        return Some(t);
    }
    let m = obj.get("ItemsPath")?;
    let path = obj.path_of("ItemsPath");
    match m.value.as_str().map(Path::parse) {
        Some(Ok(p)) => Some(Template::Path(p)),
        Some(Err(e)) => {
            ctx.report(
                m.value.pos,
                &path,
                format!("\"ItemsPath\" is not a valid JSONPath: {e}"),
            );
            None
        }
        None => {
            ctx.report(
                m.value.pos,
                &path,
                format!("\"ItemsPath\" must be a path, not {}", m.value.describe()),
            );
            None
        }
    }
}

fn percentage(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) -> Option<Dynamic<f64>> {
    let key = "ToleratedFailurePercentage";
    let path_key = "ToleratedFailurePercentagePath";
    obj.at_most_one(ctx, &[key, path_key]);
    if let Some(m) = obj.get(key) {
        if language == QueryLanguage::Jsonata
            && let Ok(Some(t)) = payload::jsonata_expr(ctx, &m.value, &obj.path_of(key))
        {
            return Some(Dynamic::Computed(t));
        }
        return obj.number(ctx, key, 0.0, 100.0).map(Dynamic::Fixed);
    }
    reference_path(ctx, obj, path_key).map(|p| Dynamic::Computed(Template::Path(p)))
}

/// ItemReader, ItemBatcher, ResultWriter: objects kept as written; in a JSONata state their
/// `{% … %}` strings are syntax-checked here, and evaluated by the interpreter.
fn json_object(
    ctx: &mut Ctx<'_>,
    obj: &Obj<'_>,
    key: &str,
    language: QueryLanguage,
) -> Option<serde_json::Value> {
    let m = obj.get(key)?;
    let path = obj.path_of(key);
    Obj::of(ctx, &m.value, &path, &format!("\"{key}\""))?;
    if language == QueryLanguage::Jsonata {
        payload::jsonata(ctx, &m.value, &path)?;
    }
    Some(m.value.to_json())
}
