//! Where a batch's objects go: under a catalog table's location (the table created when missing,
//! its schema widened and committed before any object needs it) or under the lake's root; and
//! each group written as one object, whose manifest row is staged for the checkpoint's commit.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use weir_model::delivery::prefix::{FORMAT_CONVERSION_FAILED, PROCESSING_FAILED};
use weir_model::delivery::{Format, SchemaSource};
use weir_store::Mutation;

use super::encode;
use super::failures::Failure;
use super::records::{BatchId, Group, Plan, partition_values};
use super::{Delivery, DeliveryError};
use crate::catalog::{self, Column, Partitioning, Table, TableFile, TableStats};
use crate::catalog_store::qualified;
use crate::lake::{ObjectCreated, check_key};

/// An object written, with the rows it holds.
pub struct Written {
    pub created: ObjectCreated,
    pub rows: usize,
}

pub struct Destination {
    /// The table as prepared for this batch.
    table: Option<Table>,
    /// Key prefix of every data object: the table's location and a slash, or nothing.
    root: String,
    /// The schema Parquet objects are written with; None: each object's own records'.
    schema: Option<SchemaRef>,
}

impl Destination {
    pub async fn resolve(
        delivery: &Delivery,
        plan: &Plan<'_>,
        id: &BatchId,
    ) -> Result<Destination, DeliveryError> {
        let spec = &delivery.spec;
        let fail = |message: String| DeliveryError::Destination {
            delivery: spec.name.clone(),
            message,
        };
        let Some(name) = &spec.table else {
            return Ok(Destination {
                table: None,
                root: String::new(),
                schema: None,
            });
        };
        let label = qualified(&name.database, &name.name);
        let format = match spec.format {
            Format::JsonLines => catalog::Format::Json,
            Format::Parquet => catalog::Format::Parquet,
        };
        let inferred = match spec.schema {
            SchemaSource::Table => {
                if delivery
                    .catalog
                    .table(&name.database, &name.name)
                    .await?
                    .is_none()
                {
                    return Err(fail(format!(
                        "table {label} does not exist (`schema: table` takes its columns)"
                    )));
                }
                None
            }
            SchemaSource::Infer => {
                let records = plan.json_records();
                if records.is_empty() {
                    None
                } else {
                    Some(
                        encode::infer_schema(&records).map_err(|e| DeliveryError::Encode {
                            delivery: spec.name.clone(),
                            message: e,
                        })?,
                    )
                }
            }
        };
        let partitioning = if spec.partition_columns.is_empty() {
            Partitioning::None
        } else {
            Partitioning::Hive {
                columns: spec
                    .partition_columns
                    .iter()
                    .map(|c| Column {
                        name: c.clone(),
                        data_type: "Utf8".into(),
                        nullable: true,
                    })
                    .collect(),
            }
        };
        let new = Table {
            database: name.database.clone(),
            name: name.name.clone(),
            location: format!("{}/{}", name.database, name.name),
            format,
            columns: Vec::new(),
            partitioning: partitioning.clone(),
            stats: TableStats::default(),
            created_at: 0,
            updated_at: 0,
        };
        let source = format!(
            "delivery {} (shard {}, offsets {}-{})",
            spec.name, id.shard.0, id.first, id.last
        );
        let table = delivery
            .catalog
            .prepare_table(new, inferred.as_ref(), &source)
            .await?;
        if table.format != format {
            return Err(fail(format!(
                "table {label} holds {:?} files, and the delivery writes {:?}",
                table.format, spec.format
            )));
        }
        if table.partitioning != partitioning {
            return Err(fail(format!(
                "table {label} is partitioned as {:?}, and the delivery's prefix makes {:?}",
                table.partitioning, spec.partition_columns
            )));
        }
        if spec.schema == SchemaSource::Table && table.columns.is_empty() {
            return Err(fail(format!(
                "table {label} has no columns for `schema: table`"
            )));
        }
        Ok(Destination {
            schema: Some(Arc::new(encode::schema_of(&table.columns))),
            root: format!("{}/", table.location),
            table: Some(table),
        })
    }

    /// Writes one group as one object; records that cannot go in it join `failed`. None when
    /// no record was left to write.
    pub async fn write_group<'r>(
        &self,
        delivery: &Delivery,
        id: &BatchId,
        group: Group<'r>,
        failed: &mut Vec<Failure<'r>>,
    ) -> Result<Option<(Written, Option<TableFile>)>, DeliveryError> {
        let spec = &delivery.spec;
        let values = match &self.table {
            Some(_) => partition_values(&group.prefix, &spec.partition_columns),
            None => Ok(Vec::new()),
        };
        let probe = format!("{}{}x", self.root, group.prefix);
        let placed = values.and_then(|v| {
            check_key(&probe).map_err(|e| e.to_string())?;
            Ok(v)
        });
        let partition_values = match placed {
            Ok(values) => values,
            Err(message) => {
                for entry in group.entries {
                    failed.push(Failure {
                        record: entry.item.record,
                        output_type: PROCESSING_FAILED,
                        code: "DynamicPartitioning.MetadataExtractionFailed",
                        message: message.clone(),
                    });
                }
                return Ok(None);
            }
        };

        let (body, kept) = match spec.format {
            Format::JsonLines => {
                let body = encode::json_lines(
                    group.entries.iter().map(|e| e.item.data.as_ref()),
                    spec.compression,
                )
                .map_err(|e| encode_error(delivery, e.to_string()))?;
                (body, group.entries)
            }
            Format::Parquet => {
                let (kept, rejected) = self.fitting(group.entries)?;
                failed.extend(rejected);
                if kept.is_empty() {
                    return Ok(None);
                }
                let values: Vec<_> = kept.iter().filter_map(|e| e.json.as_ref()).collect();
                let schema = self.schema_for(&values, delivery)?;
                let batch =
                    encode::decode(&schema, &values).map_err(|e| encode_error(delivery, e))?;
                let body = encode::parquet(&batch, spec.compression)
                    .map_err(|e| encode_error(delivery, e))?;
                (body, kept)
            }
        };
        let (Some(first), Some(last)) = (kept.first(), kept.last()) else {
            return Ok(None);
        };
        let extension = encode::extension(spec.format, spec.compression);
        let name = id.file_name(first.item.record.offset, last.item.record.offset, extension);
        let key = format!("{}{}{name}", self.root, group.prefix);
        let info = delivery.lake().put_unannounced(&key, body).await?;
        let rows = kept.len();
        let partition = (!partition_values.is_empty())
            .then(|| {
                group
                    .prefix
                    .rsplit_once('/')
                    .map(|(folders, _)| folders.to_string())
            })
            .flatten();
        let created = ObjectCreated {
            key: info.key.clone(),
            size: info.size,
            table: self.table.as_ref().map(|t| qualified(&t.database, &t.name)),
            partition,
            delivery: Some(delivery.spec.name.clone()),
        };
        let file = self.table.as_ref().map(|_| TableFile {
            key: info.key,
            size: info.size as i64,
            last_modified: info.last_modified,
            etag: info.etag,
            partition_values,
            row_count: Some(rows as i64),
        });
        Ok(Some((Written { created, rows }, file)))
    }

    /// Adds the manifest row of `file` to `mutations`.
    pub fn stage(
        &self,
        delivery: &Delivery,
        file: TableFile,
        mutations: &mut Vec<Mutation>,
    ) -> Result<(), DeliveryError> {
        if let Some(table) = &self.table {
            mutations.extend(delivery.catalog.stage_files(table, &[file])?);
        }
        Ok(())
    }

    fn schema_for(
        &self,
        values: &[&serde_json::Value],
        delivery: &Delivery,
    ) -> Result<SchemaRef, DeliveryError> {
        match &self.schema {
            Some(schema) => Ok(schema.clone()),
            None => encode::infer_schema(values)
                .map(Arc::new)
                .map_err(|e| encode_error(delivery, e)),
        }
    }

    /// The entries that decode into the schema, and the others as conversion failures (tried
    /// one by one only when the whole group does not decode).
    #[allow(clippy::type_complexity)]
    fn fitting<'r>(
        &self,
        entries: Vec<super::records::Entry<'r>>,
    ) -> Result<(Vec<super::records::Entry<'r>>, Vec<Failure<'r>>), DeliveryError> {
        let Some(schema) = &self.schema else {
            return Ok((entries, Vec::new()));
        };
        let all: Vec<_> = entries.iter().filter_map(|e| e.json.as_ref()).collect();
        if encode::decode(schema, &all).is_ok() {
            return Ok((entries, Vec::new()));
        }
        let mut kept = Vec::new();
        let mut rejected = Vec::new();
        for entry in entries {
            let fits = entry
                .json
                .as_ref()
                .map(|json| encode::decode(schema, &[json]));
            match fits {
                Some(Ok(_)) => kept.push(entry),
                other => {
                    let reason = match other {
                        Some(Err(message)) => message,
                        _ => "it is not a JSON object".to_string(),
                    };
                    rejected.push(Failure {
                        record: entry.item.record,
                        output_type: FORMAT_CONVERSION_FAILED,
                        code: "DataFormatConversion.MalformedData",
                        message: format!("the record does not fit the table's schema: {reason}"),
                    })
                }
            }
        }
        Ok((kept, rejected))
    }
}

fn encode_error(delivery: &Delivery, message: String) -> DeliveryError {
    DeliveryError::Encode {
        delivery: delivery.spec.name.clone(),
        message,
    }
}
