//! What a running delivery did lately, as the server keeps it in memory (since it started the
//! delivery): totals, the objects it wrote last and the errors of the batches it had to retry.
//! Bounded: a delivery keeps at most [`RECENT_OBJECTS`] objects and [`RECENT_ERRORS`] errors.

use std::collections::VecDeque;

/// Objects a delivery remembers having written.
pub const RECENT_OBJECTS: usize = 50;
/// Batch errors a delivery remembers.
pub const RECENT_ERRORS: usize = 10;
/// The longest error message kept, in bytes.
const MAX_ERROR_BYTES: usize = 2000;

/// An object a delivery wrote and committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenObject {
    /// The lake key.
    pub key: String,
    pub size: u64,
    /// Records in it; None for an object of failed records (under the error prefix).
    pub rows: Option<u64>,
    /// When it was committed, in milliseconds since the epoch.
    pub at_ms: i64,
}

/// A batch that could not be delivered (it is tried again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchError {
    pub at_ms: i64,
    pub message: String,
}

/// A delivery's activity, newest first in each list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryActivity {
    /// Records written to data objects.
    pub delivered_records: u64,
    /// Records written under the error prefix.
    pub failed_records: u64,
    /// Records the transform dropped.
    pub dropped_records: u64,
    /// Batches committed.
    pub batches: u64,
    pub last_delivered_ms: Option<i64>,
    pub recent_objects: VecDeque<WrittenObject>,
    pub recent_errors: VecDeque<BatchError>,
}

impl DeliveryActivity {
    /// Counts a committed batch and remembers its objects.
    pub fn batch_committed(
        &mut self,
        at_ms: i64,
        (delivered, failed, dropped): (u64, u64, u64),
        objects: impl IntoIterator<Item = WrittenObject>,
    ) {
        self.delivered_records += delivered;
        self.failed_records += failed;
        self.dropped_records += dropped;
        self.batches += 1;
        self.last_delivered_ms = Some(at_ms);
        for object in objects {
            self.recent_objects.push_front(object);
        }
        self.recent_objects.truncate(RECENT_OBJECTS);
    }

    /// Remembers why a batch failed.
    pub fn batch_failed(&mut self, at_ms: i64, message: &str) {
        let mut message = message.to_string();
        if message.len() > MAX_ERROR_BYTES {
            let mut end = MAX_ERROR_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        self.recent_errors.push_front(BatchError { at_ms, message });
        self.recent_errors.truncate(RECENT_ERRORS);
    }

    /// Whether the delivery's latest news is an error (it is stalled, retrying).
    pub fn failing(&self) -> bool {
        match (self.recent_errors.front(), self.last_delivered_ms) {
            (Some(error), Some(delivered)) => error.at_ms > delivered,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(i: usize) -> WrittenObject {
        WrittenObject {
            key: format!("k{i}"),
            size: i as u64,
            rows: Some(1),
            at_ms: i as i64,
        }
    }

    #[test]
    fn keeps_the_newest_objects_and_errors_only() {
        let mut activity = DeliveryActivity::default();
        for i in 0..(RECENT_OBJECTS * 3) {
            activity.batch_committed(i as i64, (2, 1, 0), [object(i)]);
        }
        assert_eq!(activity.recent_objects.len(), RECENT_OBJECTS);
        assert_eq!(
            activity.recent_objects.front().map(|o| o.key.as_str()),
            Some("k149")
        );
        assert_eq!(activity.delivered_records, 300);
        assert_eq!(activity.failed_records, 150);
        assert!(!activity.failing());
        for i in 0..100 {
            activity.batch_failed(1000 + i, &"x".repeat(5000));
        }
        assert_eq!(activity.recent_errors.len(), RECENT_ERRORS);
        assert!(
            activity
                .recent_errors
                .iter()
                .all(|e| e.message.len() < 2100)
        );
        assert!(activity.failing());
        activity.batch_committed(5000, (1, 0, 0), []);
        assert!(!activity.failing());
    }
}
