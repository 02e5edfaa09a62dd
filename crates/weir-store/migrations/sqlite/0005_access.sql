-- Credentials and the audit log, SQLite flavour. Keep in step with ../postgres/0005_access.sql.

CREATE TABLE credentials (
    name          TEXT    NOT NULL PRIMARY KEY,
    -- viewer, operator or admin.
    role          TEXT    NOT NULL,
    -- Hex SHA-256 of the bearer token; the token itself is never stored.
    token_hash    TEXT    NOT NULL UNIQUE,
    -- The AWS access key id; its secret is derived from it with the server's key file.
    access_key_id TEXT    NOT NULL UNIQUE,
    -- JSON: {"pipelines": [...], "tables": [...], "prefixes": [...]}.
    grants        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    credential TEXT,
    role       TEXT,
    source     TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    -- ok, failed, denied or unauthenticated.
    outcome    TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    detail     TEXT
);

CREATE INDEX audit_log_by_time ON audit_log (at);
