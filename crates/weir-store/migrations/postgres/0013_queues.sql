-- Queues (weir's SQS), PostgreSQL flavour: queues, their messages, what receiving a message changed,
-- and FIFO queues' de-duplication entries. Keep in step with ../sqlite/0013_queues.sql. Times
-- are milliseconds since the epoch.
-- Names sort bytewise ("C"), as in SQLite.

CREATE TABLE queues (
    name        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    url         TEXT    NOT NULL,
    arn         TEXT    NOT NULL,
    -- JSON object of the attributes set on the queue (SQS's names, values as strings).
    attributes  TEXT    NOT NULL,
    -- JSON object of tag keys to values.
    tags        TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    modified_ms BIGINT  NOT NULL
);

-- A message as sent, written once. seq is unique across queues and grows in send order, so a
-- redrive to a dead-letter queue changes only `queue`.
CREATE TABLE queue_messages (
    seq                       BIGINT NOT NULL PRIMARY KEY,
    queue                     TEXT COLLATE "C" NOT NULL,
    message_id                TEXT    NOT NULL,
    body                      TEXT    NOT NULL,
    -- JSON objects: name to {DataType, StringValue | BinaryValue (base64)}.
    message_attributes        TEXT    NOT NULL,
    system_attributes         TEXT    NOT NULL,
    md5_of_body               TEXT    NOT NULL,
    md5_of_message_attributes TEXT,
    md5_of_system_attributes  TEXT,
    sent_ms                   BIGINT  NOT NULL,
    -- When the message first becomes visible (send time plus its delay).
    visible_ms                BIGINT  NOT NULL,
    group_id                  TEXT,
    dedup_id                  TEXT,
    sequence_number           TEXT,
    -- Body plus message attributes, in bytes.
    size                      BIGINT  NOT NULL
);
CREATE INDEX queue_messages_by_queue ON queue_messages (queue, seq);

-- What receives changed: a narrow row per received message, so a receive never rewrites a body.
CREATE TABLE queue_receipts (
    seq              BIGINT NOT NULL PRIMARY KEY,
    queue            TEXT    NOT NULL,
    visible_ms       BIGINT  NOT NULL,
    receive_count    BIGINT  NOT NULL,
    first_receive_ms BIGINT,
    -- The receive's random number, which its receipt handle carries.
    nonce            BIGINT NOT NULL
);
CREATE INDEX queue_receipts_by_queue ON queue_receipts (queue, seq);

-- FIFO de-duplication ids, remembered for five minutes.
CREATE TABLE queue_dedups (
    queue           TEXT    NOT NULL,
    dedup_key       TEXT    NOT NULL,
    message_id      TEXT    NOT NULL,
    sequence_number TEXT,
    expires_ms      BIGINT  NOT NULL,
    PRIMARY KEY (queue, dedup_key)
);
