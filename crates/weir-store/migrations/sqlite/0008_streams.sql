-- Streams' metadata, SQLite flavour: streams, their shards with lineage, and enhanced fan-out
-- consumers. The records themselves are in weir-stream's log files. Keep in step with
-- ../postgres/0008_streams.sql. Times are milliseconds since the epoch, as Kinesis shows them.

CREATE TABLE streams (
    name            TEXT    NOT NULL PRIMARY KEY,
    arn             TEXT    NOT NULL,
    -- PROVISIONED or ON_DEMAND.
    mode            TEXT    NOT NULL,
    retention_hours INTEGER NOT NULL,
    -- CREATING, ACTIVE, UPDATING or DELETING.
    status          TEXT    NOT NULL,
    created_ms      INTEGER NOT NULL,
    -- JSON object of tag keys to values.
    tags            TEXT    NOT NULL,
    -- The stream's folder under DATA/streams (a stream created again gets a new one).
    storage_dir     TEXT    NOT NULL
);

CREATE TABLE stream_shards (
    stream          TEXT    NOT NULL,
    shard           INTEGER NOT NULL,
    -- The shard it was split from, or the two merged into it.
    parent          INTEGER,
    adjacent_parent INTEGER,
    -- Inclusive 128-bit hash key range, in decimal (no 128-bit integer type).
    hash_start      TEXT    NOT NULL,
    hash_end        TEXT    NOT NULL,
    starting_offset INTEGER NOT NULL,
    -- Set once closed: the offset after its last record.
    ending_offset   INTEGER,
    created_ms      INTEGER NOT NULL,
    closed_ms       INTEGER,
    PRIMARY KEY (stream, shard)
);

CREATE TABLE stream_consumers (
    stream     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    arn        TEXT    NOT NULL,
    -- CREATING, DELETING or ACTIVE.
    status     TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (stream, name)
);
