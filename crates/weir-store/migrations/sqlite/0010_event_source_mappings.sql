-- Event source mappings made through the Lambda API, SQLite flavour. Keep in step with
-- ../postgres/0010_event_source_mappings.sql.

CREATE TABLE event_source_mappings (
    uuid          TEXT    NOT NULL PRIMARY KEY,
    function_name TEXT    NOT NULL,
    -- JSON: the mapping's settings (stream, batch size, starting position, retries, …).
    config        TEXT    NOT NULL,
    -- Enabled or Disabled.
    state         TEXT    NOT NULL,
    state_reason  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
