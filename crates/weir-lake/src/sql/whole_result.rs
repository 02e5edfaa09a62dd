//! For operators that compute their whole output at once, after reading all their input: the
//! output handed on in batches of the session's size.

use std::future::Future;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::metrics::BaselineMetrics;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::TryStreamExt;

/// A stream of `compute`'s result, sliced into batches of `batch_size` rows.
pub fn stream_whole_result<F>(
    schema: SchemaRef,
    batch_size: usize,
    metrics: BaselineMetrics,
    compute: F,
) -> SendableRecordBatchStream
where
    F: Future<Output = Result<RecordBatch>> + Send + 'static,
{
    let batch_size = batch_size.max(1);
    let batches = futures::stream::once(async move {
        let result = compute.await?;
        metrics.record_output(result.num_rows());
        let rows = result.num_rows();
        let chunks: Vec<Result<RecordBatch>> = (0..rows)
            .step_by(batch_size)
            .map(|start| Ok(result.slice(start, batch_size.min(rows - start))))
            .collect();
        Ok::<_, DataFusionError>(futures::stream::iter(chunks))
    })
    .try_flatten();
    Box::pin(RecordBatchStreamAdapter::new(schema, batches))
}
