-- Deliveries (weir's Firehose) created through the API, PostgreSQL flavour. Keep in step with
-- ../sqlite/0011_deliveries.sql. Names sort bytewise ("C"), as in SQLite.

CREATE TABLE deliveries (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    -- The definition in the deliveries/*.yaml format.
    definition TEXT   NOT NULL,
    -- The CreateDeliveryStream request (JSON), described back.
    request    TEXT   NOT NULL,
    -- [{"Key": …, "Value": …}] (JSON).
    tags       TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
