//! Running a transform: its source read from its bookmark, its steps compiled to one DataFusion
//! plan, its sink (and quarantine) written to fresh write-id folders, then ONE store batch that
//! changes the sink's and the quarantine's manifests and advances the bookmark. A run that
//! fails or is killed before that batch leaves its bookmark where it was and only files no
//! manifest names (removed at once on an ordinary failure; a killed run's stay, invisible to
//! every reader): the next run does the same work again, so no row is skipped or doubled.

mod bookmark;
mod sink;
mod source;
mod stream;

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use serde_json::{Value, json};
use weir_model::sql_tables::TableName;
use weir_model::transform::{Bookmark, Recipe, Sink, Source, StepKind};
use weir_store::{Mutation, TransformBookmarkRecord, TransformMutation};

use crate::catalog_store::Catalog;
use crate::lake::{Lake, ObjectCreated};
use crate::sql::SqlEngine;
use bookmark::ColumnMark;
// Part B's compile replaces this at the merge (same signature and result).
use super::compile::{Compiled, compile, tables_read};

/// Why a run failed; nothing of it was committed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct RunError {
    pub message: String,
}

impl RunError {
    pub fn new(message: impl Into<String>) -> Self {
        RunError {
            message: message.into(),
        }
    }
}

impl From<crate::LakeError> for RunError {
    fn from(e: crate::LakeError) -> Self {
        RunError::new(e.to_string())
    }
}

impl From<weir_store::StoreError> for RunError {
    fn from(e: weir_store::StoreError) -> Self {
        RunError::new(e.to_string())
    }
}

impl From<crate::sql::SqlError> for RunError {
    fn from(e: crate::sql::SqlError) -> Self {
        RunError::new(e.to_string())
    }
}

/// What a run did, as the action's output and the API's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub rows_in: u64,
    pub rows_out: u64,
    pub rows_quarantined: u64,
    /// Files (or objects) written.
    pub files: usize,
    pub bookmark_before: Value,
    pub bookmark_after: Value,
}

impl RunReport {
    pub fn to_json(&self) -> Value {
        json!({
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_quarantined": self.rows_quarantined,
            "files": self.files,
            "bookmark": self.bookmark_after,
            "bookmark_before": self.bookmark_before,
        })
    }
}

/// Runs transforms over the lake. Cheap to clone.
#[derive(Clone)]
pub struct Transforms {
    engine: Arc<SqlEngine>,
    catalog: Catalog,
    lake: Arc<Lake>,
    /// One run of a transform at a time in this process: a second waits, then reads from the
    /// bookmark the first committed.
    running: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// The server's streams (stream sources and sinks), set once they are open.
    streams: Arc<std::sync::OnceLock<weir_stream::Streams>>,
}

/// Secret values by name, for `mask: { hash: { salt: NAME } }`.
pub type SaltLookup = dyn Fn(&str) -> Result<String, String> + Send + Sync;

impl Transforms {
    pub fn new(engine: Arc<SqlEngine>, catalog: Catalog, lake: Arc<Lake>) -> Self {
        Transforms {
            engine,
            catalog,
            lake,
            running: Default::default(),
            streams: Default::default(),
        }
    }

    /// Gives the runner the server's streams (opened after the actions are registered).
    pub fn set_streams(&self, streams: weir_stream::Streams) {
        let _ = self.streams.set(streams);
    }

    /// The transform's bookmark as the API shows it: `{transform, state, run, updated_at,
    /// objects}`, or null when it has none.
    pub async fn bookmark(&self, transform: &str) -> Result<Value, RunError> {
        let store = self.catalog.store();
        let Some(record) = store.bookmark(transform).await? else {
            return Ok(Value::Null);
        };
        let objects = store.bookmark_objects(transform).await?;
        Ok(json!({
            "transform": record.transform,
            "state": record.state,
            "run": record.run,
            "updated_at": record.updated_at,
            "objects": objects.len(),
        }))
    }

    /// Forgets the bookmark: the next run reads everything. False when there was none.
    pub async fn reset_bookmark(&self, transform: &str) -> Result<bool, RunError> {
        let store = self.catalog.store();
        let had = store.bookmark(transform).await?.is_some()
            || !store.bookmark_objects(transform).await?.is_empty();
        store
            .apply(&[TransformMutation::DeleteBookmark {
                transform: transform.to_string(),
            }
            .into()])
            .await?;
        Ok(had)
    }

    /// Runs `recipe` once; `run` names the run in the bookmark. Progress goes to `log`.
    pub async fn run(
        &self,
        recipe: &Recipe,
        run: &str,
        salts: &SaltLookup,
        log: &mut (dyn Write + Send),
    ) -> Result<RunReport, RunError> {
        let lock = {
            let mut running = self
                .running
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            running.entry(recipe.name.clone()).or_default().clone()
        };
        let _one_at_a_time = lock.lock().await;
        let store = self.catalog.store();
        let stored = store.bookmark(&recipe.name).await?;
        let bookmark_before = stored.as_ref().map_or(Value::Null, |b| b.state.clone());
        let last_mark = match (&recipe.bookmark, &stored) {
            (Some(Bookmark::Column(column)), Some(stored)) => Some(ColumnMark::from_json(
                &stored.state,
                &column.value,
                &recipe.name,
            )?),
            _ => None,
        };
        let read_objects = match (&recipe.bookmark, &recipe.source) {
            (Some(Bookmark::Objects | Bookmark::Default), Source::Prefix { .. }) => {
                store.bookmark_objects(&recipe.name).await?
            }
            (Some(Bookmark::Objects | Bookmark::Default), Source::Table(_) | Source::Query(_)) => {
                return Err(RunError::new(
                    "`bookmark: true` remembers objects of a prefix source or positions of a \
                     stream: for a table or a query, name a column that only grows \
                     (`bookmark: { column: … }`)",
                ));
            }
            _ => Vec::new(),
        };
        let _ = writeln!(log, "transform {} (run {run})", recipe.name);
        let _ = writeln!(log, "bookmark before: {bookmark_before}");

        let query = match &recipe.source {
            Source::Query(sql) => Some(sql.text.as_str()),
            _ => None,
        };
        let (state, query_plan) = self
            .engine
            .session_with(query, &tables_read(recipe))
            .await?;
        let positions_before = match (&recipe.source, &stored) {
            (Source::Stream(_), Some(stored)) => stream::positions_from(&stored.state),
            _ => stream::Positions::new(),
        };
        let read = source::read(
            recipe,
            &state,
            query_plan,
            source::Places {
                lake: &self.lake,
                root: &self.engine.lake_context().root,
                streams: self.streams.get(),
            },
            source::Already {
                mark: last_mark,
                objects: &read_objects,
                positions: positions_before,
            },
        )
        .await?;
        let unmarked = match &read {
            source::Read::Nothing { unmarked } | source::Read::Frame { unmarked, .. } => *unmarked,
        };
        if let (Some(Bookmark::Column(column)), 1..) = (&recipe.bookmark, unmarked) {
            let _ = writeln!(
                log,
                "{unmarked} row(s) with a null `{}` not read: a null is above no bookmark",
                column.value
            );
        }
        let source::Read::Frame {
            frame,
            mark,
            objects,
            positions,
            ..
        } = read
        else {
            let _ = writeln!(log, "nothing new to read: nothing written");
            return Ok(RunReport {
                rows_in: 0,
                rows_out: 0,
                rows_quarantined: 0,
                files: 0,
                bookmark_after: bookmark_before.clone(),
                bookmark_before,
            });
        };
        if !objects.is_empty() {
            let _ = writeln!(log, "reading {} new object(s)", objects.len());
        }
        let rows_in = frame
            .clone()
            .count()
            .await
            .map_err(|e| RunError::new(format!("reading the source: {}", e.find_root())))?
            as u64;
        let _ = writeln!(log, "rows read: {rows_in}");

        let compiled: Compiled =
            compile(&state, recipe, *frame, salts)
                .await
                .map_err(|problems| {
                    RunError::new(
                        problems
                            .iter()
                            .map(|p| p.to_string())
                            .collect::<Vec<_>>()
                            .join("\n"),
                    )
                })?;
        if let Some(check) = compiled.fail_check.clone() {
            let failing = check
                .collect()
                .await
                .map_err(|e| RunError::new(format!("validating: {}", e.find_root())))?;
            let count: usize = failing.iter().map(|b| b.num_rows()).sum();
            if count > 0 {
                let rows = crate::sql::QueryResult {
                    schema: failing[0].schema(),
                    batches: failing,
                    row_count: count as u64,
                    truncated: false,
                    elapsed: Default::default(),
                    files_scanned: 0,
                }
                .to_json_rows();
                return Err(RunError::new(format!(
                    "validation failed (on_failure: fail), nothing written; failing rows: {}",
                    Value::Array(rows.into_iter().map(Value::Object).collect())
                )));
            }
        }

        // Write everything, then commit once; on a failure, remove what was written.
        let mut written: Vec<String> = Vec::new();
        let result = self
            .write_and_commit(
                recipe,
                run,
                compiled,
                Read {
                    mark,
                    objects,
                    positions,
                },
                &mut written,
                log,
            )
            .await;
        match result {
            Ok((report_rows, files, bookmark_after, announced)) => {
                for object in announced {
                    self.lake.notify(object);
                }
                let (rows_out, rows_quarantined) = report_rows;
                let _ = writeln!(
                    log,
                    "rows written: {rows_out}, quarantined: {rows_quarantined}, files: {files}"
                );
                let _ = writeln!(log, "bookmark after: {bookmark_after}");
                Ok(RunReport {
                    rows_in,
                    rows_out,
                    rows_quarantined,
                    files,
                    bookmark_before,
                    bookmark_after,
                })
            }
            Err(e) => {
                for prefix in &written {
                    sink::discard(&self.engine, prefix).await;
                }
                let _ = writeln!(log, "error: {e}");
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_and_commit(
        &self,
        recipe: &Recipe,
        run: &str,
        compiled: Compiled,
        read: Read,
        written: &mut Vec<String>,
        log: &mut (dyn Write + Send),
    ) -> Result<((u64, u64), usize, Value, Vec<ObjectCreated>), RunError> {
        let Read {
            mark,
            objects,
            positions,
        } = read;
        let mut changes = Vec::new();
        let mut files = 0usize;
        let mut announced = Vec::new();
        let rows_out;
        match &recipe.sink {
            Sink::Table(table_sink) => {
                let partition_by: Vec<String> = table_sink
                    .partition_by
                    .iter()
                    .map(|c| c.value.clone())
                    .collect();
                let write = sink::write_table(
                    &self.engine,
                    &self.catalog,
                    compiled.output,
                    &table_sink.table.value,
                    table_sink.mode,
                    &partition_by,
                    table_sink.compression,
                )
                .await?;
                written.push(write.prefix.clone());
                rows_out = write.rows;
                files += write.files.len();
                announced.extend(crate::sql::ddl::created_objects(&write.table, &write.files));
                let _ = writeln!(
                    log,
                    "wrote {} row(s) in {} file(s) for {}",
                    write.rows,
                    write.files.len(),
                    table_sink.table.value
                );
                changes.push((write.table, write.change));
            }
            Sink::Prefix {
                prefix,
                format,
                compression,
                partition_by,
            } => {
                let partition_by: Vec<String> =
                    partition_by.iter().map(|c| c.value.clone()).collect();
                let (folder, rows) = sink::write_prefix(
                    &self.engine,
                    compiled.output,
                    &prefix.value,
                    *format,
                    &partition_by,
                    *compression,
                )
                .await?;
                written.push(folder.clone());
                rows_out = rows;
                let objects = self.lake.list(&folder).await?;
                files += objects.len();
                let _ = writeln!(
                    log,
                    "wrote {rows} row(s) in {} object(s) under {folder}",
                    objects.len()
                );
                announced.extend(objects.into_iter().map(|o| ObjectCreated {
                    key: o.key,
                    size: o.size,
                    table: None,
                    partition: None,
                    delivery: None,
                }));
            }
            Sink::Stream {
                stream,
                partition_key,
            } => {
                let streams = self.streams.get().ok_or_else(|| {
                    RunError::new("this server has no streams to write a stream sink to")
                })?;
                rows_out = stream::write(
                    streams,
                    compiled.output,
                    &stream.value,
                    partition_key.as_ref().map(|k| k.value.as_str()),
                )
                .await?;
                let _ = writeln!(
                    log,
                    "appended {rows_out} record(s) to stream {}",
                    stream.value
                );
            }
        }
        let mut rows_quarantined = 0;
        if let Some((frame, table)) = compiled.quarantine {
            let write = sink::write_table(
                &self.engine,
                &self.catalog,
                frame,
                &table,
                weir_model::transform::WriteMode::Append,
                &[],
                weir_model::transform::Compression::Snappy,
            )
            .await?;
            written.push(write.prefix.clone());
            rows_quarantined = write.rows;
            files += write.files.len();
            announced.extend(crate::sql::ddl::created_objects(&write.table, &write.files));
            let _ = writeln!(log, "quarantined {} row(s) in {table}", write.rows);
            changes.push((write.table, write.change));
        }

        // The new bookmark, in the same batch as the manifests.
        let mut extra: Vec<Mutation> = Vec::new();
        let state = match (&recipe.bookmark, mark) {
            // A stream source's bookmark is always its shards' positions.
            _ if positions.is_some() => positions.as_ref().map(stream::positions_json),
            (Some(Bookmark::Column(_)), Some(mark)) if !mark.value.is_null() => {
                Some(mark.to_json()?)
            }
            (Some(Bookmark::Objects | Bookmark::Default), _) => {
                let before = self.catalog.store().bookmark_objects(&recipe.name).await?;
                Some(json!({"objects": before.len() + objects.len()}))
            }
            _ => None,
        };
        let bookmark_after = state.clone().unwrap_or(Value::Null);
        if let Some(state) = state {
            extra.push(
                TransformMutation::PutBookmark(TransformBookmarkRecord {
                    transform: recipe.name.clone(),
                    state,
                    run: Some(run.to_string()),
                    updated_at: chrono::Utc::now().timestamp_micros(),
                })
                .into(),
            );
        }
        if !objects.is_empty() {
            extra.push(TransformMutation::PutBookmarkObjects(objects).into());
        }
        let committed = self.catalog.commit_with(changes, extra).await?;
        // Files the commit replaced, which weir wrote itself (crawled files stay).
        for (table, removed) in committed {
            for file in removed {
                if crate::sql::ddl::write_dir(&file.key, &table.location).is_some()
                    && let Err(e) = self.lake.delete(&file.key).await
                {
                    tracing::warn!(key = %file.key, "cannot delete a replaced file: {e}");
                }
            }
        }
        Ok((
            (rows_out, rows_quarantined),
            files,
            bookmark_after,
            announced,
        ))
    }
}

/// What the source read, for the bookmark the run commits.
struct Read {
    mark: Option<ColumnMark>,
    objects: Vec<weir_store::TransformBookmarkObject>,
    positions: Option<stream::Positions>,
}

/// The tables a recipe writes: its sink table and its quarantine table.
pub fn tables_written(recipe: &Recipe) -> Vec<TableName> {
    let mut tables = Vec::new();
    if let Sink::Table(sink) = &recipe.sink {
        tables.push(sink.table.value.clone());
    }
    for step in &recipe.steps {
        if let StepKind::Validate(validate) = &step.kind
            && let weir_model::transform::OnFailure::Quarantine(table) = &validate.on_failure
        {
            tables.push(table.value.clone());
        }
    }
    tables
}

#[cfg(test)]
mod tests;
