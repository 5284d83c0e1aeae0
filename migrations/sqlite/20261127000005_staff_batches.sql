-- Staff tools (issue 5): an uploaded class list waits here between its preview and
-- the "Import" button; the letters of a batch (with the temporary passwords) wait
-- here sealed to the staff member's session, for an hour.

CREATE TABLE import_batches (
    id          INTEGER PRIMARY KEY,
    school_code TEXT    NOT NULL REFERENCES schools (code),
    staff_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    file        BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- `sealed` is ChaCha20-Poly1305 ciphertext under a key derived from the staff
-- member's session token, which the database never holds: a copy of this table
-- reveals no password.
CREATE TABLE letter_batches (
    id         INTEGER PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    nonce      BLOB    NOT NULL,
    sealed     BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
