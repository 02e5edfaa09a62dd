-- How often each execution was redriven and when last, on its row, so that ListExecutions
-- reports them and filters by them (redriveFilter) a page at a time. Keep in step with
-- ../sqlite/0004_execution_redrives.sql.

ALTER TABLE executions ADD COLUMN redrive_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN redriven_at BIGINT;
