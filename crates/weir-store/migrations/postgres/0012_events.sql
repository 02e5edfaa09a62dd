-- The event bus's metadata, PostgreSQL flavour: buses, rules with their targets, archives and the
-- events they keep, replays, and deliveries waiting for a retry. The events themselves are in
-- each bus's weir-stream log. Keep in step with ../sqlite/0012_events.sql. Times are
-- milliseconds since the epoch. Names sort bytewise ("C"), as in SQLite.

CREATE TABLE event_buses (
    name        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    description TEXT,
    -- [{"Key": …, "Value": …}] (JSON).
    tags        TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    updated_ms  BIGINT  NOT NULL
);

CREATE TABLE event_rules (
    bus           TEXT COLLATE "C" NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
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
    created_ms    BIGINT  NOT NULL,
    updated_ms    BIGINT  NOT NULL,
    PRIMARY KEY (bus, name)
);

CREATE TABLE event_archives (
    name           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    -- The ARN of the bus it archives.
    source_arn     TEXT    NOT NULL,
    description    TEXT,
    event_pattern  TEXT,
    -- 0: kept for ever.
    retention_days BIGINT  NOT NULL,
    state          TEXT    NOT NULL,
    created_ms     BIGINT  NOT NULL
);

-- The events each archive keeps, by when the bus took them and their position in its log.
CREATE TABLE event_archived (
    archive TEXT COLLATE "C" NOT NULL,
    time_ms BIGINT  NOT NULL,
    seq     BIGINT  NOT NULL,
    -- The event (JSON).
    event   TEXT    NOT NULL,
    PRIMARY KEY (archive, time_ms, seq)
);

CREATE TABLE event_replays (
    name             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    description      TEXT,
    archive_arn      TEXT    NOT NULL,
    destination_arn  TEXT    NOT NULL,
    -- ["rule arn", …] (JSON): the rules replayed events go to; all when empty.
    filter_arns      TEXT    NOT NULL,
    start_ms         BIGINT  NOT NULL,
    end_ms           BIGINT  NOT NULL,
    -- STARTING, RUNNING, CANCELLING, COMPLETED, CANCELLED or FAILED.
    state            TEXT    NOT NULL,
    state_reason     TEXT,
    started_ms       BIGINT  NOT NULL,
    ended_ms         BIGINT ,
    last_replayed_ms BIGINT ,
    -- The position (time_ms, seq) of the last event replayed, where a resumed replay goes on.
    cursor_time_ms   BIGINT ,
    cursor_seq       BIGINT 
);

-- Deliveries to targets that failed and wait to be tried again.
CREATE TABLE event_retries (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    bus           TEXT COLLATE "C" NOT NULL,
    rule          TEXT    NOT NULL,
    -- The target as it was when the event matched (JSON, the engine's shape).
    target        TEXT    NOT NULL,
    event         TEXT    NOT NULL,
    -- The rendered input.
    input         TEXT    NOT NULL,
    attempts      BIGINT  NOT NULL,
    first_ms      BIGINT  NOT NULL,
    next_ms       BIGINT  NOT NULL,
    error_code    TEXT    NOT NULL,
    error_message TEXT    NOT NULL
);
