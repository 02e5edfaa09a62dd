-- Consumer groups' shard leases and checkpoints, SQLite flavour (the Kinesis Client Library's
-- lease table). Keep in step with ../postgres/0009_consumer_leases.sql.

CREATE TABLE consumer_leases (
    group_name    TEXT    NOT NULL,
    -- The stream as the consumer names it (it tells a stream from an earlier one of that name).
    stream        TEXT    NOT NULL,
    -- shardId-000000000000
    shard         TEXT    NOT NULL,
    -- Who holds the lease; NULL when released or never taken.
    owner         TEXT,
    -- Bumped by every take and renewal: a claim names the counter it saw, so two claimants of
    -- one lease cannot both win.
    lease_counter INTEGER NOT NULL,
    -- Milliseconds since the Unix epoch; free to take after that.
    expires_at    INTEGER NOT NULL,
    -- The last processed sequence number, or SHARD_END; NULL before the first checkpoint.
    checkpoint    TEXT,
    -- The offset in the shard where processing resumes.
    next_offset   INTEGER,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (group_name, stream, shard)
);
