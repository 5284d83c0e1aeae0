-- Single sign-on (OpenID Connect): the school's apps that sign students in through the
-- portal, and the keys that sign their id tokens. Written once for SQLite and
-- PostgreSQL (TEXT and BIGINT read alike on both); both stores run this folder with
-- their own, by version: a new migration, in any folder, is numbered above every
-- version in all three.

-- A registered app (`server clients add`). A confidential client's secret is kept only
-- as its SHA-256 (it is 256 random bits, shown once); a public one has none and must
-- use PKCE.
CREATE TABLE oidc_clients (
    client_id        TEXT    NOT NULL PRIMARY KEY,
    name             TEXT    NOT NULL,
    secret_hash      TEXT,
    -- The redirect URIs, one per line, each matched exactly.
    redirect_uris    TEXT    NOT NULL,
    -- Who may sign in to it and sees its tile: role names, comma-separated.
    roles            TEXT    NOT NULL,
    tile_title       TEXT,
    tile_description TEXT,
    created_at       BIGINT  NOT NULL
);

-- The id-token signing keys. The active one signs; a retired one stays published in
-- the JWKS until the tokens it signed have expired, and is deleted after (retention).
-- The public half is kept as its JWK, so publishing never reads a private key.
CREATE TABLE oidc_signing_keys (
    kid          TEXT    NOT NULL PRIMARY KEY,
    algorithm    TEXT    NOT NULL,
    private_pem  TEXT    NOT NULL,
    public_jwk   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    retired_at   BIGINT
);

-- One active key per algorithm: the first start of several instances at once stores
-- one key, and of two rotations at once one wins.
CREATE UNIQUE INDEX oidc_signing_keys_one_active
    ON oidc_signing_keys (algorithm) WHERE retired_at IS NULL;
