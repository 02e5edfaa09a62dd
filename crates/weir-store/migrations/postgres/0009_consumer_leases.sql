-- Consumer groups' shard leases and checkpoints, PostgreSQL flavour (the Kinesis Client
-- Library's lease table). Keep in step with ../sqlite/0009_consumer_leases.sql. Names sort
-- bytewise ("C"), as in SQLite.

CREATE TABLE consumer_leases (
    group_name    TEXT COLLATE "C" NOT NULL,
    -- The stream as the consumer names it (it tells a stream from an earlier one of that name).
    stream        TEXT COLLATE "C" NOT NULL,
    -- shardId-000000000000
    shard         TEXT COLLATE "C" NOT NULL,
    -- Who holds the lease; NULL when released or never taken.
    owner         TEXT,
    -- Bumped by every take and renewal: a claim names the counter it saw, so two claimants of
    -- one lease cannot both win.
    lease_counter BIGINT NOT NULL,
    -- Milliseconds since the Unix epoch; free to take after that.
    expires_at    BIGINT NOT NULL,
    -- The last processed sequence number, or SHARD_END; NULL before the first checkpoint.
    checkpoint    TEXT,
    -- The offset in the shard where processing resumes.
    next_offset   BIGINT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (group_name, stream, shard)
);
