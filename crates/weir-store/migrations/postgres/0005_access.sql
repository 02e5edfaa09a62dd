-- Credentials and the audit log, PostgreSQL flavour. Keep in step with ../sqlite/0005_access.sql.

CREATE TABLE credentials (
    name          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    role          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    access_key_id TEXT    NOT NULL UNIQUE,
    grants        TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT
);

CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT  NOT NULL,
    credential TEXT,
    role       TEXT,
    source     TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    detail     TEXT
);

CREATE INDEX audit_log_by_time ON audit_log (at);
