-- Issue 14: a sign-in for a login ID that does not exist does the same database work as
-- a wrong password for one that does (a claim before the hash, a counted failure after
-- it), so the time an answer takes does not tell which login IDs exist. Rows go when
-- idle longer than the longest lockout (the retention job).
CREATE TABLE unknown_sign_ins (
    login_key          TEXT   PRIMARY KEY,
    attempts_in_flight INTEGER NOT NULL DEFAULT 0,
    claimed_at         INTEGER NOT NULL,
    failed_count       INTEGER NOT NULL DEFAULT 0,
    last_failed_at     INTEGER
);
CREATE INDEX unknown_sign_ins_by_time ON unknown_sign_ins (claimed_at);
