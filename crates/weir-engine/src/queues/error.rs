//! What a queue operation can refuse, with SQS's codes and texts: [`QueueError::code`] is the
//! error type the JSON protocol returns (`__type`), [`QueueError::query_code`] the legacy code
//! botocore reads from the `x-amzn-query-error` header, and `Display` AWS's message.

/// A refused queue operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueueError {
    #[error("The specified queue does not exist.")]
    QueueDoesNotExist,
    /// CreateQueue of an existing name with a different value for this attribute.
    #[error("A queue already exists with the same name and a different value for attribute {0}")]
    QueueNameExists(String),
    #[error("Unknown Attribute {0}.")]
    InvalidAttributeName(String),
    /// The message is AWS's for the attribute and problem.
    #[error("{0}")]
    InvalidAttributeValue(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    MissingParameter(String),
    #[error("{0}")]
    InvalidMessageContents(String),
    #[error("The input receipt handle \"{0}\" is not a valid receipt handle.")]
    ReceiptHandleIsInvalid(String),
    #[error("Message does not exist or is not available for visibility timeout change.")]
    MessageNotInflight,
    /// The queue's name.
    #[error("Only one PurgeQueue operation on {0} is allowed every 60 seconds.")]
    PurgeQueueInProgress(String),
    #[error("{0}")]
    OverLimit(String),
    /// The metadata store failed; nothing the caller did.
    #[error("{0}")]
    Internal(String),
}

impl QueueError {
    /// The SQS JSON protocol's error type.
    pub fn code(&self) -> &'static str {
        match self {
            QueueError::QueueDoesNotExist => "QueueDoesNotExist",
            QueueError::QueueNameExists(_) => "QueueNameExists",
            QueueError::InvalidAttributeName(_) => "InvalidAttributeName",
            QueueError::InvalidAttributeValue(_) => "InvalidAttributeValue",
            QueueError::InvalidParameterValue(_) => "InvalidParameterValue",
            QueueError::MissingParameter(_) => "MissingParameter",
            QueueError::InvalidMessageContents(_) => "InvalidMessageContents",
            QueueError::ReceiptHandleIsInvalid(_) => "ReceiptHandleIsInvalid",
            QueueError::MessageNotInflight => "MessageNotInflight",
            QueueError::PurgeQueueInProgress(_) => "PurgeQueueInProgress",
            QueueError::OverLimit(_) => "OverLimit",
            QueueError::Internal(_) => "InternalFailure",
        }
    }

    /// The legacy (query protocol) code, sent in `x-amzn-query-error: CODE;Sender`.
    pub fn query_code(&self) -> &'static str {
        match self {
            QueueError::QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue",
            QueueError::QueueNameExists(_) => "QueueAlreadyExists",
            QueueError::MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            QueueError::PurgeQueueInProgress(_) => "AWS.SimpleQueueService.PurgeQueueInProgress",
            other => other.code(),
        }
    }

    /// Whether the caller is at fault (`Sender`) rather than the service (`Receiver`).
    pub fn sender_fault(&self) -> bool {
        !matches!(self, QueueError::Internal(_))
    }
}

impl From<weir_store::StoreError> for QueueError {
    fn from(error: weir_store::StoreError) -> Self {
        QueueError::Internal(format!("the queue's store failed: {error}"))
    }
}

/// One entry of a batch that failed (SendMessageBatch's, DeleteMessageBatch's and
/// ChangeMessageVisibilityBatch's `BatchResultErrorEntry`, without the entry's Id, which the
/// protocol adds).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchError {
    /// The SQS error type (as [`QueueError::code`]).
    pub code: String,
    pub message: String,
    pub sender_fault: bool,
}

impl From<QueueError> for BatchError {
    fn from(error: QueueError) -> Self {
        BatchError {
            code: error.code().to_string(),
            message: error.to_string(),
            sender_fault: error.sender_fault(),
        }
    }
}

impl BatchError {
    /// The entry's error as the error of a single-entry call (SendMessage, DeleteMessage,
    /// ChangeMessageVisibility).
    pub fn into_error(self) -> QueueError {
        let BatchError { code, message, .. } = self;
        match code.as_str() {
            "InvalidParameterValue" => QueueError::InvalidParameterValue(message),
            "MissingParameter" => QueueError::MissingParameter(message),
            "InvalidMessageContents" => QueueError::InvalidMessageContents(message),
            "InvalidAttributeValue" => QueueError::InvalidAttributeValue(message),
            "MessageNotInflight" => QueueError::MessageNotInflight,
            "ReceiptHandleIsInvalid" => {
                let handle = message
                    .split('"')
                    .nth(1)
                    .map(str::to_string)
                    .unwrap_or_default();
                QueueError::ReceiptHandleIsInvalid(handle)
            }
            "QueueDoesNotExist" => QueueError::QueueDoesNotExist,
            "OverLimit" => QueueError::OverLimit(message),
            _ => QueueError::Internal(message),
        }
    }
}
