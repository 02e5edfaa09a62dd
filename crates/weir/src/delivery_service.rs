//! The server's `DeliveryService` over `weir-lake`'s deliveries, and the transform functions
//! they call through the engine's functions: mapping only, no delivery logic here.

use std::sync::Arc;

use serde_json::Value;
use weir_engine::functions::Functions;
use weir_lake::delivery::{Deliveries, ServiceError, Transformer};
use weir_model::delivery::Draft;
use weir_server::deliveries::{DeliveryFailure, DeliveryInfo, DeliveryService, PutResult};

pub struct DeliveryAdapter(pub Deliveries);

fn failure(e: ServiceError) -> DeliveryFailure {
    DeliveryFailure {
        code: e.code,
        message: e.message,
    }
}

#[async_trait::async_trait]
impl DeliveryService for DeliveryAdapter {
    async fn create(
        &self,
        draft: Draft,
        request: Value,
        tags: Vec<(String, String)>,
    ) -> Result<DeliveryInfo, DeliveryFailure> {
        self.0.create(draft, request, tags).await.map_err(failure)
    }

    async fn delete(&self, name: &str) -> Result<(), DeliveryFailure> {
        self.0.delete(name).await.map_err(failure)
    }

    async fn describe(&self, name: &str) -> Result<DeliveryInfo, DeliveryFailure> {
        self.0.describe(name).await.map_err(failure)
    }

    async fn list(&self) -> Vec<DeliveryInfo> {
        self.0.list().await.into_iter().collect()
    }

    async fn activity(&self, name: &str) -> Option<weir_server::deliveries::DeliveryActivity> {
        self.0.activity(name).await
    }

    async fn put(
        &self,
        name: &str,
        records: Vec<weir_server::lake::Bytes>,
    ) -> Result<Vec<PutResult>, DeliveryFailure> {
        self.0.put(name, records).await.map_err(failure)
    }

    async fn retag(
        &self,
        name: &str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> Result<(), DeliveryFailure> {
        self.0.retag(name, add, remove).await.map_err(failure)
    }
}

/// Transform functions are weir functions, invoked as Firehose invokes a Lambda function.
pub struct FunctionTransformer(pub Arc<Functions>);

#[async_trait::async_trait]
impl Transformer for FunctionTransformer {
    async fn invoke(&self, function: &str, event: &Value) -> Result<Value, String> {
        match self.0.invoke(function, event).await {
            Ok(invocation) => Ok(invocation.result),
            Err(error) => Err(format!("{}: {}", error.error, error.cause)),
        }
    }
}
