-- Self-service after onboarding (issue 3): recent sign-in for SSPR, redoing the
-- questions, password history, and the forgot-password challenge with its limits.

-- When the password was last typed in this session (sign-in or the SSPR sign-in page).
ALTER TABLE sessions ADD COLUMN reauth_at INTEGER;
-- "Set up security questions again" was started (after a recent sign-in).
ALTER TABLE sessions ADD COLUMN redo_questions INTEGER NOT NULL DEFAULT 0;
-- Show "your password was reset" at the next sign-in.
ALTER TABLE accounts ADD COLUMN reset_notice_at INTEGER;

-- Earlier password hashes: the last few, and every temporary one, which may never be
-- chosen again.
CREATE TABLE password_history (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    temporary     INTEGER NOT NULL CHECK (temporary IN (0, 1)),
    replaced_at   INTEGER NOT NULL
);
CREATE INDEX password_history_by_account ON password_history (account_id, id);

-- A forgot-password attempt, found by the hash of its cookie token. `login_key` is the
-- normalised login ID as typed (the account may not exist); `slots` the two questions
-- asked (e.g. "0,2"); `verified_at` set once the answers matched.
CREATE TABLE reset_challenges (
    token_hash  BLOB    PRIMARY KEY,
    login_key   TEXT    NOT NULL,
    account_id  INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    slots       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    verified_at INTEGER
);

-- Wrong answers per login ID (existing or not, so the limit itself reveals nothing).
CREATE TABLE reset_limits (
    login_key     TEXT    PRIMARY KEY,
    window_start  INTEGER NOT NULL,
    failures      INTEGER NOT NULL,
    blocked_until INTEGER
);

-- A per-installation secret: the stable, plausible questions shown for login IDs that
-- have no answers are derived from it, so nobody can predict them elsewhere.
CREATE TABLE installation (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB    NOT NULL
);
INSERT INTO installation (id, secret) VALUES (1, randomblob(32));
