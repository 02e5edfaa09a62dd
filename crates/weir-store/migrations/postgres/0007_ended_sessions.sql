-- Browser sessions ended by signing out, PostgreSQL flavour. Keep in step with
-- ../sqlite/0007_ended_sessions.sql.

CREATE TABLE ended_sessions (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
