//! API errors: a status and `{"error": {"code", "message"}}`, where the message names the field
//! and the rule when the request was at fault.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use weir_engine::EngineError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request",
            message: message.into(),
        }
    }

    /// A request body over `server.max_body_bytes`.
    pub fn body_too_large() -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message: "the request body is larger than this server accepts (`max_body_bytes` \
                      under `[server]` in weir.toml)"
                .into(),
        }
    }

    /// A subsystem this server was started without.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let (status, code) = match &error {
            EngineError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            EngineError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            EngineError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            EngineError::Store(_) | EngineError::Commit(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "store_error")
            }
            EngineError::Stopped => (StatusCode::SERVICE_UNAVAILABLE, "stopped"),
        };
        ApiError {
            status,
            code,
            message: error.to_string(),
        }
    }
}

impl From<weir_store::StoreError> for ApiError {
    fn from(error: weir_store::StoreError) -> Self {
        EngineError::Store(error).into()
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::body_too_large();
        }
        ApiError::bad_request(format!("invalid JSON body: {}", rejection.body_text()))
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request(format!("invalid query: {}", rejection.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The audit log keeps why a call was refused or failed.
        let refused = matches!(
            self.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        );
        let note = crate::auth::middleware::AuditNote {
            refusal: refused.then(|| self.message.clone()),
            detail: (!refused).then(|| self.message.clone()),
            ..Default::default()
        };
        let mut response = (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response();
        response.extensions_mut().insert(note);
        response
    }
}
