//! The portal as the school's OpenID Connect provider: the JOSE side of it. Its id
//! tokens are signed RS256 (what every relying party supports) with a key generated
//! here at the first start and kept in the database, so that every instance signs with
//! it; the JWKS publishes it (and a retired key until its tokens have expired). Keys
//! and the JWKS go through the `openidconnect` crate's types and the `rsa` crate: no
//! JOSE by hand. The rules (who may register, what a key's life is) are
//! `portal_core::service::federation`'s.

use std::sync::Arc;

use app::ssr::context::{clear_session_cookie, RequestContext};
use app::ssr::sign_on::Refused;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::Engine as _;
use domain::route::{Endpoint, Route};
use domain::secret::Secret;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{JsonWebKeyId, PrivateSigningKey as _};
use portal_core::ports::SigningKeyRecord;
use portal_core::service::authorization::{
    Authorization, AuthorizationRequest, Identity, IssuedTokens, TokenError, TokenRequest,
    UntrustedRequest, SCOPES,
};
use portal_core::service::federation::NewSigningKey;
use portal_core::service::{Portal, Settings};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256};

/// The algorithm of the keys made here.
pub const ALGORITHM: &str = "RS256";
/// RSA modulus size: RFC 7518 asks for at least 2048 bits, and every relying party
/// accepts them.
const RSA_BITS: usize = 2048;
/// How long a relying party may keep the JWKS before asking again.
const JWKS_MAX_AGE_SECS: u32 = 60;

/// A new RS256 signing key; its id is its RFC 7638 thumbprint.
pub fn generate_key() -> Result<NewSigningKey, String> {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS)
        .map_err(|e| format!("could not generate a signing key: {e}"))?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| format!("could not encode the signing key: {e}"))?;
    let kid = thumbprint(&key);
    // The public half, as the JWKS will publish it: made once, here, so that serving
    // the JWKS never reads a private key.
    let public = CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.clone())))
        .map_err(|e| format!("could not read the new signing key: {e}"))?
        .as_verification_key();
    let public_jwk = serde_json::to_string(&public)
        .map_err(|e| format!("could not encode the public key: {e}"))?;
    Ok(NewSigningKey {
        kid,
        algorithm: ALGORITHM.to_string(),
        private_pem: Secret::new(pem.as_str()),
        public_jwk,
    })
}

/// The RFC 7638 thumbprint of the key's public half: SHA-256 over its required JWK
/// members in lexicographic order, base64url.
fn thumbprint(key: &rsa::RsaPrivateKey) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let members = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        b64(&key.e().to_bytes_be()),
        b64(&key.n().to_bytes_be())
    );
    b64(&Sha256::digest(members.as_bytes()))
}

/// The JSON Web Key Set of `keys`' public halves (their stored JWKs: no private key is
/// read).
pub fn jwks(keys: &[SigningKeyRecord]) -> Result<CoreJsonWebKeySet, String> {
    let public = keys
        .iter()
        .map(|key| {
            serde_json::from_str::<CoreJsonWebKey>(&key.public_jwk)
                .map_err(|e| format!("signing key {}'s public JWK cannot be read: {e}", key.kid))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CoreJsonWebKeySet::new(public))
}

/// `GET /oidc/jwks`.
pub async fn jwks_endpoint(State(provider): State<Arc<Provider>>) -> Response {
    let keys = match provider.portal.published_signing_keys().await {
        Ok(keys) => keys,
        Err(error) => return crate::errors::route_error(error),
    };
    match jwks(&keys).and_then(|set| serde_json::to_vec(&set).map_err(|e| e.to_string())) {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_str(&format!("public, max-age={JWKS_MAX_AGE_SECS}"))
                        .unwrap_or(HeaderValue::from_static("no-store")),
                ),
            ],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "the JWKS could not be built");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

// ---- the provider's endpoints -----------------------------------------------------------

pub use app::ssr::context::{clear_return_cookie, RETURN_COOKIE};

/// How long a pending authorization request is remembered: as long as the journey may
/// take.
const RETURN_COOKIE_SECS: i64 = 3600;

/// How often the provider reads again which key signs.
const SIGNER_RECHECK_SECS: i64 = 10;

/// The longest authorization request kept in the return cookie.
const MAX_RETURN_QUERY: usize = 3000;

/// The claims under the `school` scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchoolClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

impl openidconnect::AdditionalClaims for SchoolClaims {}

/// The id token this provider signs.
pub type IdToken = openidconnect::IdToken<
    SchoolClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
/// Its token endpoint's answer.
pub type TokenResponse = openidconnect::StandardTokenResponse<
    openidconnect::IdTokenFields<
        SchoolClaims,
        openidconnect::EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    openidconnect::core::CoreTokenType,
>;

/// Discovery's members beyond the core ones.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ExtraMetadata {
    pub end_session_endpoint: String,
    pub code_challenge_methods_supported: Vec<String>,
    /// RFC 9207: `iss` is in every authorization response.
    pub authorization_response_iss_parameter_supported: bool,
}

impl openidconnect::AdditionalProviderMetadata for ExtraMetadata {}

pub type ProviderMetadata = openidconnect::ProviderMetadata<
    ExtraMetadata,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreClientAuthMethod,
    openidconnect::core::CoreClaimName,
    openidconnect::core::CoreClaimType,
    openidconnect::core::CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    openidconnect::core::CoreResponseMode,
    openidconnect::core::CoreResponseType,
    openidconnect::core::CoreSubjectIdentifierType,
>;

/// The provider's state: the services and the parsed signing key (parsed once per key,
/// not per token).
pub struct Provider {
    pub portal: Arc<Portal>,
    /// The signing key's id, the parsed key, and when it was last checked.
    #[allow(clippy::type_complexity)]
    signer: std::sync::Mutex<Option<(String, Arc<RsaSigner>, i64)>>,
}

impl Provider {
    pub fn new(portal: Arc<Portal>) -> Arc<Provider> {
        Arc::new(Provider {
            portal,
            signer: std::sync::Mutex::new(None),
        })
    }

    /// The key that signs now, parsed once per key. A new key signs only once the
    /// JWKS has published it for as long as relying parties may cache the JWKS
    /// ([`JWKS_MAX_AGE_SECS`]); until then the key it replaced signs (it stays published
    /// until its tokens have expired). Which key signs is read again every
    /// [`SIGNER_RECHECK_SECS`], so a rotation on another instance is followed.
    async fn signing_key(&self) -> Result<Arc<RsaSigner>, String> {
        let now = self.portal.now();
        if let Ok(cached) = self.signer.lock() {
            if let Some((_, key, checked)) = cached.as_ref() {
                if (0..SIGNER_RECHECK_SECS).contains(&(now - checked)) {
                    return Ok(key.clone());
                }
            }
        }
        let keys = self
            .portal
            .published_signing_keys()
            .await
            .map_err(|e| e.to_string())?;
        let settled = now - i64::from(JWKS_MAX_AGE_SECS);
        let mut ours = keys.iter().filter(|k| k.algorithm == ALGORITHM);
        let active = ours.clone().find(|k| k.retired_at.is_none());
        // Published long enough: the newest such key (the list is active first, then
        // newest first); at the very first start, the only one.
        let signer = ours
            .find(|k| k.created_at <= settled)
            .or(active)
            .ok_or("no signing key")?;
        if let Ok(mut cached) = self.signer.lock() {
            if let Some((kid, key, _)) = cached.as_ref() {
                if *kid == signer.kid {
                    let key = key.clone();
                    *cached = Some((signer.kid.clone(), key.clone(), now));
                    return Ok(key);
                }
            }
        }
        let key = Arc::new(RsaSigner::new(signer)?);
        if let Ok(mut cached) = self.signer.lock() {
            *cached = Some((signer.kid.clone(), key.clone(), now));
        }
        Ok(key)
    }
}

/// An RS256 key that signs id tokens: `ring`'s RSA (constant time, and about four
/// times faster here than the `rsa` crate, which makes and reads the keys), published
/// as the stored public JWK.
pub struct RsaSigner {
    pair: ring::rsa::KeyPair,
    public: CoreJsonWebKey,
}

impl RsaSigner {
    pub fn new(key: &SigningKeyRecord) -> Result<RsaSigner, String> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        let cannot =
            |e: &dyn std::fmt::Display| format!("signing key {} cannot be read: {e}", key.kid);
        let der = rsa::RsaPrivateKey::from_pkcs1_pem(key.private_pem.expose())
            .and_then(|k| k.to_pkcs1_der())
            .map_err(|e| cannot(&e))?;
        let pair = ring::rsa::KeyPair::from_der(der.as_bytes()).map_err(|e| cannot(&e))?;
        let public = serde_json::from_str(&key.public_jwk).map_err(|e| cannot(&e))?;
        Ok(RsaSigner { pair, public })
    }
}

impl openidconnect::PrivateSigningKey for RsaSigner {
    type VerificationKey = CoreJsonWebKey;

    fn sign(
        &self,
        algorithm: &CoreJwsSigningAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, openidconnect::SigningError> {
        if *algorithm != CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256 {
            return Err(openidconnect::SigningError::UnsupportedAlg(format!(
                "{algorithm:?}"
            )));
        }
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| openidconnect::SigningError::CryptoError)?;
        Ok(signature)
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        self.public.clone()
    }
}

/// The issuer: the configured public address, else this request's own origin.
pub fn issuer(portal: &Portal, headers: &HeaderMap) -> String {
    if let Some(url) = portal.settings().public_url.as_deref() {
        return url.trim_end_matches('/').to_string();
    }
    let scheme = if portal.settings().secure_cookies {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && b != b'/'))
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

fn endpoint_url(issuer: &str, endpoint: Endpoint) -> String {
    format!("{issuer}{}", endpoint.path())
}

/// `GET /.well-known/openid-configuration`.
pub async fn discovery(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    use openidconnect::core::{
        CoreClaimName, CoreClientAuthMethod, CoreGrantType, CoreResponseMode, CoreResponseType,
        CoreSubjectIdentifierType,
    };
    use openidconnect::{
        AuthUrl, IssuerUrl, JsonWebKeySetUrl, ResponseTypes, Scope, TokenUrl, UserInfoUrl,
    };
    let issuer = issuer(&provider.portal, &headers);
    let url = |endpoint| endpoint_url(&issuer, endpoint);
    let metadata = (|| -> Result<ProviderMetadata, openidconnect::url::ParseError> {
        Ok(ProviderMetadata::new(
            IssuerUrl::new(issuer.clone())?,
            AuthUrl::new(url(Endpoint::Authorize))?,
            JsonWebKeySetUrl::new(url(Endpoint::Jwks))?,
            vec![ResponseTypes::new(vec![CoreResponseType::Code])],
            vec![CoreSubjectIdentifierType::Public],
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            ExtraMetadata {
                end_session_endpoint: url(Endpoint::EndSession),
                code_challenge_methods_supported: vec!["S256".into()],
                authorization_response_iss_parameter_supported: true,
            },
        )
        .set_token_endpoint(Some(TokenUrl::new(url(Endpoint::Token))?))
        .set_userinfo_endpoint(Some(UserInfoUrl::new(url(Endpoint::UserInfo))?))
        .set_scopes_supported(Some(
            SCOPES.iter().map(|s| Scope::new(s.to_string())).collect(),
        ))
        .set_response_modes_supported(Some(vec![CoreResponseMode::Query]))
        .set_grant_types_supported(Some(vec![CoreGrantType::AuthorizationCode]))
        .set_token_endpoint_auth_methods_supported(Some(vec![
            CoreClientAuthMethod::ClientSecretBasic,
            CoreClientAuthMethod::ClientSecretPost,
            CoreClientAuthMethod::None,
        ]))
        .set_claims_supported(Some(
            [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "name",
                "preferred_username",
                "email",
                "role",
                "school",
                "class",
            ]
            .map(|c| CoreClaimName::new(c.into()))
            .to_vec(),
        ))
        .set_request_parameter_supported(Some(false))
        .set_request_uri_parameter_supported(Some(false)))
    })();
    match metadata.map(|m| serde_json::to_vec(&m)) {
        Ok(Ok(body)) => json_response(StatusCode::OK, body, Some("public, max-age=300")),
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn json_response(status: StatusCode, body: Vec<u8>, cache: Option<&'static str>) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(cache.unwrap_or("no-store")),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /oidc/authorize`: a code for a signed-in account that has finished its first
/// login; otherwise the sign-in page or the journey first (then back here), or the app's
/// redirect URI with an error.
pub async fn authorize(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Extension(context): Extension<RequestContext>,
) -> Response {
    authorize_request(&provider, &headers, context, uri.query().unwrap_or("")).await
}

/// `POST /oidc/authorize` (OpenID Connect Core 3.1.2.1: the same request, form-encoded
/// in the body). A cross-site form post carries no session cookie (`SameSite=Lax`): the
/// browser goes through the sign-in page, which finds its session and comes back.
pub async fn authorize_post(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Extension(context): Extension<RequestContext>,
    body: axum::body::Bytes,
) -> Response {
    authorize_request(
        &provider,
        &headers,
        context,
        &String::from_utf8_lossy(&body),
    )
    .await
}

async fn authorize_request(
    provider: &Provider,
    headers: &HeaderMap,
    context: RequestContext,
    query: &str,
) -> Response {
    let portal = &provider.portal;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    // A parameter given twice is refused (RFC 6749 3.1), as is a missing one.
    let mut seen = std::collections::HashSet::new();
    let repeated = params.iter().any(|(name, _)| !seen.insert(name.as_str()));
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let request = AuthorizationRequest {
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        response_type: if repeated {
            Some(String::new())
        } else {
            get("response_type")
        },
        response_mode: get("response_mode"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        prompt: get("prompt"),
        max_age: get("max_age"),
        request_object: get("request").is_some() || get("request_uri").is_some(),
    };
    let decision = match portal
        .authorize(
            &request,
            context.session.as_ref(),
            context.client.as_deref(),
        )
        .await
    {
        Ok(decision) => decision,
        Err(error) => return crate::errors::route_error(error),
    };
    let issuer = issuer(portal, headers);
    let settings = portal.settings();
    match decision {
        Authorization::Untrusted(why) => untrusted_page(
            headers,
            match why {
                UntrustedRequest::UnknownClient => Refused::UnknownApp,
                UntrustedRequest::RedirectUri => Refused::UnknownAddress,
            },
        ),
        Authorization::Refused {
            redirect_uri,
            refusal,
            state,
        } => back_to_app(
            &redirect_uri,
            &[
                ("error", refusal.error),
                ("error_description", refusal.description),
            ],
            state.as_deref(),
            &issuer,
        ),
        Authorization::Granted {
            redirect_uri,
            code,
            state,
        } => back_to_app(
            &redirect_uri,
            &[("code", code.expose())],
            state.as_deref(),
            &issuer,
        ),
        Authorization::SignIn { end_session } => {
            // Come back here after signing in, without asking for a fresh sign-in again.
            let again: Vec<(String, String)> = params
                .into_iter()
                .filter(|(name, value)| {
                    !(name == "prompt" && value.split(' ').any(|p| p == "login"))
                })
                .collect();
            let mut response = see_other(Route::SIGN_IN.path());
            if end_session {
                if let Some(session) = context.session.as_ref() {
                    if let Err(error) = portal.sign_out(session).await {
                        return crate::errors::route_error(error);
                    }
                }
                append_cookie(&mut response, &clear_session_cookie(settings));
            }
            append_cookie(&mut response, &return_cookie(&again, settings));
            response
        }
        Authorization::Journey => {
            // The portal page sends the browser back here once the journey is done.
            let mut response = see_other(Route::PORTAL.path());
            append_cookie(&mut response, &return_cookie(&params, settings));
            response
        }
    }
}

/// `303 See Other` to `location` (500 if it cannot be a header value).
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The app's redirect URI with `params`, `state` and `iss` (RFC 9207) added to its query.
fn back_to_app(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return untrusted_page(&HeaderMap::new(), Refused::UnknownAddress);
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    let mut response = see_other(url.as_str());
    // The code must not leak through the Referer of the app's page.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The cookie that brings the browser back to the authorization request (too long a
/// request is not kept: the person ends on the portal page instead).
fn return_cookie(params: &[(String, String)], settings: &Settings) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    if query.len() <= MAX_RETURN_QUERY {
        app::ssr::context::return_cookie(&query, RETURN_COOKIE_SECS, settings)
    } else {
        clear_return_cookie(settings)
    }
}

/// The pending authorization request's query, from the return cookie, if any.
pub fn pending_authorization(headers: &HeaderMap) -> Option<String> {
    app::ssr::context::cookie_value(headers, RETURN_COOKIE).filter(|q| !q.is_empty())
}

/// The client id of a pending authorization request.
/// The app a pending authorization request is for: its name (the journey says it) and
/// the origin of its redirect URI when that is one it is registered with (the pages'
/// `form-action`). Nothing for an unknown app or address.
pub async fn pending_app(portal: &Portal, query: &str) -> (Option<String>, Option<String>) {
    let param = |wanted: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.into_owned())
    };
    let Some(client) = param("client_id") else {
        return (None, None);
    };
    let Ok(Some(client)) = portal.client(&client).await else {
        return (None, None);
    };
    let origin = param("redirect_uri")
        .filter(|uri| client.redirect_uris.contains(uri))
        .and_then(|uri| url::Url::parse(&uri).ok())
        .map(|url| url.origin().ascii_serialization());
    (Some(client.name), origin)
}

/// The Content-Security-Policy of the provider's own small pages: the portal's
/// stylesheet, forms to the portal (and, after a sign-out, on to `app_origin`).
fn plain_page_policy(app_origin: Option<&str>) -> String {
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'{}; \
         base-uri 'none'; frame-ancestors 'none'",
        app_origin.map(|o| format!(" {o}")).unwrap_or_default()
    )
}

/// A page for a request that cannot be sent back to its app, in the person's language.
fn untrusted_page(headers: &HeaderMap, why: Refused) -> Response {
    let [lang, heading, message, link] = app::ssr::sign_on::refused_texts(headers, why);
    let body = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{heading}</title><link rel=\"stylesheet\" href=\"/pkg/school-portal.css\"></head>\
         <body><main id=\"main\" class=\"card card--narrow\"><h1>{heading}</h1>\
         <p role=\"alert\">{message}</p><p><a href=\"/\">{link}</a></p></main></body></html>",
        html_escape(&lang),
        heading = html_escape(&heading),
        message = html_escape(&message),
        link = html_escape(&link),
    );
    (
        StatusCode::BAD_REQUEST,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CONTENT_SECURITY_POLICY, plain_page_policy(None)),
        ],
        body,
    )
        .into_response()
}

/// `text` safe inside HTML text and quoted attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `POST /oidc/token`.
pub async fn token(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Extension(context): Extension<RequestContext>,
    body: axum::body::Bytes,
) -> Response {
    let portal = &provider.portal;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |name: &str| {
        let mut values = form
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone());
        match (values.next(), values.next()) {
            (Some(value), None) => Ok(Some(value)),
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(()),
        }
    };
    let basic = basic_credentials(&headers);
    let fields = (|| -> Result<TokenRequest, ()> {
        let (client_id, client_secret) = match basic {
            Some(Ok((id, secret))) => {
                if get("client_secret")?.is_some() {
                    return Err(());
                }
                (Some(id), Some(Secret::new(secret)))
            }
            Some(Err(())) => return Err(()),
            None => (get("client_id")?, get("client_secret")?.map(Secret::new)),
        };
        Ok(TokenRequest {
            grant_type: get("grant_type")?,
            code: get("code")?.map(Secret::new),
            redirect_uri: get("redirect_uri")?,
            client_id,
            client_secret,
            code_verifier: get("code_verifier")?.map(Secret::new),
        })
    })();
    let Ok(request) = fields else {
        return token_error(TokenError::InvalidRequest(
            "a parameter is repeated or the credentials are malformed",
        ));
    };
    let issuer = issuer(portal, &headers);
    let issued = match portal.redeem(request, context.client.as_deref()).await {
        Ok(issued) => issued,
        Err(error) => return token_error(error),
    };
    match sign_tokens(&provider, &issuer, issued).await {
        Ok(body) => json_response(StatusCode::OK, body, None),
        Err(error) => {
            tracing::error!(%error, "an id token could not be signed");
            token_error(TokenError::Unavailable)
        }
    }
}

async fn sign_tokens(
    provider: &Provider,
    issuer: &str,
    issued: IssuedTokens,
) -> Result<Vec<u8>, String> {
    use openidconnect::{
        AccessToken, Audience, IdTokenClaims, IdTokenFields, IssuerUrl, Nonce, Scope,
    };
    let key = provider.signing_key().await?;
    let at = |secs: i64| {
        chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0).ok_or("time out of range")
    };
    let identity = &issued.identity;
    let claims = IdTokenClaims::new(
        IssuerUrl::new(issuer.to_string()).map_err(|e| e.to_string())?,
        vec![Audience::new(issued.client_id.clone())],
        at(issued.issued_at + issued.expires_in)?,
        at(issued.issued_at)?,
        standard_claims(identity),
        school_claims(identity),
    )
    .set_auth_time(Some(at(issued.auth_time)?))
    .set_nonce(issued.nonce.clone().map(Nonce::new));
    let access_token = AccessToken::new(issued.access_token.expose().to_string());
    let id_token = IdToken::new(
        claims,
        key.as_ref(),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&access_token),
        None,
    )
    .map_err(|e| e.to_string())?;
    let mut response = TokenResponse::new(
        access_token,
        openidconnect::core::CoreTokenType::Bearer,
        IdTokenFields::new(Some(id_token), openidconnect::EmptyExtraTokenFields {}),
    );
    response.set_expires_in(Some(&std::time::Duration::from_secs(
        u64::try_from(issued.expires_in).unwrap_or(0),
    )));
    response.set_scopes(Some(
        issued
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| Scope::new(s.to_string()))
            .collect(),
    ));
    serde_json::to_vec(&response).map_err(|e| e.to_string())
}

/// The claims of every scope, as the id token and userinfo both carry them: `sub`, the
/// login ID as `preferred_username` and `email`, and `name`.
fn standard_claims(identity: &Identity) -> openidconnect::StandardClaims<CoreGenderClaim> {
    use openidconnect::{
        EndUserEmail, EndUserName, EndUserUsername, LocalizedClaim, StandardClaims,
        SubjectIdentifier,
    };
    StandardClaims::new(SubjectIdentifier::new(identity.subject.clone()))
        .set_preferred_username(Some(EndUserUsername::new(identity.login_id.clone())))
        .set_email(Some(EndUserEmail::new(identity.login_id.clone())))
        .set_name(Some(LocalizedClaim::from(EndUserName::new(
            identity.name.clone(),
        ))))
}

fn school_claims(identity: &Identity) -> SchoolClaims {
    match &identity.school {
        Some(school) => SchoolClaims {
            role: Some(school.role.as_str().to_string()),
            school: school.school.clone(),
            class: school.class.clone(),
        },
        None => SchoolClaims::default(),
    }
}

/// `Authorization: Basic` credentials (RFC 6749 2.3.1: each part form-urlencoded).
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Some(Err(()));
    };
    let unescape = |text: &str| {
        url::form_urlencoded::parse(format!("x={text}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some(Ok((unescape(id), unescape(secret))))
}

fn token_error(error: TokenError) -> Response {
    let status = match error {
        TokenError::InvalidClient => StatusCode::UNAUTHORIZED,
        TokenError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = serde_json::json!({
        "error": error.error(),
        "error_description": error.description(),
    });
    let mut response = json_response(status, body.to_string().into_bytes(), None);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"portal\""),
        );
    }
    response
}

/// `GET` or `POST /oidc/userinfo` with `Authorization: Bearer`.
pub async fn userinfo(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    use openidconnect::UserInfoClaims;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let identity = match token {
        Some(token) => match provider.portal.userinfo(token).await {
            Ok(identity) => identity,
            Err(error) => return crate::errors::route_error(error),
        },
        None => None,
    };
    let Some(identity) = identity else {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer error=\"invalid_token\", error_description=\"unknown, expired or revoked access token\"",
                ),
            )],
        )
            .into_response();
    };
    let claims: UserInfoClaims<SchoolClaims, CoreGenderClaim> =
        UserInfoClaims::new(standard_claims(&identity), school_claims(&identity));
    match serde_json::to_vec(&claims) {
        Ok(body) => json_response(StatusCode::OK, body, None),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `GET /oidc/logout` (RP-initiated logout): ends the portal session, then goes to the
/// app's `post_logout_redirect_uri` if it is one of that app's registered addresses
/// (same origin as a redirect URI), else to the sign-in page. A GET that signs out
/// could be forged by another site (logout CSRF): it signs out only with the portal's
/// own confirmation, a same-origin POST from the page this shows.
pub async fn end_session_page(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Extension(context): Extension<RequestContext>,
) -> Response {
    let query = uri.query().unwrap_or("");
    let target = logout_target(&provider.portal, query).await;
    if context.session.is_none() {
        // Nothing to end: straight on.
        return see_other(&target);
    }
    let target_origin = url::Url::parse(&target)
        .ok()
        .map(|url| url.origin().ascii_serialization());
    let hidden = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| {
            matches!(
                name.as_ref(),
                "post_logout_redirect_uri" | "state" | "client_id" | "id_token_hint"
            )
        })
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                html_escape(&name),
                html_escape(&value)
            )
        })
        .collect::<String>();
    let texts = app::ssr::sign_on::sign_out_texts(&headers);
    let body = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{heading}</title><link rel=\"stylesheet\" href=\"/pkg/school-portal.css\"></head>\
         <body><main id=\"main\" class=\"card card--narrow\"><h1>{heading}</h1>\
         <p>{text}</p>\
         <form method=\"post\" action=\"{action}\">{hidden}<div class=\"actions\">\
         <button type=\"submit\" class=\"button\">{button}</button></div></form>\
         <p><a href=\"/\">{stay}</a></p></main></body></html>",
        lang = html_escape(&texts.lang),
        heading = html_escape(&texts.heading),
        text = html_escape(&texts.body),
        button = html_escape(&texts.button),
        stay = html_escape(&texts.stay),
        action = Endpoint::EndSession.path(),
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                plain_page_policy(target_origin.as_deref()),
            ),
        ],
        body,
    )
        .into_response()
}

/// `POST /oidc/logout`: the confirmation (same origin only: the CSRF guard).
pub async fn end_session(
    State(provider): State<Arc<Provider>>,
    Extension(context): Extension<RequestContext>,
    body: axum::body::Bytes,
) -> Response {
    let portal = &provider.portal;
    if let Some(session) = context.session.as_ref() {
        if let Err(error) = portal.sign_out(session).await {
            return crate::errors::route_error(error);
        }
    }
    let query = String::from_utf8_lossy(&body).into_owned();
    let target = logout_target(portal, &query).await;
    let mut response = see_other(&target);
    append_cookie(&mut response, &clear_session_cookie(portal.settings()));
    append_cookie(&mut response, &clear_return_cookie(portal.settings()));
    response
}

/// Where to go after signing out: the app's own address when it is registered.
async fn logout_target(portal: &Portal, query: &str) -> String {
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
    let fallback = Route::SIGN_IN.path().to_string();
    let Some(target) = params.get("post_logout_redirect_uri") else {
        return fallback;
    };
    let Ok(target_url) = url::Url::parse(target) else {
        return fallback;
    };
    let Ok(clients) = portal.registered_clients().await else {
        return fallback;
    };
    let wanted = params.get("client_id");
    let registered = clients
        .iter()
        .filter(|c| wanted.is_none_or(|id| *id == c.client_id))
        .flat_map(|c| c.redirect_uris.iter())
        .filter_map(|uri| url::Url::parse(uri).ok())
        .any(|uri| uri.origin() == target_url.origin());
    if !registered {
        return fallback;
    }
    let mut url = target_url;
    if let Some(state) = params.get("state") {
        url.query_pairs_mut().append_pair("state", state);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_published_under_its_thumbprint() {
        let key = generate_key().expect("key");
        assert_eq!(key.algorithm, "RS256");
        assert!(key
            .private_pem
            .expose()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let record = SigningKeyRecord {
            kid: key.kid.clone(),
            algorithm: key.algorithm,
            private_pem: key.private_pem,
            public_jwk: key.public_jwk,
            created_at: 0,
            retired_at: None,
        };
        let set = serde_json::to_value(jwks(&[record]).expect("jwks")).expect("json");
        let published = &set["keys"][0];
        assert_eq!(published["kty"], "RSA");
        assert_eq!(published["kid"], key.kid.as_str());
        assert!(
            published.get("d").is_none(),
            "the private exponent leaked: {published}"
        );
        // The thumbprint is 43 characters of base64url (SHA-256).
        assert_eq!(key.kid.len(), 43);
    }
}
