-- Browser sessions ended by signing out, SQLite flavour. Keep in step with
-- ../postgres/0007_ended_sessions.sql. A session's cookie is signed and names its expiry; a row
-- here refuses it until then (rows past their expiry mean nothing and are not read).

CREATE TABLE ended_sessions (
    id         TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
