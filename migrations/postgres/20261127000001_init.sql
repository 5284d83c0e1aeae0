-- The PostgreSQL schema: the same tables as migrations/sqlite (one file here, since
-- PostgreSQL starts at this version). Times are Unix seconds (BIGINT). Secrets are
-- stored only as argon2id PHC strings; tokens only as SHA-256 hashes.

CREATE TABLE schools (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE accounts (
    id                    BIGSERIAL PRIMARY KEY,
    login_id              TEXT    NOT NULL UNIQUE,
    full_name             TEXT    NOT NULL,
    password_hash         TEXT    NOT NULL,
    password_temporary    BOOLEAN NOT NULL,
    created_at            BIGINT  NOT NULL,
    password_changed_at   BIGINT,
    last_sign_in_at       BIGINT,
    failed_count          BIGINT  NOT NULL DEFAULT 0,
    attempts_in_flight    BIGINT  NOT NULL DEFAULT 0,
    claimed_at            BIGINT,
    locked_until          BIGINT,
    lockout_count         BIGINT  NOT NULL DEFAULT 0,
    reset_notice_at       BIGINT,
    role                  TEXT    NOT NULL DEFAULT 'student'
                          CHECK (role IN ('student', 'staff', 'hq')),
    school_code           TEXT REFERENCES schools (code),
    class_name            TEXT,
    temporary_expires_at  BIGINT
);
CREATE INDEX accounts_by_school_class ON accounts (school_code, class_name, full_name);

CREATE TABLE security_answers (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    slot        BIGINT NOT NULL CHECK (slot BETWEEN 0 AND 2),
    question_id TEXT   NOT NULL,
    answer_hash TEXT   NOT NULL,
    set_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, slot)
);

CREATE TABLE sessions (
    token_hash        BYTEA   PRIMARY KEY,
    account_id        BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        BIGINT  NOT NULL,
    last_seen_at      BIGINT  NOT NULL,
    pending_questions TEXT,
    reauth_at         BIGINT,
    redo_questions    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sessions_by_account ON sessions (account_id);

CREATE TABLE audit_events (
    id         BIGSERIAL PRIMARY KEY,
    at         BIGINT NOT NULL,
    account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    actor      TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    client     TEXT,
    detail     TEXT
);
CREATE INDEX audit_events_by_account ON audit_events (account_id, id);

CREATE TABLE sign_in_failures (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    fingerprint BYTEA  NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (account_id, fingerprint)
);

CREATE TABLE password_history (
    id            BIGSERIAL PRIMARY KEY,
    account_id    BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    temporary     BOOLEAN NOT NULL,
    replaced_at   BIGINT  NOT NULL
);
CREATE INDEX password_history_by_account ON password_history (account_id, id);

CREATE TABLE reset_challenges (
    token_hash  BYTEA  PRIMARY KEY,
    login_key   TEXT   NOT NULL,
    account_id  BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    slots       TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    verified_at BIGINT
);

CREATE TABLE reset_limits (
    login_key     TEXT   PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    failures      BIGINT NOT NULL,
    blocked_until BIGINT
);

-- The per-installation secret is written by the server at its first start.
CREATE TABLE installation (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret BYTEA   NOT NULL
);

CREATE TABLE import_batches (
    id          BIGSERIAL PRIMARY KEY,
    school_code TEXT   NOT NULL REFERENCES schools (code),
    staff_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    file        BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE letter_batches (
    id         BIGSERIAL PRIMARY KEY,
    staff_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    nonce      BYTEA  NOT NULL,
    sealed     BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
