-- Secrets, PostgreSQL flavour: each value sealed by the engine (AEAD, key kept outside this
-- database), never in plain text. Keep in step with ../sqlite/0006_secrets.sql. Names sort
-- bytewise ("C"), as in SQLite.

CREATE TABLE secrets (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    -- base64 of nonce and ciphertext with its tag; the name is bound as associated data.
    sealed     TEXT   NOT NULL,
    -- Which key sealed it (a digest of the key, not the key).
    key_id     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
