//! Single sign-on's authorization code flow, the rules of it (OpenID Connect Core 1.0,
//! RFC 6749, RFC 7636 PKCE, RFC 9700): who gets a code, what a code is bound to, when
//! it may be redeemed, what an access token reads. The HTTP side (query strings,
//! redirects, JSON, signing the id token) is the server's `oidc` module.
//!
//! The first-login journey gates every app: an account that has not finished it, or is
//! locked, never gets a code; the server sends it through the journey and back.

use std::sync::Arc;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::{internal, token_hash, ActiveSession, NewToken, Portal};
use crate::ports::{AccessTokenRecord, Account, ClientRecord, CodeRecord, Timestamp};
use domain::audit::AuditKind;
use domain::journey::{redirect_for, Step};
use domain::provisioning::Role;
use domain::secret::Secret;
use proto::error::AppError;

use super::federation::{client_secret_hash, TOKEN_SECS};

/// An authorization code is redeemable this long (RFC 6749 asks for at most ten
/// minutes; an app redeems it at once).
pub const CODE_SECS: i64 = 60;
/// The longest `state` and `nonce` kept.
pub const MAX_STATE_CHARS: usize = 512;
/// How long the portal page's tiles are kept before the registry is read again.
pub const TILES_SECS: u64 = 10;
/// The scope that adds the school's claims (role, school, class).
pub const SCHOOL_SCOPE: &str = "school";
/// The scopes this provider knows; others asked for are left out of the grant.
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", SCHOOL_SCOPE];

/// An authorization request's parameters, as they came (each may be missing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    /// `request` or `request_uri` was given (request objects are not supported).
    pub request_object: bool,
}

/// Why an authorization request cannot even be answered to its app: the person is told
/// (in their language: `app::ssr::sign_on`), and the browser stays here (never an open
/// redirect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UntrustedRequest {
    UnknownClient,
    RedirectUri,
}

/// An OAuth error sent back to the app (RFC 6749 4.1.2.1, OIDC Core 3.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub error: &'static str,
    pub description: &'static str,
}

impl Refusal {
    const fn new(error: &'static str, description: &'static str) -> Refusal {
        Refusal { error, description }
    }
}

/// What to do with an authorization request.
#[derive(Debug)]
pub enum Authorization {
    /// Tell the person; do not redirect.
    Untrusted(UntrustedRequest),
    /// Send the browser back to the app with an error.
    Refused {
        redirect_uri: String,
        refusal: Refusal,
        state: Option<String>,
    },
    /// Sign in first, then ask again; `end_session`: the app asked for a fresh sign-in
    /// (`prompt=login`, `max_age`), so the current session ends.
    SignIn { end_session: bool },
    /// Finish the first-login journey first, then ask again.
    Journey,
    /// Send the browser back to the app with this code.
    Granted {
        redirect_uri: String,
        code: Secret,
        state: Option<String>,
    },
}

/// A token request's parameters (`application/x-www-form-urlencoded`), with the client
/// credentials from the `Authorization: Basic` header or the body.
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<Secret>,
    pub redirect_uri: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub code_verifier: Option<Secret>,
}

/// A refused token request (RFC 6749 5.2); `invalid_client` is answered 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest(&'static str),
    InvalidClient,
    InvalidGrant(&'static str),
    UnsupportedGrantType,
    /// The store failed: 503/500, not the client's fault.
    Unavailable,
}

impl TokenError {
    pub fn error(self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::InvalidClient => "invalid_client",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::Unavailable => "temporarily_unavailable",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            TokenError::InvalidRequest(why) | TokenError::InvalidGrant(why) => why,
            TokenError::InvalidClient => "client authentication failed",
            TokenError::UnsupportedGrantType => "only authorization_code is supported",
            TokenError::Unavailable => "try again shortly",
        }
    }
}

/// Who the tokens are about: the claims the server puts in the id token and userinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Stable and opaque: not the login ID.
    pub subject: String,
    pub login_id: String,
    pub name: String,
    /// Under the `school` scope only.
    pub school: Option<SchoolClaims>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolClaims {
    pub role: Role,
    pub school: Option<String>,
    pub class: Option<String>,
}

/// What a redeemed code gives the app; the server signs the id token from it.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: Secret,
    pub client_id: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: Timestamp,
    pub issued_at: Timestamp,
    pub expires_in: i64,
    pub identity: Identity,
}

const UNSUPPORTED_RESPONSE_TYPE: Refusal = Refusal::new(
    "unsupported_response_type",
    "only the authorization code flow (response_type=code) is supported",
);

impl Portal {
    /// Decides an authorization request for the browser's session (if any).
    pub async fn authorize(
        &self,
        request: &AuthorizationRequest,
        session: Option<&ActiveSession>,
        client_address: Option<&str>,
    ) -> Result<Authorization, AppError> {
        let Some(client) = self.known_client(request.client_id.as_deref()).await? else {
            self.refused(
                None,
                client_address,
                None,
                "unknown_client",
                "unknown client",
            )
            .await;
            return Ok(Authorization::Untrusted(UntrustedRequest::UnknownClient));
        };
        let Some(redirect_uri) = request
            .redirect_uri
            .as_ref()
            .filter(|uri| client.redirect_uris.contains(uri))
            .cloned()
        else {
            self.refused(
                None,
                client_address,
                Some(&client.client_id),
                "redirect_uri",
                "redirect URI not registered",
            )
            .await;
            return Ok(Authorization::Untrusted(UntrustedRequest::RedirectUri));
        };
        let state = request.state.clone();
        let refuse = |refusal: Refusal| Authorization::Refused {
            redirect_uri: redirect_uri.clone(),
            refusal,
            state: state.clone(),
        };
        let checked = match check_request(request, &client) {
            Ok(checked) => checked,
            Err(refusal) => {
                self.refused(
                    session.map(|s| s.account.id),
                    client_address,
                    Some(&client.client_id),
                    refusal.error,
                    refusal.description,
                )
                .await;
                return Ok(refuse(refusal));
            }
        };
        let now = self.now();
        let interaction = |needed: Authorization, none_error: Refusal| {
            if checked.prompt_none {
                Err(none_error)
            } else {
                Ok(needed)
            }
        };
        let decision = match session {
            None => interaction(
                Authorization::SignIn { end_session: false },
                Refusal::new(
                    "login_required",
                    "the person is not signed in to the portal",
                ),
            ),
            Some(session) => {
                let too_old = checked
                    .max_age
                    .is_some_and(|max_age| now - session.record.reauth_at > max_age);
                if checked.prompt_login || too_old {
                    interaction(
                        Authorization::SignIn { end_session: true },
                        Refusal::new("login_required", "a fresh sign-in is needed"),
                    )
                } else if session.account.is_locked(now) {
                    Err(Refusal::new("access_denied", "the account is locked"))
                } else if !journey_done(session) {
                    interaction(
                        Authorization::Journey,
                        Refusal::new(
                            "interaction_required",
                            "the account has not finished its first login",
                        ),
                    )
                } else if !client.roles.contains(&session.account.role) {
                    Err(Refusal::new(
                        "access_denied",
                        "this app is not for this account",
                    ))
                } else {
                    Ok(Authorization::Granted {
                        redirect_uri: redirect_uri.clone(),
                        code: self
                            .issue_code(session, &client, &redirect_uri, &checked, now)
                            .await?,
                        state: state.clone(),
                    })
                }
            }
        };
        match decision {
            Ok(decision) => Ok(decision),
            Err(refusal) => {
                self.refused(
                    session.map(|s| s.account.id),
                    client_address,
                    Some(&client.client_id),
                    refusal.error,
                    refusal.description,
                )
                .await;
                Ok(refuse(refusal))
            }
        }
    }

    async fn known_client(
        &self,
        client_id: Option<&str>,
    ) -> Result<Option<ClientRecord>, AppError> {
        match client_id.filter(|id| !id.is_empty() && id.len() <= 64) {
            Some(id) => self.store.client(id).await.map_err(internal),
            None => Ok(None),
        }
    }

    async fn issue_code(
        &self,
        session: &ActiveSession,
        client: &ClientRecord,
        redirect_uri: &str,
        checked: &CheckedRequest,
        now: Timestamp,
    ) -> Result<Secret, AppError> {
        let (code, code_hash) = NewToken::generate();
        self.store
            .add_code(&CodeRecord {
                code_hash,
                client_id: client.client_id.clone(),
                account_id: session.account.id,
                redirect_uri: redirect_uri.to_string(),
                code_challenge: checked.code_challenge.clone(),
                nonce: checked.nonce.clone(),
                scope: checked.scope.clone(),
                auth_time: session.record.reauth_at,
                created_at: now,
                expires_at: now + CODE_SECS,
                redeemed_at: None,
            })
            .await
            .map_err(internal)?;
        metrics::counter!("portal_sign_on_total", "client" => client.client_id.clone(), "outcome" => "code")
            .increment(1);
        self.audit(
            Some(session.account.id),
            AuditKind::SignOnCodeIssued,
            session.client.clone(),
            Some(&client.client_id),
        )
        .await;
        Ok(Secret::new(code.expose()))
    }

    /// Counts a refusal (`portal_sign_on_refused_total{client,why}`: only registered
    /// client ids and a fixed set of reasons, so no request can add label values) and,
    /// for a registered app, audits it with `detail`. A request naming no registered app
    /// is only counted: anyone can send one, and each would otherwise be a row.
    async fn refused(
        &self,
        account: Option<i64>,
        client_address: Option<&str>,
        client: Option<&str>,
        why: &'static str,
        detail: &str,
    ) {
        metrics::counter!(
            "portal_sign_on_refused_total",
            "client" => client.unwrap_or("unregistered").to_string(),
            "why" => why
        )
        .increment(1);
        if let Some(client) = client {
            self.audit(
                account,
                AuditKind::SignOnRefused,
                client_address.map(str::to_string),
                Some(&format!("{client}: {detail}")),
            )
            .await;
        }
    }

    /// The token endpoint: redeems a code for an access token and the id token's claims.
    pub async fn redeem(
        &self,
        request: TokenRequest,
        client_address: Option<&str>,
    ) -> Result<IssuedTokens, TokenError> {
        let result = self.try_redeem(&request).await;
        match &result {
            Ok(tokens) => {
                metrics::counter!("portal_sign_on_total", "client" => tokens.client_id.clone(), "outcome" => "token")
                    .increment(1);
            }
            Err(TokenError::Unavailable) => {}
            Err(error) => {
                // Audited under the app's id only if it names a registered app.
                let registered = self
                    .known_client(request.client_id.as_deref())
                    .await
                    .ok()
                    .flatten();
                let detail = format!("{}: {}", error.error(), error.description());
                self.refused(
                    None,
                    client_address,
                    registered.as_ref().map(|c| c.client_id.as_str()),
                    error.error(),
                    &detail,
                )
                .await;
            }
        }
        result
    }

    async fn try_redeem(&self, request: &TokenRequest) -> Result<IssuedTokens, TokenError> {
        if request.grant_type.as_deref() != Some("authorization_code") {
            return Err(if request.grant_type.is_none() {
                TokenError::InvalidRequest("grant_type is missing")
            } else {
                TokenError::UnsupportedGrantType
            });
        }
        let client = self
            .known_client(request.client_id.as_deref())
            .await
            .map_err(|_| TokenError::Unavailable)?
            .ok_or(TokenError::InvalidClient)?;
        // A confidential client proves itself with its secret; a public one has none
        // (and its code is bound to a PKCE challenge).
        match (&client.secret_hash, &request.client_secret) {
            (Some(stored), Some(given)) if same(stored, &client_secret_hash(given)) => {}
            (None, None) => {}
            _ => return Err(TokenError::InvalidClient),
        }
        let code = request
            .code
            .as_ref()
            .filter(|c| !c.expose().is_empty() && c.expose().len() <= 128)
            .ok_or(TokenError::InvalidRequest("code is missing"))?;
        let code_hash = token_hash(code.expose());
        let now = self.now();
        let Some(stored) = self
            .store
            .code(&code_hash)
            .await
            .map_err(|_| TokenError::Unavailable)?
        else {
            return Err(TokenError::InvalidGrant("unknown or expired code"));
        };
        if stored.client_id != client.client_id {
            return Err(TokenError::InvalidGrant(
                "the code was issued to another client",
            ));
        }
        let (access_token, token_hash_) = NewToken::generate();
        let token = AccessTokenRecord {
            token_hash: token_hash_,
            code_hash: code_hash.clone(),
            client_id: client.client_id.clone(),
            account_id: stored.account_id,
            scope: stored.scope.clone(),
            expires_at: now + TOKEN_SECS,
        };
        if stored.redeemed_at.is_some() {
            // A second use: the code has leaked; what the first use got is revoked.
            self.store
                .redeem_code(&code_hash, now, &token)
                .await
                .map_err(|_| TokenError::Unavailable)?;
            return Err(TokenError::InvalidGrant("the code was used before"));
        }
        if now >= stored.expires_at {
            return Err(TokenError::InvalidGrant("unknown or expired code"));
        }
        if request.redirect_uri.as_deref() != Some(stored.redirect_uri.as_str()) {
            return Err(TokenError::InvalidGrant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        match (&stored.code_challenge, &request.code_verifier) {
            (Some(challenge), Some(verifier)) => {
                if !pkce_verifier_ok(verifier.expose()) || &s256(verifier.expose()) != challenge {
                    return Err(TokenError::InvalidGrant(
                        "the PKCE code_verifier does not match",
                    ));
                }
            }
            (Some(_), None) => {
                return Err(TokenError::InvalidGrant("code_verifier is missing"));
            }
            // RFC 9700 2.1.1: a verifier without a challenge is a downgrade attempt.
            (None, Some(_)) => {
                return Err(TokenError::InvalidGrant(
                    "code_verifier given, but the authorization request had no challenge",
                ))
            }
            (None, None) => {}
        }
        // The account may have changed since the code was issued (a staff reset, a lock).
        let account = self
            .store
            .account(stored.account_id)
            .await
            .map_err(|_| TokenError::Unavailable)?
            .filter(|account| {
                !account.is_locked(now)
                    && !account.onboarding()
                    && client.roles.contains(&account.role)
            })
            .ok_or(TokenError::InvalidGrant("the account cannot sign in now"))?;
        if !self
            .store
            .redeem_code(&code_hash, now, &token)
            .await
            .map_err(|_| TokenError::Unavailable)?
        {
            return Err(TokenError::InvalidGrant("the code was used before"));
        }
        let identity = self
            .identity(&account, &stored.scope)
            .await
            .map_err(|_| TokenError::Unavailable)?;
        self.audit(
            Some(account.id),
            AuditKind::SignOnTokenIssued,
            None,
            Some(&client.client_id),
        )
        .await;
        Ok(IssuedTokens {
            access_token: Secret::new(access_token.expose()),
            client_id: client.client_id,
            scope: stored.scope,
            nonce: stored.nonce,
            auth_time: stored.auth_time,
            issued_at: now,
            expires_in: TOKEN_SECS,
            identity,
        })
    }

    /// The userinfo endpoint: the claims an unexpired access token reads. `None` for
    /// any token that is unknown, expired or revoked (one answer for all).
    pub async fn userinfo(&self, access_token: &str) -> Result<Option<Identity>, AppError> {
        if access_token.is_empty() || access_token.len() > 128 {
            return Ok(None);
        }
        let Some(token) = self
            .store
            .access_token(&token_hash(access_token))
            .await
            .map_err(internal)?
            .filter(|token| token.expires_at > self.now())
        else {
            return Ok(None);
        };
        let Some(account) = self
            .store
            .account(token.account_id)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        Ok(Some(self.identity(&account, &token.scope).await?))
    }

    async fn identity(&self, account: &Account, scope: &str) -> Result<Identity, AppError> {
        let mut candidate = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut candidate);
        let subject = self
            .store
            .subject(
                account.id,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(candidate),
            )
            .await
            .map_err(internal)?;
        Ok(Identity {
            subject,
            login_id: account.login_id.to_string(),
            name: account.full_name.clone(),
            school: scope
                .split(' ')
                .any(|s| s == SCHOOL_SCOPE)
                .then(|| SchoolClaims {
                    role: account.role,
                    school: account.school_code.clone(),
                    class: account.class_name.clone(),
                }),
        })
    }

    /// The registered clients whose tiles `role` sees, in registration order. The
    /// registry is read at most every [`TILES_SECS`] (a registration or removal on this
    /// instance shows at once; one from the command line or another instance within
    /// that time): the portal page is the most viewed page, the registry rarely changes.
    pub async fn tiles_for(&self, role: Role) -> Result<Vec<ClientRecord>, AppError> {
        let cached = self.tiles.lock().ok().and_then(|cached| {
            cached
                .as_ref()
                .filter(|(at, _)| at.elapsed().as_secs() < TILES_SECS)
                .map(|(_, clients)| clients.clone())
        });
        let clients = match cached {
            Some(clients) => clients,
            None => {
                let clients = Arc::new(self.store.clients().await.map_err(internal)?);
                if let Ok(mut cached) = self.tiles.lock() {
                    *cached = Some((std::time::Instant::now(), clients.clone()));
                }
                clients
            }
        };
        Ok(clients
            .iter()
            .filter(|c| c.tile.is_some() && c.launch_uri.is_some() && c.roles.contains(&role))
            .cloned()
            .collect())
    }

    /// Forgets the cached tiles (a registration or removal on this instance).
    pub(crate) fn forget_tiles(&self) {
        if let Ok(mut cached) = self.tiles.lock() {
            *cached = None;
        }
    }

    /// A registered app, by its client id (`None`: no such app).
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, AppError> {
        self.known_client(Some(client_id)).await
    }
}

/// A request that passed every check that needs no session.
struct CheckedRequest {
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt_none: bool,
    prompt_login: bool,
    max_age: Option<i64>,
}

fn check_request(
    request: &AuthorizationRequest,
    client: &ClientRecord,
) -> Result<CheckedRequest, Refusal> {
    if request.request_object {
        return Err(Refusal::new(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if request
        .response_mode
        .as_deref()
        .is_some_and(|mode| mode != "query")
    {
        return Err(Refusal::new(
            "invalid_request",
            "only response_mode=query is supported",
        ));
    }
    match request.response_type.as_deref() {
        Some("code") => {}
        None => {
            return Err(Refusal::new("invalid_request", "response_type is missing"));
        }
        Some(_) => return Err(UNSUPPORTED_RESPONSE_TYPE),
    }
    let asked: Vec<&str> = request
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !asked.contains(&"openid") {
        return Err(Refusal::new(
            "invalid_scope",
            "the openid scope is required",
        ));
    }
    let scope = SCOPES
        .iter()
        .filter(|known| asked.contains(known))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    for value in [&request.state, &request.nonce].into_iter().flatten() {
        if value.chars().count() > MAX_STATE_CHARS {
            return Err(Refusal::new(
                "invalid_request",
                "state or nonce is too long",
            ));
        }
    }
    let code_challenge = match (
        request.code_challenge.as_deref(),
        request.code_challenge_method.as_deref(),
    ) {
        (Some(challenge), Some("S256")) if pkce_challenge_ok(challenge) => {
            Some(challenge.to_string())
        }
        (Some(_), Some("S256")) => {
            return Err(Refusal::new(
                "invalid_request",
                "code_challenge is not a base64url SHA-256",
            ))
        }
        (Some(_), _) | (None, Some(_)) => {
            return Err(Refusal::new(
                "invalid_request",
                "only code_challenge_method=S256 is supported",
            ))
        }
        (None, None) if client.secret_hash.is_none() => {
            return Err(Refusal::new(
                "invalid_request",
                "PKCE (code_challenge with S256) is required for this app",
            ))
        }
        (None, None) => None,
    };
    let prompts: Vec<&str> = request
        .prompt
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(Refusal::new(
            "invalid_request",
            "prompt=none cannot be combined with another prompt",
        ));
    }
    let max_age = match request.max_age.as_deref() {
        None => None,
        Some(text) => Some(text.parse::<i64>().ok().filter(|age| *age >= 0).ok_or(
            Refusal::new("invalid_request", "max_age must be a number of seconds"),
        )?),
    };
    Ok(CheckedRequest {
        scope,
        nonce: request.nonce.clone(),
        code_challenge,
        prompt_none,
        prompt_login: prompts.contains(&"login"),
        max_age,
    })
}

/// The journey is over: the portal page is where this session may be.
fn journey_done(session: &ActiveSession) -> bool {
    !session.account.onboarding() && redirect_for(session.journey(), Step::Portal).is_none()
}

/// RFC 7636 4.1: 43 to 128 unreserved characters.
fn pkce_verifier_ok(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge: base64url (no padding) of 32 bytes, 43 characters.
fn pkce_challenge_ok(challenge: &str) -> bool {
    challenge.len() == 43
        && base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|bytes| bytes.len() == 32)
}

fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Compares two hashes without an early exit.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_follows_rfc_7636_appendix_b() {
        // RFC 7636 Appendix B's example.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_verifier_ok(verifier));
        assert_eq!(
            s256(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(pkce_challenge_ok(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_verifier_ok("short"));
        assert!(!pkce_verifier_ok(&"a".repeat(129)));
        assert!(!pkce_verifier_ok(&format!("{}+", "a".repeat(50))));
        assert!(!pkce_challenge_ok("plain-text-challenge"));
    }

    #[test]
    fn hashes_compare_equal_only_when_equal() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
