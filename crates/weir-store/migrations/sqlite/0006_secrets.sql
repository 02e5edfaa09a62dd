-- Secrets, SQLite flavour: each value sealed by the engine (AEAD, key kept outside this database),
-- never in plain text. Keep in step with ../postgres/0006_secrets.sql.

CREATE TABLE secrets (
    name       TEXT    NOT NULL PRIMARY KEY,
    -- base64 of nonce and ciphertext with its tag; the name is bound as associated data.
    sealed     TEXT    NOT NULL,
    -- Which key sealed it (a digest of the key, not the key).
    key_id     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
