//! The values the service takes and returns: identifiers, records, descriptions. The protocol
//! layers (Kinesis, Firehose, event source mappings) map them onto their wire shapes.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;

/// A shard of a stream, numbered from 0 in creation order within the stream (children of a split
/// or a merge get the next numbers). Shown as AWS shows shard ids: `shardId-000000000007`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardId(pub u32);

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shardId-{:012}", self.0)
    }
}

impl FromStr for ShardId {
    type Err = ();

    /// `shardId-000000000007`, or AWS's lenient form the CLI accepts: the bare number.
    fn from_str(text: &str) -> Result<ShardId, ()> {
        let digits = text.strip_prefix("shardId-").unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        digits.parse::<u32>().map(ShardId).map_err(|_| ())
    }
}

/// A position in a shard, shown in decimal: `(1 << 127) | (shard << 64) | n`, where `n` counts
/// the records before it, so the record at offset `o` is numbered `o + 1` and a shard's
/// starting sequence number (`n` = 0) is lower than every record's, as on AWS: a consumer that
/// resumes after a shard's starting sequence number, or after the continuation sequence number
/// of an empty shard, gets the shard's first record. The top bit makes every one 39 digits long,
/// so their text sorts as their value does; the shard in the middle makes a sequence number name
/// its shard, as AWS's do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SequenceNumber(pub u128);

const SEQUENCE_MARK: u128 = 1 << 127;

impl SequenceNumber {
    /// The sequence number of the record at `offset`.
    pub fn of_record(shard: ShardId, offset: u64) -> SequenceNumber {
        SequenceNumber::before(shard, offset.saturating_add(1))
    }

    /// The position just before the record at `offset` (which may not exist yet): a shard's
    /// starting sequence number for its first offset, and what a reader that has read up to
    /// `offset` continues after. Equal to the sequence number of the record at `offset - 1`.
    pub fn before(shard: ShardId, offset: u64) -> SequenceNumber {
        SequenceNumber(SEQUENCE_MARK | (u128::from(shard.0) << 64) | u128::from(offset))
    }

    pub fn shard(self) -> ShardId {
        // The shard field is 63 bits wide; shard numbers are u32, so the high bits are 0 in every
        // sequence number weir made. Others are refused by `FromStr`.
        ShardId(((self.0 >> 64) & u128::from(u32::MAX)) as u32)
    }

    /// The offset of the first record after this position (AFTER_SEQUENCE_NUMBER).
    pub fn next_offset(self) -> u64 {
        self.0 as u64
    }

    /// The offset of the record this sequence number names, or the first one after it when it
    /// names none (a shard's starting sequence number): AT_SEQUENCE_NUMBER.
    pub fn offset_at(self) -> u64 {
        self.next_offset().saturating_sub(1)
    }

    /// The offset of the record this sequence number names; `None` for a position before any
    /// record (a shard's starting sequence number).
    pub fn record_offset(self) -> Option<u64> {
        self.next_offset().checked_sub(1)
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for SequenceNumber {
    type Err = ();

    /// Only sequence numbers weir could have given: 39 digits, the mark bit set and a shard
    /// number that fits a [`ShardId`].
    fn from_str(text: &str) -> Result<SequenceNumber, ()> {
        if text.len() != 39 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        let value: u128 = text.parse().map_err(|_| ())?;
        let shard_bits = (value >> 64) & !(SEQUENCE_MARK >> 64);
        if value & SEQUENCE_MARK == 0 || shard_bits > u128::from(u32::MAX) {
            return Err(());
        }
        Ok(SequenceNumber(value))
    }
}

/// How a stream's capacity is managed. On-demand streams start with 4 shards, as AWS's do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamMode {
    Provisioned,
    OnDemand,
}

impl StreamMode {
    /// AWS's name: `PROVISIONED` or `ON_DEMAND`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamMode::Provisioned => "PROVISIONED",
            StreamMode::OnDemand => "ON_DEMAND",
        }
    }

    pub fn parse(text: &str) -> Option<StreamMode> {
        match text {
            "PROVISIONED" => Some(StreamMode::Provisioned),
            "ON_DEMAND" => Some(StreamMode::OnDemand),
            _ => None,
        }
    }
}

/// What CreateStream asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStream {
    pub name: String,
    pub mode: StreamMode,
    /// Provisioned streams: the shard count (required). On-demand streams ignore it.
    pub shard_count: Option<u32>,
    pub tags: Vec<(String, String)>,
}

/// One record to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    pub partition_key: String,
    /// Places the record instead of the partition key's MD5.
    pub explicit_hash_key: Option<u128>,
    pub data: Bytes,
}

/// Where an appended record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub shard: ShardId,
    pub sequence: SequenceNumber,
}

/// A record of a PutRecords request that was not appended, in AWS's per-record terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutFailure {
    /// `ProvisionedThroughputExceededException` or `InternalFailure`.
    pub error_code: String,
    pub error_message: String,
}

/// A record as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub sequence: SequenceNumber,
    pub offset: u64,
    pub partition_key: String,
    pub data: Bytes,
    /// When the log accepted it (ApproximateArrivalTimestamp), in milliseconds since the epoch.
    pub arrival_ms: i64,
}

/// What a read returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadBatch {
    pub records: Vec<Record>,
    /// Where the next read starts.
    pub next_offset: u64,
    /// How far the batch is behind the shard's newest record (0 when caught up).
    pub millis_behind_latest: i64,
    /// The shard is closed and every record in it has been read.
    pub at_shard_end: bool,
    /// At the shard's end, the shards that replaced it.
    pub child_shards: Vec<ShardDescription>,
}

/// Where an iterator starts, as GetShardIterator's ShardIteratorType says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    TrimHorizon,
    Latest,
    AtSequence(SequenceNumber),
    AfterSequence(SequenceNumber),
    /// Milliseconds since the epoch.
    AtTimestamp(i64),
}

/// A shard as DescribeStream and ListShards show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardDescription {
    pub id: ShardId,
    pub parent: Option<ShardId>,
    pub adjacent_parent: Option<ShardId>,
    pub hash_start: u128,
    pub hash_end: u128,
    pub starting_sequence: SequenceNumber,
    /// Some once the shard is closed (split, merged, resharded): greater than every sequence
    /// number in it.
    pub ending_sequence: Option<SequenceNumber>,
}

impl ShardDescription {
    pub fn is_open(&self) -> bool {
        self.ending_sequence.is_none()
    }
}

/// A stream as DescribeStream shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamDescription {
    pub name: String,
    pub arn: String,
    /// `CREATING`, `ACTIVE`, `UPDATING` or `DELETING`.
    pub status: String,
    pub mode: StreamMode,
    pub retention_hours: u32,
    pub created_ms: i64,
    /// Every shard not yet expired, open or closed, by id.
    pub shards: Vec<ShardDescription>,
    pub open_shard_count: u32,
    pub consumer_count: u32,
    pub tags: Vec<(String, String)>,
    /// `NONE`: weir does not encrypt the log (yet).
    pub encryption: String,
}

/// A stream as ListStreams shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSummary {
    pub name: String,
    pub arn: String,
    pub status: String,
    pub mode: StreamMode,
    pub created_ms: i64,
}

/// What a stream has taken in since this server opened it, and where each shard's log is: the
/// cheap counters the dashboard samples for rates (reading them touches no file).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamActivity {
    /// Records made durable since the stream's writer started (this server's start, or the
    /// stream's creation).
    pub records: u64,
    /// Bytes of the log written for them, framing included.
    pub bytes: u64,
    /// Every shard not yet retired, by id.
    pub shards: Vec<ShardExtent>,
}

/// Which offsets a shard's log still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardExtent {
    pub shard: ShardId,
    /// The oldest offset kept (TRIM_HORIZON).
    pub first_offset: u64,
    /// The offset after the newest durable record.
    pub end_offset: u64,
    /// When the newest record arrived, in milliseconds since the epoch.
    pub last_arrival_ms: Option<i64>,
}

/// An enhanced fan-out consumer (RegisterStreamConsumer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerDescription {
    pub name: String,
    /// `arn:aws:kinesis:REGION:ACCOUNT:stream/STREAM/consumer/NAME:CREATED_SECONDS`.
    pub arn: String,
    /// `CREATING`, `DELETING` or `ACTIVE`.
    pub status: String,
    pub created_ms: i64,
    pub stream_arn: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_carry_their_shard_and_sort_as_text() {
        let a = SequenceNumber::of_record(ShardId(0), 0);
        let b = SequenceNumber::of_record(ShardId(0), 1);
        let c = SequenceNumber::of_record(ShardId(3), 0);
        let d = SequenceNumber::of_record(ShardId(u32::MAX), u64::MAX - 1);
        for s in [a, b, c, d] {
            assert_eq!(s.to_string().len(), 39);
            assert_eq!(s.to_string().parse::<SequenceNumber>(), Ok(s));
        }
        assert!(a.to_string() < b.to_string() && b.to_string() < c.to_string());
        assert_eq!((c.shard(), c.record_offset()), (ShardId(3), Some(0)));
        assert_eq!(
            (d.shard(), d.record_offset()),
            (ShardId(u32::MAX), Some(u64::MAX - 1))
        );
        assert!("12".parse::<SequenceNumber>().is_err());
        assert!("x".repeat(39).parse::<SequenceNumber>().is_err());
        // 39 digits without the mark bit.
        assert!(format!("{:039}", 5u128).parse::<SequenceNumber>().is_err());
    }

    #[test]
    fn a_shards_starting_sequence_number_is_below_its_first_record() {
        let start = SequenceNumber::before(ShardId(2), 0);
        let first = SequenceNumber::of_record(ShardId(2), 0);
        assert_eq!(start.to_string().len(), 39);
        assert!(start.to_string() < first.to_string());
        assert_eq!(start.record_offset(), None);
        assert_eq!(first.record_offset(), Some(0));
        // AT and AFTER the start both begin at the first record; AFTER a record at the next.
        assert_eq!((start.offset_at(), start.next_offset()), (0, 0));
        assert_eq!((first.offset_at(), first.next_offset()), (0, 1));
        // Having read up to an offset continues after the record before it.
        assert_eq!(
            SequenceNumber::before(ShardId(2), 5),
            SequenceNumber::of_record(ShardId(2), 4)
        );
    }

    #[test]
    fn shard_ids_read_as_aws_writes_them() {
        assert_eq!(ShardId(7).to_string(), "shardId-000000000007");
        assert_eq!("shardId-000000000007".parse(), Ok(ShardId(7)));
        assert_eq!("7".parse(), Ok(ShardId(7)));
        assert!("shardId-".parse::<ShardId>().is_err());
        assert!("shardId-x".parse::<ShardId>().is_err());
    }
}
