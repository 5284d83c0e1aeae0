-- Account lockout (issue 4). Counted in the database so every server instance sees
-- the same count, and claimed before the password is checked so parallel attempts
-- cannot get more guesses than the limit.
--
-- failed_count        distinct wrong passwords since the last success or lockout
-- attempts_in_flight  checks claimed but not finished (claimed_at: when the last was)
-- locked_until        Unix seconds; the account refuses every password until then
-- lockout_count       lockouts since the last successful sign-in (grows the lock time)
ALTER TABLE accounts ADD COLUMN failed_count       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN attempts_in_flight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN claimed_at         INTEGER;
ALTER TABLE accounts ADD COLUMN locked_until       INTEGER;
ALTER TABLE accounts ADD COLUMN lockout_count      INTEGER NOT NULL DEFAULT 0;

-- One row per distinct wrong password in the current failure streak, so the same
-- wrong password typed again does not count again (NIST SP 800-63B 5.2.2). The
-- fingerprint is the first 16 bytes of the argon2id output of the wrong password
-- under the account's own salt and parameters: a by-product of the check, exactly as
-- costly to attack as the stored hash itself, and useless once the streak ends.
CREATE TABLE sign_in_failures (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    fingerprint BLOB    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (account_id, fingerprint)
);
