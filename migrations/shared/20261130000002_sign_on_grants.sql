-- Single sign-on's grants: the authorization codes a signed-in account's browser
-- carries back to an app, the access tokens an app reads the account's claims with,
-- and the stable, opaque subject (`sub`) each account has for every app. Written once
-- for SQLite and PostgreSQL, like 20261130000001.

-- Where a tile launches its app: the app's own page that signs in through the portal.
ALTER TABLE oidc_clients ADD COLUMN launch_uri TEXT;

-- A code is kept as its SHA-256 only, lives at most 60 seconds and is redeemed once:
-- `redeemed_at` is set by the first redemption; a second one revokes the access
-- tokens the first issued. It is bound to its client, redirect URI and PKCE challenge.
CREATE TABLE oidc_codes (
    code_hash      BYTEA   NOT NULL PRIMARY KEY,
    client_id      TEXT    NOT NULL,
    account_id     BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    scope          TEXT    NOT NULL,
    auth_time      BIGINT  NOT NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,
    redeemed_at    BIGINT
);

-- An access token (for userinfo), kept as its SHA-256; revoked with its code.
CREATE TABLE oidc_access_tokens (
    token_hash  BYTEA   NOT NULL PRIMARY KEY,
    code_hash   BYTEA   NOT NULL,
    client_id   TEXT    NOT NULL,
    account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX oidc_access_tokens_by_code ON oidc_access_tokens (code_hash);

-- `sub`: random, made the first time an account signs in to an app, never changed.
CREATE TABLE oidc_subjects (
    account_id  BIGINT  NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    subject     TEXT    NOT NULL UNIQUE
);
