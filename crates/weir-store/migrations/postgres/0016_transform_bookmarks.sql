-- Transforms' bookmarks: where a bookmarked transform's last successful run left off,
-- PostgreSQL flavour. Keep in step with ../sqlite/0016_transform_bookmarks.sql. Names sort
-- bytewise ("C"), as in SQLite.

CREATE TABLE transform_bookmarks (
    transform  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    -- JSON: {"column": name, "type": arrow type, "value": high-water mark as text}, or
    -- {"shards": {shard id: next offset}}, or {"objects": count} for a prefix source.
    state      TEXT   NOT NULL,
    -- The run that advanced it last.
    run        TEXT,
    updated_at BIGINT NOT NULL
);

-- The objects a prefix source has read (a rewritten object, with a new etag, is read again).
CREATE TABLE transform_bookmark_objects (
    transform TEXT COLLATE "C" NOT NULL,
    key       TEXT COLLATE "C" NOT NULL,
    etag      TEXT,
    PRIMARY KEY (transform, key)
);
