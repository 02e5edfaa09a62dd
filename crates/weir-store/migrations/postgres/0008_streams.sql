-- Streams' metadata, PostgreSQL flavour: streams, their shards with lineage, and enhanced
-- fan-out consumers. The records themselves are in weir-stream's log files. Keep in step with
-- ../sqlite/0008_streams.sql. Times are milliseconds since the epoch, as Kinesis shows them.
-- Names sort bytewise ("C"), as in SQLite.

CREATE TABLE streams (
    name            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    arn             TEXT   NOT NULL,
    -- PROVISIONED or ON_DEMAND.
    mode            TEXT   NOT NULL,
    retention_hours BIGINT NOT NULL,
    -- CREATING, ACTIVE, UPDATING or DELETING.
    status          TEXT   NOT NULL,
    created_ms      BIGINT NOT NULL,
    -- JSON object of tag keys to values.
    tags            TEXT   NOT NULL,
    -- The stream's folder under DATA/streams (a stream created again gets a new one).
    storage_dir     TEXT   NOT NULL
);

CREATE TABLE stream_shards (
    stream          TEXT COLLATE "C" NOT NULL,
    shard           BIGINT NOT NULL,
    -- The shard it was split from, or the two merged into it.
    parent          BIGINT,
    adjacent_parent BIGINT,
    -- Inclusive 128-bit hash key range, in decimal (no 128-bit integer type).
    hash_start      TEXT   NOT NULL,
    hash_end        TEXT   NOT NULL,
    starting_offset BIGINT NOT NULL,
    -- Set once closed: the offset after its last record.
    ending_offset   BIGINT,
    created_ms      BIGINT NOT NULL,
    closed_ms       BIGINT,
    PRIMARY KEY (stream, shard)
);

CREATE TABLE stream_consumers (
    stream     TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    arn        TEXT   NOT NULL,
    -- CREATING, DELETING or ACTIVE.
    status     TEXT   NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (stream, name)
);
