//! SQS's errors in its JSON protocol. SQS moved from the query protocol to JSON keeping its old
//! error codes (`awsQueryCompatible`): an error's body names the model's shape
//! (`{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": …}`) and the header
//! `x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender` carries the query code
//! and the fault. botocore picks the exception class from the shape
//! (`client.exceptions.QueueDoesNotExist`) and shows the query code as `Error.Code`, as the AWS
//! CLI prints it.

use axum::http::StatusCode;

use super::AwsError;

/// How SQS answers an error shape: its query code, HTTP status and whether the sender is at
/// fault. The codes and statuses are the query-protocol model's `error` traits (codes not listed
/// there are the shape's name, status 400).
pub fn query_error(shape: &str) -> (&str, StatusCode, bool) {
    let bad = StatusCode::BAD_REQUEST;
    match shape {
        "QueueDoesNotExist" => ("AWS.SimpleQueueService.NonExistentQueue", bad, true),
        "QueueNameExists" => ("QueueAlreadyExists", bad, true),
        "QueueDeletedRecently" => ("AWS.SimpleQueueService.QueueDeletedRecently", bad, true),
        "PurgeQueueInProgress" => (
            "AWS.SimpleQueueService.PurgeQueueInProgress",
            StatusCode::FORBIDDEN,
            true,
        ),
        "MessageNotInflight" => ("AWS.SimpleQueueService.MessageNotInflight", bad, true),
        "TooManyEntriesInBatchRequest" => (
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            bad,
            true,
        ),
        "EmptyBatchRequest" => ("AWS.SimpleQueueService.EmptyBatchRequest", bad, true),
        "BatchEntryIdsNotDistinct" => {
            ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", bad, true)
        }
        "BatchRequestTooLong" => ("AWS.SimpleQueueService.BatchRequestTooLong", bad, true),
        "InvalidBatchEntryId" => ("AWS.SimpleQueueService.InvalidBatchEntryId", bad, true),
        "UnsupportedOperation" => ("AWS.SimpleQueueService.UnsupportedOperation", bad, true),
        "OverLimit" => ("OverLimit", StatusCode::FORBIDDEN, true),
        "ResourceNotFoundException" => ("ResourceNotFoundException", StatusCode::NOT_FOUND, true),
        // The common errors, in the names SQS's JSON protocol gives them.
        "InvalidParameterValueException" => ("InvalidParameterValue", bad, true),
        "MissingRequiredParameterException" => ("MissingParameter", bad, true),
        "AccessDeniedException" => ("AccessDenied", StatusCode::FORBIDDEN, true),
        "RequestThrottled" => ("RequestThrottled", bad, true),
        "InternalFailure" => ("InternalFailure", StatusCode::INTERNAL_SERVER_ERROR, false),
        super::super::TOO_LARGE => (shape, StatusCode::PAYLOAD_TOO_LARGE, true),
        other => (other, bad, true),
    }
}

/// The JSON protocol's name for an error the service names by its code: the common errors are
/// `…Exception` shapes there (`InvalidParameterValue` is `InvalidParameterValueException`); the
/// rest are the model's shapes, named alike.
pub fn shape_of(code: &'static str) -> &'static str {
    match code {
        "InvalidParameterValue" => "InvalidParameterValueException",
        "MissingParameter" => "MissingRequiredParameterException",
        other => other,
    }
}

/// A failed batch entry's `Code`: the query code of the error the service named (the common
/// errors' codes are their query codes already).
pub fn entry_code(code: &str) -> &str {
    query_error(code).0
}

/// `The specified queue does not exist.`
pub fn no_queue() -> AwsError {
    AwsError {
        code: "QueueDoesNotExist",
        message: "The specified queue does not exist.".into(),
    }
}

/// `InvalidParameterValue`, with SQS's message.
pub fn invalid_value(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "InvalidParameterValueException",
        message: message.into(),
    }
}

/// `MissingParameter`: "The request must contain the parameter QueueUrl."
pub fn missing(member: &str) -> AwsError {
    AwsError {
        code: "MissingRequiredParameterException",
        message: format!("The request must contain the parameter {member}."),
    }
}

/// The server's own failure: the detail goes to the log, not the client.
pub fn internal(detail: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %detail, "queue operation failed");
    AwsError {
        code: "InternalFailure",
        message:
            "The request processing has failed because of an unknown error, exception or failure."
                .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_map_to_their_query_codes() {
        assert_eq!(
            query_error("QueueDoesNotExist"),
            (
                "AWS.SimpleQueueService.NonExistentQueue",
                StatusCode::BAD_REQUEST,
                true
            )
        );
        assert_eq!(query_error("QueueNameExists").0, "QueueAlreadyExists");
        assert_eq!(query_error("PurgeQueueInProgress").1, StatusCode::FORBIDDEN);
        assert_eq!(
            query_error("ReceiptHandleIsInvalid").0,
            "ReceiptHandleIsInvalid"
        );
        assert_eq!(
            query_error("InternalFailure"),
            ("InternalFailure", StatusCode::INTERNAL_SERVER_ERROR, false)
        );
    }
}
