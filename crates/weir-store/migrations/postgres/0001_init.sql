-- weir metadata, PostgreSQL flavour. Timestamps are microseconds since the Unix epoch; JSON is
-- text (the store never queries inside it). Keep in step with ../sqlite/0001_init.sql: the store
-- runs the same queries on both.
--
-- Identifiers use the "C" collation so that ORDER BY sorts them bytewise, as SQLite does, whatever
-- the database's locale.

CREATE TABLE pipeline_versions (
    pipeline   TEXT COLLATE "C" NOT NULL,
    version    TEXT COLLATE "C" NOT NULL,
    path       TEXT   NOT NULL,
    source     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (pipeline, version)
);

CREATE TABLE runs (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    pipeline       TEXT COLLATE "C" NOT NULL,
    version        TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    run_type       TEXT    NOT NULL,
    logical_date   BIGINT  NOT NULL,
    interval_start BIGINT  NOT NULL,
    interval_end   BIGINT  NOT NULL,
    params         TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    started_at     BIGINT,
    ended_at       BIGINT,
    notified       BOOLEAN NOT NULL
);

-- The run grid of one pipeline, newest first.
CREATE INDEX runs_by_pipeline ON runs (pipeline, created_at DESC);
-- The run list across pipelines, newest first.
CREATE INDEX runs_by_created ON runs (created_at DESC);
-- Recovery: unfinished runs.
CREATE INDEX runs_by_state ON runs (state);
-- Recovery: finished runs whose notification is still owed (few at any time).
CREATE INDEX runs_unnotified ON runs (created_at) WHERE notified = FALSE;
-- The scheduler may create one run per interval, even when two servers race or a backfill
-- overlaps the schedule; manual runs are exempt.
CREATE UNIQUE INDEX runs_one_per_interval ON runs (pipeline, logical_date)
    WHERE run_type IN ('scheduled', 'backfill');

CREATE TABLE task_instances (
    run_id      TEXT COLLATE "C" NOT NULL,
    task_id     TEXT COLLATE "C" NOT NULL,
    map_index   INTEGER NOT NULL,
    state       TEXT    NOT NULL,
    try_number  INTEGER NOT NULL,
    max_tries   INTEGER NOT NULL,
    started_at  BIGINT,
    ended_at    BIGINT,
    next_try_at BIGINT,
    output      TEXT,
    item        TEXT,
    error       TEXT,
    PRIMARY KEY (run_id, task_id, map_index)
);

CREATE TABLE attempts (
    run_id     TEXT COLLATE "C" NOT NULL,
    task_id    TEXT COLLATE "C" NOT NULL,
    map_index  INTEGER NOT NULL,
    try_number INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    started_at BIGINT  NOT NULL,
    ended_at   BIGINT,
    pid        INTEGER,
    exit_code  INTEGER,
    error      TEXT,
    log_path   TEXT    NOT NULL,
    PRIMARY KEY (run_id, task_id, map_index, try_number)
);

-- Recovery: attempts whose processes may outlive a crash (few at any time).
CREATE INDEX attempts_open ON attempts (started_at) WHERE ended_at IS NULL;

CREATE TABLE run_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     TEXT COLLATE "C" NOT NULL,
    at         BIGINT  NOT NULL,
    task_id    TEXT COLLATE "C",
    map_index  INTEGER,
    try_number INTEGER,
    state      TEXT    NOT NULL,
    message    TEXT
);

CREATE INDEX run_events_by_run ON run_events (run_id, id);

CREATE TABLE schedule_state (
    pipeline          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    last_interval_end BIGINT,
    paused            BOOLEAN NOT NULL
);
