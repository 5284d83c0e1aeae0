-- Issue 14: "set up security questions again" ends on its own. It was a flag that only
-- saving cleared, so an abandoned redo left the set-up screens open without the
-- password; now it lasts until redo_until (set only under a recent sign-in).
ALTER TABLE sessions ADD COLUMN redo_until BIGINT;
ALTER TABLE sessions DROP COLUMN redo_questions;
-- Pending choices are now sealed with the session's own key; drop any kept in clear.
UPDATE sessions SET pending_questions = NULL;
