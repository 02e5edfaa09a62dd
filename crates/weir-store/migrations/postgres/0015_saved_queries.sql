-- Saved queries: the charts of the dashboards made in the SQL page (QuickSight's job),
-- PostgreSQL flavour. Keep in step with ../sqlite/0015_saved_queries.sql. Names sort bytewise
-- ("C"), as in SQLite.

CREATE TABLE saved_queries (
    dashboard  TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    -- Read-only SQL, checked by the lake when saved.
    sql        TEXT    NOT NULL,
    -- {"type": "bar|line|area|scatter|table", "x": column, "y": [columns]} (JSON).
    chart      TEXT    NOT NULL,
    -- Where the chart sits on its dashboard (ascending; ties by name).
    position   INTEGER NOT NULL,
    created_by TEXT,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (dashboard, name)
);
