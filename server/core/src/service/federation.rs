//! Single sign-on's registry and keys: the school's apps that sign students in through
//! the portal (OpenID Connect clients, registered from the command line) and the keys
//! that sign their id tokens. The protocol itself (JOSE, the JWKS) is the server's: this
//! file keeps the rules — what a client may be registered with, that a secret is shown
//! once and kept only hashed, that one key signs and a retired one stays published
//! until its tokens have expired.

use rand::RngCore as _;

use super::{internal, token_hash, NewToken, Portal};
use crate::ports::{ClientRecord, ClientTile, SigningKeyRecord, StoreError};
use domain::audit::AuditKind;
use domain::provisioning::Role;
use domain::secret::Secret;
use proto::error::AppError;

/// How long an id token (and the access token issued with it) is valid. A retired
/// signing key stays in the JWKS this long (and [`CLOCK_SKEW_SECS`]) after it signed
/// its last token.
pub const TOKEN_SECS: i64 = 300;
/// How far a relying party's clock may be behind ours.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// The longest app name and tile text.
pub const MAX_CLIENT_TEXT_CHARS: usize = 100;
/// The most redirect URIs one client may have.
pub const MAX_REDIRECT_URIS: usize = 10;

/// What `server clients add` asks to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// A public client (an app in the browser or on a device) has no secret and must
    /// use PKCE; a confidential one (a server) gets a secret.
    pub public: bool,
    /// Who may sign in to it and sees its tile; at least one role.
    pub roles: Vec<Role>,
    pub tile: Option<ClientTile>,
    /// The app's page that signs in through the portal: where its tile leads.
    pub launch_uri: Option<String>,
}

/// A client just registered: its id, and a confidential client's secret — shown this
/// once, kept only as its hash.
#[derive(Debug)]
pub struct RegisteredClient {
    pub client_id: String,
    pub secret: Option<Secret>,
}

/// Why a client cannot be registered as asked. Each says what to change; nothing was
/// stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientProblem {
    #[error(
        "the name must be 1 to {MAX_CLIENT_TEXT_CHARS} characters, without control characters"
    )]
    Name,
    #[error("give at least one --redirect-uri, and at most {MAX_REDIRECT_URIS}")]
    RedirectUriCount,
    #[error("the redirect URI {uri:?} {why}")]
    RedirectUri { uri: String, why: &'static str },
    #[error("the redirect URI {0:?} is given twice")]
    RedirectUriTwice(String),
    #[error("give at least one role (student, staff, hq)")]
    NoRoles,
    #[error("the tile's title and description must be 1 to {MAX_CLIENT_TEXT_CHARS} characters, without control characters")]
    Tile,
    #[error("the launch URI {uri:?} {why}")]
    LaunchUri { uri: String, why: &'static str },
    #[error("a tile needs --launch-uri: the app's page that signs in through the portal")]
    TileWithoutLaunchUri,
    #[error("{0}")]
    Failed(AppError),
}

/// A new signing key, made by the server's key generator.
pub struct NewSigningKey {
    pub kid: String,
    /// The JOSE algorithm (`RS256`).
    pub algorithm: String,
    pub private_pem: Secret,
    /// The public half as the JWK to publish (JSON).
    pub public_jwk: String,
}

impl Portal {
    /// Registers a client after checking every field; prints nothing, stores the
    /// secret's SHA-256 only (it is 256 random bits: a slow hash would add nothing but
    /// cost on every token request). Audited (`client_registered`).
    pub async fn register_client(
        &self,
        new: NewClient,
        actor: &str,
    ) -> Result<RegisteredClient, ClientProblem> {
        check_new_client(&new)?;
        // A secret is made as a session token is: 256 random bits, base64url.
        let secret = (!new.public).then(|| Secret::new(NewToken::generate().0.expose()));
        let record = ClientRecord {
            client_id: random_client_id(),
            name: new.name.trim().to_string(),
            secret_hash: secret.as_ref().map(client_secret_hash),
            redirect_uris: new.redirect_uris,
            roles: new.roles,
            tile: new.tile.map(|tile| ClientTile {
                title: tile.title.trim().to_string(),
                description: tile.description.map(|d| d.trim().to_string()),
            }),
            launch_uri: new.launch_uri,
            created_at: self.now(),
        };
        self.store
            .add_client(&record)
            .await
            .map_err(|e| ClientProblem::Failed(internal(e)))?;
        self.forget_tiles();
        self.audit_as(
            None,
            actor,
            AuditKind::ClientRegistered,
            None,
            Some(&format!("{} ({})", record.client_id, record.name)),
        )
        .await;
        Ok(RegisteredClient {
            client_id: record.client_id,
            secret,
        })
    }

    /// Every registered client, oldest first.
    pub async fn registered_clients(&self) -> Result<Vec<ClientRecord>, AppError> {
        self.store.clients().await.map_err(internal)
    }

    /// Removes a client; `false` if none has this id. Audited (`client_removed`).
    pub async fn remove_client(&self, client_id: &str, actor: &str) -> Result<bool, AppError> {
        let removed = self
            .store
            .remove_client(client_id)
            .await
            .map_err(internal)?;
        if removed {
            self.forget_tiles();
            self.audit_as(None, actor, AuditKind::ClientRemoved, None, Some(client_id))
                .await;
        }
        Ok(removed)
    }

    /// Makes sure a key signs id tokens: at the first start `make` generates one and it
    /// is stored; later starts (and other instances) find it. Several instances
    /// starting at once store one key between them. Whether a key was made here.
    pub async fn ensure_signing_key(
        &self,
        algorithm: &str,
        make: impl FnOnce() -> Result<NewSigningKey, String>,
    ) -> Result<bool, String> {
        let now = self.now();
        let keys = self
            .store
            .signing_keys(now)
            .await
            .map_err(|e| e.to_string())?;
        if keys
            .iter()
            .any(|key| key.algorithm == algorithm && key.retired_at.is_none())
        {
            return Ok(false);
        }
        let key = make()?;
        let stored = self
            .store
            .add_first_signing_key(&record(key, now))
            .await
            .map_err(|e| e.to_string())?;
        if stored {
            self.audit_as(
                None,
                "server",
                AuditKind::SigningKeyCreated,
                None,
                Some("first start"),
            )
            .await;
        }
        Ok(stored)
    }

    /// Makes `key` the signing key; the one it replaces stays published until the
    /// tokens it signed have expired. Audited (`signing_key_created`).
    pub async fn rotate_signing_key(&self, key: NewSigningKey, actor: &str) -> Result<(), String> {
        let kid = key.kid.clone();
        match self
            .store
            .rotate_signing_key(&record(key, self.now()))
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err("another rotation happened at the same moment; run it again".into())
            }
            Err(error) => return Err(error.to_string()),
        }
        self.audit_as(
            None,
            actor,
            AuditKind::SigningKeyCreated,
            None,
            Some(&format!("rotation: {kid}")),
        )
        .await;
        Ok(())
    }

    /// The keys the JWKS publishes: the active ones and those retired so recently that
    /// tokens they signed may still be in use. The active key first (the one that
    /// signs), then the newest.
    pub async fn published_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, AppError> {
        self.store
            .signing_keys(self.now() - TOKEN_SECS - CLOCK_SKEW_SECS)
            .await
            .map_err(internal)
    }
}

fn record(key: NewSigningKey, now: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: key.kid,
        algorithm: key.algorithm,
        private_pem: key.private_pem,
        public_jwk: key.public_jwk,
        created_at: now,
        retired_at: None,
    }
}

/// A client id: 128 random bits in lowercase hex, safe to type in any configuration
/// file or command line (base64url could begin with `-` and read as an option).
fn random_client_id() -> String {
    let mut buf = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex(&buf)
}

/// How a client secret is kept: its SHA-256 (the session tokens' [`token_hash`]), hex.
pub fn client_secret_hash(secret: &Secret) -> String {
    hex(&token_hash(secret.expose()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn plain_text(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && text.chars().count() <= MAX_CLIENT_TEXT_CHARS
        && !text.chars().any(char::is_control)
}

/// Every rule of a registration, before anything is stored.
pub fn check_new_client(new: &NewClient) -> Result<(), ClientProblem> {
    if !plain_text(&new.name) {
        return Err(ClientProblem::Name);
    }
    if new.redirect_uris.is_empty() || new.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(ClientProblem::RedirectUriCount);
    }
    for (i, uri) in new.redirect_uris.iter().enumerate() {
        check_redirect_uri(uri).map_err(|why| ClientProblem::RedirectUri {
            uri: uri.clone(),
            why,
        })?;
        if new.redirect_uris[..i].contains(uri) {
            return Err(ClientProblem::RedirectUriTwice(uri.clone()));
        }
    }
    if new.roles.is_empty() {
        return Err(ClientProblem::NoRoles);
    }
    if let Some(tile) = &new.tile {
        if !plain_text(&tile.title) || tile.description.as_deref().is_some_and(|d| !plain_text(d)) {
            return Err(ClientProblem::Tile);
        }
        if new.launch_uri.is_none() {
            return Err(ClientProblem::TileWithoutLaunchUri);
        }
    }
    if let Some(uri) = &new.launch_uri {
        check_redirect_uri(uri).map_err(|why| ClientProblem::LaunchUri {
            uri: uri.clone(),
            why,
        })?;
    }
    Ok(())
}

/// A redirect URI the portal may send a code to: an absolute `https` URL, or `http`
/// to this machine only (loopback, for development: RFC 8252), without a fragment
/// (RFC 6749 3.1.2) or user information, and compared later character for character.
pub fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    let parsed = url::Url::parse(uri).map_err(|_| "is not an absolute URL")?;
    if parsed.as_str() != uri && parsed.as_str() != format!("{uri}/") {
        return Err("is not written in its normal form (as a browser would send it back)");
    }
    if parsed.fragment().is_some() {
        return Err("must not have a fragment (#…)");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry a user name or password");
    }
    let loopback = matches!(parsed.host(), Some(url::Host::Domain("localhost")))
        || matches!(parsed.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(parsed.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("must use https (http is allowed only for localhost and 127.0.0.1)"),
        _ => Err("must be an https URL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uris: &[&str]) -> NewClient {
        NewClient {
            name: "Student Learning Space".into(),
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            public: false,
            roles: vec![Role::Student],
            tile: None,
            launch_uri: None,
        }
    }

    #[test]
    fn redirect_uris_are_https_or_loopback_http_without_fragment() {
        for good in [
            "https://sls.school.example/callback",
            "https://sls.school.example:8443/oidc/cb?app=1",
            "http://127.0.0.1:8080/redirect_uri",
            "http://localhost/cb",
            "http://[::1]:9000/cb",
        ] {
            assert_eq!(check_redirect_uri(good), Ok(()), "{good}");
        }
        for bad in [
            "http://sls.school.example/callback",
            "https://sls.school.example/cb#frag",
            "https://user:pw@sls.school.example/cb",
            "/callback",
            "javascript:alert(1)",
            "ftp://127.0.0.1/cb",
            "HTTPS://SLS.school.example/cb",
            // A newline would split the stored list into two addresses.
            "https://sls.school.example/cb\nhttps://evil.example/",
            "https://sls.school.example/c\tb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_registration_needs_a_name_a_redirect_uri_and_a_role() {
        assert_eq!(check_new_client(&client(&["https://a.example/cb"])), Ok(()));
        assert_eq!(
            check_new_client(&client(&[])),
            Err(ClientProblem::RedirectUriCount)
        );
        assert_eq!(
            check_new_client(&client(&["https://a.example/cb", "https://a.example/cb"])),
            Err(ClientProblem::RedirectUriTwice(
                "https://a.example/cb".into()
            ))
        );
        let mut unnamed = client(&["https://a.example/cb"]);
        unnamed.name = " \t".into();
        assert_eq!(check_new_client(&unnamed), Err(ClientProblem::Name));
        let mut roleless = client(&["https://a.example/cb"]);
        roleless.roles.clear();
        assert_eq!(check_new_client(&roleless), Err(ClientProblem::NoRoles));
        let mut bad_tile = client(&["https://a.example/cb"]);
        bad_tile.tile = Some(ClientTile {
            title: "E-Mail".into(),
            description: Some("line\nbreak".into()),
        });
        assert_eq!(check_new_client(&bad_tile), Err(ClientProblem::Tile));
        let mut tile_nowhere = client(&["https://a.example/cb"]);
        tile_nowhere.tile = Some(ClientTile {
            title: "E-Mail".into(),
            description: None,
        });
        assert_eq!(
            check_new_client(&tile_nowhere),
            Err(ClientProblem::TileWithoutLaunchUri)
        );
        tile_nowhere.launch_uri = Some("http://mail.example/login".into());
        assert!(matches!(
            check_new_client(&tile_nowhere),
            Err(ClientProblem::LaunchUri { .. })
        ));
        tile_nowhere.launch_uri = Some("https://mail.example/login".into());
        assert_eq!(check_new_client(&tile_nowhere), Ok(()));
    }

    #[test]
    fn a_secret_is_kept_as_its_sha256() {
        assert_eq!(
            client_secret_hash(&Secret::new("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
