-- Transforms' bookmarks: where a bookmarked transform's last successful run left off, SQLite
-- flavour. Keep in step with ../postgres/0016_transform_bookmarks.sql.

CREATE TABLE transform_bookmarks (
    transform  TEXT    NOT NULL PRIMARY KEY,
    -- JSON: {"column": name, "type": arrow type, "value": high-water mark as text}, or
    -- {"shards": {shard id: next offset}}, or {"objects": count} for a prefix source.
    state      TEXT    NOT NULL,
    -- The run that advanced it last.
    run        TEXT,
    updated_at INTEGER NOT NULL
);

-- The objects a prefix source has read (a rewritten object, with a new etag, is read again).
CREATE TABLE transform_bookmark_objects (
    transform TEXT NOT NULL,
    key       TEXT NOT NULL,
    etag      TEXT,
    PRIMARY KEY (transform, key)
);
