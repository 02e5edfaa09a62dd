-- Saved queries: the charts of the dashboards made in the SQL page (QuickSight's job), SQLite
-- flavour. Keep in step with ../postgres/0015_saved_queries.sql.

CREATE TABLE saved_queries (
    dashboard  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    -- Read-only SQL, checked by the lake when saved.
    sql        TEXT    NOT NULL,
    -- {"type": "bar|line|area|scatter|table", "x": column, "y": [columns]} (JSON).
    chart      TEXT    NOT NULL,
    -- Where the chart sits on its dashboard (ascending; ties by name).
    position   INTEGER NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (dashboard, name)
);
