-- Issue 14: nothing grows without bound, and answer guessing is limited by a leaky
-- bucket per login ID instead of a fixed window.

-- The retention job deletes old audit events and expired forgot-password attempts.
CREATE INDEX audit_events_by_time ON audit_events (at);
CREATE INDEX reset_challenges_by_time ON reset_challenges (created_at);

-- Wrong answers per login ID: a bucket that fills by 1000 per wrong answer and empties
-- by the limit's size over its window (level in thousandths, as of level_at). It
-- replaces the fixed window, which let 4 wrong answers an hour go on for ever.
ALTER TABLE reset_limits ADD COLUMN level BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reset_limits ADD COLUMN level_at BIGINT NOT NULL DEFAULT 0;
UPDATE reset_limits SET level = failures * 1000, level_at = window_start;
ALTER TABLE reset_limits DROP COLUMN window_start;
ALTER TABLE reset_limits DROP COLUMN failures;
