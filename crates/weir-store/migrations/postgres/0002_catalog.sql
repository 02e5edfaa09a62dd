-- The lake's catalog, PostgreSQL flavour: databases, tables, and each table's manifest (the files
-- that make it up; queries read only these, so a write becomes visible when its rows commit). Keep
-- in step with ../sqlite/0002_catalog.sql. Identifiers sort bytewise ("C"), as in SQLite.

CREATE TABLE catalog_databases (
    name        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    description TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE catalog_tables (
    database      TEXT COLLATE "C" NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    -- Prefix in the lake, without a trailing slash.
    location      TEXT   NOT NULL,
    -- parquet, csv, json.
    format        TEXT   NOT NULL,
    -- JSON: the data columns, and how partition values are read from keys.
    columns       TEXT   NOT NULL,
    partitioning  TEXT   NOT NULL,
    -- Statistics of the manifest, kept in step with catalog_files by the writer.
    row_count     BIGINT,
    size_bytes    BIGINT NOT NULL,
    file_count    BIGINT NOT NULL,
    last_modified BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (database, name)
);

CREATE TABLE catalog_files (
    database         TEXT COLLATE "C" NOT NULL,
    table_name       TEXT COLLATE "C" NOT NULL,
    key              TEXT COLLATE "C" NOT NULL,
    size             BIGINT NOT NULL,
    last_modified    BIGINT NOT NULL,
    etag             TEXT,
    -- JSON array of text, in the order of the table's partition columns.
    partition_values TEXT   NOT NULL,
    row_count        BIGINT,
    PRIMARY KEY (database, table_name, key)
);
