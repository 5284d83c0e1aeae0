-- School staff tools (issue 5): schools, roles, classes, expiring temporary passwords.

CREATE TABLE schools (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

-- The role comes from the login ID's domain when the account is created; it is read
-- from here, never from what a browser sends.
ALTER TABLE accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'student'
    CHECK (role IN ('student', 'staff', 'hq'));
ALTER TABLE accounts ADD COLUMN school_code TEXT REFERENCES schools (code);
ALTER TABLE accounts ADD COLUMN class_name TEXT;
-- A temporary password stops working after this time (Unix seconds).
ALTER TABLE accounts ADD COLUMN temporary_expires_at INTEGER;

CREATE INDEX accounts_by_school_class ON accounts (school_code, class_name, full_name);
