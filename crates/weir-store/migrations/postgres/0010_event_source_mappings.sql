-- Event source mappings made through the Lambda API, PostgreSQL flavour. Keep in step with
-- ../sqlite/0010_event_source_mappings.sql. Names sort bytewise ("C"), as in SQLite.

CREATE TABLE event_source_mappings (
    uuid          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    function_name TEXT COLLATE "C" NOT NULL,
    -- JSON: the mapping's settings (stream, batch size, starting position, retries, …).
    config        TEXT   NOT NULL,
    -- Enabled or Disabled.
    state         TEXT   NOT NULL,
    state_reason  TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
