-- Accounts, their security answers, server-side sessions and the audit trail.
-- Times are Unix seconds. Secrets are stored only as argon2id PHC strings; session
-- tokens only as SHA-256 hashes.

CREATE TABLE accounts (
    id                  INTEGER PRIMARY KEY,
    login_id            TEXT    NOT NULL UNIQUE,
    full_name           TEXT    NOT NULL,
    password_hash       TEXT    NOT NULL,
    password_temporary  INTEGER NOT NULL CHECK (password_temporary IN (0, 1)),
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER,
    last_sign_in_at     INTEGER
);

CREATE TABLE security_answers (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    slot        INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 2),
    question_id TEXT    NOT NULL,
    answer_hash TEXT    NOT NULL,
    set_at      INTEGER NOT NULL,
    PRIMARY KEY (account_id, slot)
);

CREATE TABLE sessions (
    token_hash        BLOB    PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    last_seen_at      INTEGER NOT NULL,
    pending_questions TEXT
);
CREATE INDEX sessions_by_account ON sessions (account_id);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    client     TEXT,
    detail     TEXT
);
CREATE INDEX audit_events_by_account ON audit_events (account_id, at);
