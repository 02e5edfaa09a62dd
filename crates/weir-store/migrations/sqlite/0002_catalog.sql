-- The lake's catalog, SQLite flavour: databases, tables, and each table's manifest (the files that
-- make it up; queries read only these, so a write becomes visible when its rows commit). Keep in
-- step with ../postgres/0002_catalog.sql.

CREATE TABLE catalog_databases (
    name        TEXT    NOT NULL PRIMARY KEY,
    description TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE catalog_tables (
    database      TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    -- Prefix in the lake, without a trailing slash.
    location      TEXT    NOT NULL,
    -- parquet, csv, json.
    format        TEXT    NOT NULL,
    -- JSON: the data columns, and how partition values are read from keys.
    columns       TEXT    NOT NULL,
    partitioning  TEXT    NOT NULL,
    -- Statistics of the manifest, kept in step with catalog_files by the writer.
    row_count     INTEGER,
    size_bytes    INTEGER NOT NULL,
    file_count    INTEGER NOT NULL,
    last_modified INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (database, name)
);

CREATE TABLE catalog_files (
    database         TEXT    NOT NULL,
    table_name       TEXT    NOT NULL,
    key              TEXT    NOT NULL,
    size             INTEGER NOT NULL,
    last_modified    INTEGER NOT NULL,
    etag             TEXT,
    -- JSON array of text, in the order of the table's partition columns.
    partition_values TEXT    NOT NULL,
    row_count        INTEGER,
    PRIMARY KEY (database, table_name, key)
);
