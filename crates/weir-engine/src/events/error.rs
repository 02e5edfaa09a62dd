//! Why a request to the bus was refused, in EventBridge's terms: the variant is the exception
//! (`code()`), the text is AWS's message.

/// A refusal. `Display` is the message EventBridge gives.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventsError {
    /// ResourceNotFoundException.
    #[error("{0}")]
    NotFound(String),
    /// ResourceAlreadyExistsException.
    #[error("{0}")]
    AlreadyExists(String),
    /// ValidationException.
    #[error("{0}")]
    Validation(String),
    /// InvalidEventPatternException.
    #[error("{0}")]
    InvalidPattern(String),
    /// LimitExceededException.
    #[error("{0}")]
    LimitExceeded(String),
    /// ManagedRuleException: a rule of `rules/*.yaml` or a trigger, changed through the API.
    #[error("{0}")]
    Managed(String),
    /// IllegalStatusException.
    #[error("{0}")]
    IllegalStatus(String),
    /// ConcurrentModificationException.
    #[error("{0}")]
    ConcurrentModification(String),
    /// InvalidStateException.
    #[error("{0}")]
    InvalidState(String),
    /// InternalException: the store or a stream refused.
    #[error("{0}")]
    Internal(String),
}

impl EventsError {
    /// AWS's exception name.
    pub fn code(&self) -> &'static str {
        match self {
            EventsError::NotFound(_) => "ResourceNotFoundException",
            EventsError::AlreadyExists(_) => "ResourceAlreadyExistsException",
            EventsError::Validation(_) => "ValidationException",
            EventsError::InvalidPattern(_) => "InvalidEventPatternException",
            EventsError::LimitExceeded(_) => "LimitExceededException",
            EventsError::Managed(_) => "ManagedRuleException",
            EventsError::IllegalStatus(_) => "IllegalStatusException",
            EventsError::ConcurrentModification(_) => "ConcurrentModificationException",
            EventsError::InvalidState(_) => "InvalidStateException",
            EventsError::Internal(_) => "InternalException",
        }
    }

    pub(crate) fn internal(error: impl std::fmt::Display) -> EventsError {
        EventsError::Internal(error.to_string())
    }

    /// AWS's words for every limit it counts (rules per bus, targets per rule, buses).
    pub(crate) fn limit() -> EventsError {
        EventsError::LimitExceeded(
            "The requested resource exceeds the maximum number allowed.".into(),
        )
    }
}
