-- The event bus's metadata, SQLite flavour: buses, rules with their targets, archives and the
-- events they keep, replays, and deliveries waiting for a retry. The events themselves are in
-- each bus's weir-stream log. Keep in step with ../postgres/0012_events.sql. Times are
-- milliseconds since the epoch.

CREATE TABLE event_buses (
    name        TEXT    NOT NULL PRIMARY KEY,
    description TEXT,
    -- [{"Key": …, "Value": …}] (JSON).
    tags        TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);

CREATE TABLE event_rules (
    bus           TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    description   TEXT,
    -- The event pattern's JSON text, as given.
    event_pattern TEXT,
    -- rate(…) or cron(…).
    schedule      TEXT,
    -- ENABLED or DISABLED.
    state         TEXT    NOT NULL,
    role_arn      TEXT,
    -- The targets (JSON list, the engine's shape), in the order they were put.
    targets       TEXT    NOT NULL,
    tags          TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    PRIMARY KEY (bus, name)
);

CREATE TABLE event_archives (
    name           TEXT    NOT NULL PRIMARY KEY,
    -- The ARN of the bus it archives.
    source_arn     TEXT    NOT NULL,
    description    TEXT,
    event_pattern  TEXT,
    -- 0: kept for ever.
    retention_days INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    created_ms     INTEGER NOT NULL
);

-- The events each archive keeps, by when the bus took them and their position in its log.
CREATE TABLE event_archived (
    archive TEXT    NOT NULL,
    time_ms INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    -- The event (JSON).
    event   TEXT    NOT NULL,
    PRIMARY KEY (archive, time_ms, seq)
);

CREATE TABLE event_replays (
    name             TEXT    NOT NULL PRIMARY KEY,
    description      TEXT,
    archive_arn      TEXT    NOT NULL,
    destination_arn  TEXT    NOT NULL,
    -- ["rule arn", …] (JSON): the rules replayed events go to; all when empty.
    filter_arns      TEXT    NOT NULL,
    start_ms         INTEGER NOT NULL,
    end_ms           INTEGER NOT NULL,
    -- STARTING, RUNNING, CANCELLING, COMPLETED, CANCELLED or FAILED.
    state            TEXT    NOT NULL,
    state_reason     TEXT,
    started_ms       INTEGER NOT NULL,
    ended_ms         INTEGER,
    last_replayed_ms INTEGER,
    -- The position (time_ms, seq) of the last event replayed, where a resumed replay goes on.
    cursor_time_ms   INTEGER,
    cursor_seq       INTEGER
);

-- Deliveries to targets that failed and wait to be tried again.
CREATE TABLE event_retries (
    id            TEXT    NOT NULL PRIMARY KEY,
    bus           TEXT    NOT NULL,
    rule          TEXT    NOT NULL,
    -- The target as it was when the event matched (JSON, the engine's shape).
    target        TEXT    NOT NULL,
    event         TEXT    NOT NULL,
    -- The rendered input.
    input         TEXT    NOT NULL,
    attempts      INTEGER NOT NULL,
    first_ms      INTEGER NOT NULL,
    next_ms       INTEGER NOT NULL,
    error_code    TEXT    NOT NULL,
    error_message TEXT    NOT NULL
);
