//! Deliveries (weir's Firehose): one shard's batch of stream records into lake objects.
//!
//! A delivery reads a weir stream through a consumer group (direct puts go into a backing stream
//! first, so both sources share this path). The consumer's batching is the delivery's buffer: a
//! batch closes at the buffer size or interval, whichever comes first, per shard. [`Delivery::
//! deliver`] turns one batch into objects:
//!
//! 1. the transform function, if any, with Firehose's contract (`transform.rs`);
//! 2. each record's prefix (`!{timestamp:…}` at the oldest arrival, partition keys from the
//!    record or the transform), grouping records by it (`records.rs`);
//! 3. one object per prefix, JSON lines or Parquet (`encode.rs`), named from the shard and the
//!    first and last offsets it holds, so a retried batch writes the same names;
//! 4. failed records, with the reason, under the error prefix (`failures.rs`);
//! 5. for a table: the schema widened and committed first (`table.rs`), then the manifest rows
//!    of the new objects returned, NOT applied.
//!
//! **Exactly once.** The caller commits the returned mutations together with the consumer's
//! checkpoint in one store batch. SQL reads only manifest files, so after a crash a batch is
//! either wholly in the table and checkpointed, or neither; objects written for a batch that was
//! never committed stay outside every manifest (a retry of the same records overwrites them).

mod encode;
mod failures;
pub mod processor;
mod records;
pub mod service;
mod table;
pub mod transform;

use std::sync::Arc;

use bytes::Bytes;
use weir_model::delivery::DeliverySpec;
use weir_store::Mutation;
use weir_stream::{Record, ShardId};

use crate::catalog_store::Catalog;
use crate::error::LakeError;
use crate::lake::{Lake, ObjectCreated};

pub use processor::DeliveryProcessor;
pub use records::BatchId;
pub use service::{Deliveries, ServiceError};
pub use transform::Transformer;
pub use weir_model::delivery::DeliveryInfo;

/// What one batch produced.
#[derive(Debug, Default)]
pub struct Delivered {
    /// To commit with the checkpoint: the new objects' manifest rows.
    pub mutations: Vec<Mutation>,
    /// The objects written (data and errors), to announce once committed.
    pub objects: Vec<ObjectCreated>,
    /// The records in each data object, by key (objects of failed records are not here).
    pub rows: Vec<(String, usize)>,
    /// Records written to data objects, under the error prefix, and dropped by the transform.
    pub delivered: usize,
    pub failed: usize,
    pub dropped: usize,
}

impl Delivered {
    /// Emits the lake's "object created" event for each object.
    pub fn announce(&self, lake: &Lake) {
        for object in &self.objects {
            lake.notify(object.clone());
        }
    }
}

/// Why a batch could not be delivered; the consumer offers the same records again later.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    /// The destination does not fit the delivery (a table partitioned otherwise, a `schema:
    /// table` delivery whose table has no columns); it stays stalled until that is fixed.
    #[error("delivery `{delivery}`: {message}")]
    Destination { delivery: String, message: String },
    #[error("delivery `{delivery}`: cannot encode an object: {message}")]
    Encode { delivery: String, message: String },
}

/// One delivery, ready to take batches. Cheap to share behind an `Arc`.
pub struct Delivery {
    pub spec: DeliverySpec,
    lake: Arc<Lake>,
    catalog: Catalog,
    transformer: Option<Arc<dyn Transformer>>,
    /// `arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME`, for the transform's event.
    arn: String,
    region: String,
    /// The source stream's ARN when the source is a stream (the transform's event carries it).
    source_stream_arn: Option<String>,
}

/// Where a delivery runs: the lake, the catalog, functions, and the names events carry.
pub struct DeliveryContext {
    pub lake: Arc<Lake>,
    pub catalog: Catalog,
    pub transformer: Option<Arc<dyn Transformer>>,
    pub region: String,
    pub account: String,
}

impl Delivery {
    pub fn new(spec: DeliverySpec, context: &DeliveryContext) -> Delivery {
        let arn = format!(
            "arn:aws:firehose:{}:{}:deliverystream/{}",
            context.region, context.account, spec.name
        );
        let source_stream_arn = match &spec.source {
            weir_model::delivery::Source::Stream { name, .. } => Some(format!(
                "arn:aws:kinesis:{}:{}:stream/{name}",
                context.region, context.account
            )),
            weir_model::delivery::Source::Direct => None,
        };
        Delivery {
            spec,
            lake: context.lake.clone(),
            catalog: context.catalog.clone(),
            transformer: context.transformer.clone(),
            arn,
            region: context.region.clone(),
            source_stream_arn,
        }
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    pub fn lake(&self) -> &Arc<Lake> {
        &self.lake
    }

    /// Delivers one shard's batch (records in order) and returns the mutations to commit with
    /// the checkpoint after its last record.
    pub async fn deliver(
        &self,
        shard: ShardId,
        batch: &[Record],
    ) -> Result<Delivered, DeliveryError> {
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(Delivered::default());
        };
        let id = BatchId {
            delivery: self.spec.name.clone(),
            shard,
            first: first.offset,
            last: last.offset,
            oldest_ms: batch.iter().map(|r| r.arrival_ms).min().unwrap_or(0),
        };
        let mut out = Delivered::default();

        let (items, mut failed, dropped) = self.transform(shard, batch).await;
        out.dropped = dropped;
        let plan = records::plan(&self.spec, &id, items, &mut failed);
        let destination = table::Destination::resolve(self, &plan, &id).await?;

        for group in plan.groups {
            let written = destination
                .write_group(self, &id, group, &mut failed)
                .await?;
            if let Some((object, file)) = written {
                out.delivered += object.rows;
                out.rows.push((object.created.key.clone(), object.rows));
                out.objects.push(object.created);
                if let Some(file) = file {
                    destination.stage(self, file, &mut out.mutations)?;
                }
            }
        }
        out.failed = failed.len();
        out.objects
            .extend(failures::write(self, &id, &failed).await?);
        Ok(out)
    }

    /// The transform's outcomes; without a transform every record passes as it is.
    async fn transform<'r>(
        &self,
        shard: ShardId,
        batch: &'r [Record],
    ) -> (Vec<records::Item<'r>>, Vec<failures::Failure<'r>>, usize) {
        let passed = |record: &'r Record, data: Bytes, keys| records::Item {
            record,
            data,
            lambda_keys: keys,
        };
        let (Some(spec), Some(transformer)) = (&self.spec.transform, &self.transformer) else {
            let items = batch
                .iter()
                .map(|r| passed(r, r.data.clone(), Default::default()))
                .collect();
            return (items, Vec::new(), 0);
        };
        let event = transform::event(&transform::Invocation {
            function: &spec.function,
            delivery_arn: &self.arn,
            region: &self.region,
            source_stream_arn: self.source_stream_arn.as_deref(),
            shard,
            records: batch,
        });
        let mut last_error = String::new();
        let mut answer = None;
        for attempt in 0..transform::ATTEMPTS {
            match transformer.invoke(&spec.function, &event).await {
                Ok(value) => {
                    answer = Some(value);
                    break;
                }
                Err(error) => {
                    tracing::warn!(
                        delivery = %self.spec.name,
                        function = %spec.function,
                        attempt = attempt + 1,
                        "transform failed: {error}"
                    );
                    last_error = error;
                }
            }
        }
        let Some(answer) = answer else {
            let failed = batch
                .iter()
                .map(|record| failures::Failure {
                    record,
                    output_type: weir_model::delivery::prefix::PROCESSING_FAILED,
                    code: "Lambda.FunctionError",
                    message: last_error.clone(),
                })
                .collect();
            return (Vec::new(), failed, 0);
        };
        let mut items = Vec::new();
        let mut failed = Vec::new();
        let mut dropped = 0;
        for (record, outcome) in batch.iter().zip(transform::outcomes(batch, &answer)) {
            match outcome {
                transform::Outcome::Ok { data, keys } => items.push(passed(record, data, keys)),
                transform::Outcome::Dropped => dropped += 1,
                transform::Outcome::Failed { code, message } => failed.push(failures::Failure {
                    record,
                    output_type: weir_model::delivery::prefix::PROCESSING_FAILED,
                    code,
                    message,
                }),
            }
        }
        (items, failed, dropped)
    }
}

#[cfg(test)]
mod tests;
