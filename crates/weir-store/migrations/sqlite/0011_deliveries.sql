-- Deliveries (weir's Firehose) created through the API, SQLite flavour. Keep in step with
-- ../postgres/0011_deliveries.sql.

CREATE TABLE deliveries (
    name       TEXT    NOT NULL PRIMARY KEY,
    -- The definition in the deliveries/*.yaml format.
    definition TEXT    NOT NULL,
    -- The CreateDeliveryStream request (JSON), described back.
    request    TEXT    NOT NULL,
    -- [{"Key": …, "Value": …}] (JSON).
    tags       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
