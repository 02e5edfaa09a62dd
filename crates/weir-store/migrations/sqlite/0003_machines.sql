-- State machines and their executions, SQLite flavour. Keep in step with
-- ../postgres/0003_machines.sql. The two tables written per transition are ordinary rowid tables,
-- not WITHOUT ROWID: their rows can be large (an input of thousands of items), and a large row in
-- a WITHOUT ROWID table overflows its key's b-tree cell, which every later insert then copies out
-- to compare keys with.

CREATE TABLE state_machines (
    arn          TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    -- STANDARD or EXPRESS.
    machine_type TEXT    NOT NULL,
    -- The Amazon States Language document, as given.
    definition   TEXT    NOT NULL,
    role_arn     TEXT    NOT NULL,
    -- JSON: arguments weir keeps but has no use for (loggingConfiguration, tracingConfiguration,
    -- tags, …), so that Describe returns what Create was given.
    settings     TEXT    NOT NULL,
    -- `api`, or the project file it was loaded from.
    source       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE executions (
    arn          TEXT    NOT NULL PRIMARY KEY,
    machine_arn  TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    -- RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED.
    status       TEXT    NOT NULL,
    -- JSON text, as given / produced.
    input        TEXT    NOT NULL,
    output       TEXT,
    error        TEXT,
    cause        TEXT,
    -- The definition this execution runs: an update of the machine does not change it.
    definition   TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    stopped_at   INTEGER
);
CREATE INDEX executions_of_machine ON executions (machine_arn, started_at);
CREATE INDEX executions_running ON executions (status);

-- The execution history, in Step Functions' event types and details.
CREATE TABLE execution_events (
    execution_arn TEXT    NOT NULL,
    id            INTEGER NOT NULL,
    previous_id   INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    event_type    TEXT    NOT NULL,
    -- JSON: the event's details object (e.g. stateEnteredEventDetails).
    details       TEXT    NOT NULL,
    PRIMARY KEY (execution_arn, id)
);

-- What the interpreter needs to resume: per state visit (a path naming the branch, iteration
-- and sequence number), what it is waiting for or how it ended.
CREATE TABLE execution_steps (
    execution_arn TEXT    NOT NULL,
    step          TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    record        TEXT    NOT NULL,
    PRIMARY KEY (execution_arn, step)
);
