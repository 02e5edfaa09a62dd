-- The event that started a run (its pipeline's `triggers:`, or a rule targeting it), as JSON;
-- NULL for runs not started by an event. Tasks read it as `event` in their templates. Keep in
-- step with ../postgres/0014_run_event.sql.

ALTER TABLE runs ADD COLUMN event TEXT;
