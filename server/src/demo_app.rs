//! Practice mode's built-in "Student Learning Space": a relying party served by the same
//! binary that signs in through the portal over HTTP exactly as an outside app would —
//! discovery, the authorization code flow with PKCE, the id token checked against the
//! JWKS, userinfo — using the `openidconnect` crate as its client. Nothing here reads
//! the portal's internals: its only way in is the provider's endpoints.
//!
//! It is registered (a public client) the first time it is opened, with redirect URIs
//! for this machine (`localhost` and `127.0.0.1` on the listening port) and the
//! configured public address. Its server-to-server calls go to the portal's own
//! listening address, carrying the issuer's host, so no request leaves the machine.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::provisioning::Role;
use domain::route::Endpoint;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use portal_core::service::federation::NewClient;
use portal_core::service::Portal;
use rand::RngCore as _;

use crate::oidc::{html_escape, see_other};

/// The app's name, as the greeting and the journey say it.
pub const DEMO_APP_NAME: &str = "Student Learning Space";
/// The app's own cookies (its session and a sign-in under way), on its own path.
const SESSION_COOKIE: &str = "demo_app_session";
const FLOW_COOKIE: &str = "demo_app_flow";
/// A sign-in under way is forgotten after this long.
const FLOW_SECS: u64 = 600;
/// The most sign-ins and sessions kept (practice mode: one class).
const MAX_ENTRIES: usize = 10_000;

/// The demo app's state: its registration and what it remembers per browser.
pub struct DemoApp {
    portal: Arc<Portal>,
    /// Where the portal listens: the app's server-to-server calls go here.
    local: SocketAddr,
    client_id: tokio::sync::OnceCell<String>,
    flows: Mutex<HashMap<String, Flow>>,
    sessions: Mutex<HashMap<String, String>>,
}

struct Flow {
    issuer: String,
    state: String,
    nonce: String,
    verifier: String,
    started: std::time::Instant,
}

impl DemoApp {
    pub fn new(portal: Arc<Portal>, site_addr: SocketAddr) -> Arc<DemoApp> {
        let local = if site_addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], site_addr.port()))
        } else {
            site_addr
        };
        Arc::new(DemoApp {
            portal,
            local,
            client_id: tokio::sync::OnceCell::new(),
            flows: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// The issuers this app is registered for: this machine, and the public address.
    fn issuers(&self) -> Vec<String> {
        let port = self.local.port();
        let mut issuers = vec![
            format!("http://localhost:{port}"),
            format!("http://127.0.0.1:{port}"),
        ];
        if let Some(public) = self.portal.settings().public_url.as_deref() {
            issuers.push(public.trim_end_matches('/').to_string());
        }
        issuers
    }

    fn callback(issuer: &str) -> String {
        format!("{issuer}{}", Endpoint::DemoAppCallback.path())
    }

    /// Its client id: found among the registered apps, or registered now.
    async fn client_id(&self) -> Result<String, String> {
        self.client_id
            .get_or_try_init(|| async {
                let wanted: Vec<String> =
                    self.issuers().iter().map(|i| Self::callback(i)).collect();
                let clients = self
                    .portal
                    .registered_clients()
                    .await
                    .map_err(|e| e.to_string())?;
                if let Some(found) = clients
                    .iter()
                    .find(|c| c.secret_hash.is_none() && c.redirect_uris == wanted)
                {
                    return Ok(found.client_id.clone());
                }
                let registered = self
                    .portal
                    .register_client(
                        NewClient {
                            name: DEMO_APP_NAME.to_string(),
                            redirect_uris: wanted,
                            public: true,
                            roles: vec![Role::Student, Role::Staff],
                            // The seed's SLS tile leads here (practice mode's default).
                            tile: None,
                            launch_uri: None,
                        },
                        "demo",
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(registered.client_id)
            })
            .await
            .cloned()
    }

    fn back_channel(&self) -> BackChannel {
        BackChannel { local: self.local }
    }

    async fn discover(&self, issuer: &str) -> Result<CoreProviderMetadata, String> {
        CoreProviderMetadata::discover_async(
            IssuerUrl::new(issuer.to_string()).map_err(|e| e.to_string())?,
            &self.back_channel(),
        )
        .await
        .map_err(|e| format!("discovery failed: {e}"))
    }
}

/// The demo app's routes, under `/demo-app/`.
pub fn routes(app: Arc<DemoApp>) -> axum::Router {
    axum::Router::new()
        .route(Endpoint::DemoApp.path(), axum::routing::get(home))
        .route(
            Endpoint::DemoAppCallback.path(),
            axum::routing::get(callback),
        )
        .route("/demo-app/sign-out", axum::routing::post(sign_out))
        .with_state(app)
}

/// `GET /demo-app/`: the greeting when signed in, else off to the portal to sign in.
async fn home(State(app): State<Arc<DemoApp>>, headers: HeaderMap) -> Response {
    let signed_in = app::ssr::context::cookie_value(&headers, SESSION_COOKIE).and_then(|id| {
        app.sessions
            .lock()
            .ok()
            .and_then(|sessions| sessions.get(&id).cloned())
    });
    if let Some(greeting) = signed_in {
        return page(
            StatusCode::OK,
            &format!(
                "<p class=\"success\" role=\"status\" data-testid=\"demo-greeting\">{}</p>\
                 <p>This is the practice portal's demo app: it signed in through the portal \
                 like the school's real apps do, without asking for the password again.</p>\
                 <div class=\"actions\"><a class=\"button button--secondary\" href=\"/portal\">Back to the portal</a>\
                 <form method=\"post\" action=\"/demo-app/sign-out\"><button class=\"button\" type=\"submit\">Sign out of the app</button></form></div>",
                html_escape(&greeting)
            ),
        );
    }
    match start(&app, &headers).await {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(%error, "the demo app could not start a sign-in");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!(
                    "<p>The demo app could not sign in through the portal: {}</p>",
                    html_escape(&error)
                ),
            )
        }
    }
}

async fn start(app: &DemoApp, headers: &HeaderMap) -> Result<Response, String> {
    let issuer = crate::oidc::issuer(&app.portal, headers);
    if !app.issuers().contains(&issuer) {
        return Ok(page(
            StatusCode::OK,
            &format!(
                "<p>The demo app works when the portal is opened at {} (or at the address \
                 set with PORTAL_PUBLIC_URL).</p>",
                html_escape(&app.issuers()[0])
            ),
        ));
    }
    let client_id = app.client_id().await?;
    let metadata = app.discover(&issuer).await?;
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(client_id), None)
        .set_redirect_uri(RedirectUrl::new(DemoApp::callback(&issuer)).map_err(|e| e.to_string())?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("school".into()))
        .set_pkce_challenge(challenge)
        .url();
    let flow_id = random_id();
    {
        let mut flows = app.flows.lock().map_err(|_| "poisoned")?;
        flows.retain(|_, f| f.started.elapsed().as_secs() < FLOW_SECS);
        if flows.len() >= MAX_ENTRIES {
            return Err("too many sign-ins under way; try again in a few minutes".into());
        }
        flows.insert(
            flow_id.clone(),
            Flow {
                issuer,
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                started: std::time::Instant::now(),
            },
        );
    }
    let mut response = see_other(url.as_str());
    set_cookie(&mut response, FLOW_COOKIE, &flow_id, FLOW_SECS as i64);
    Ok(response)
}

/// `GET /demo-app/callback`: the code (or the refusal) from the portal.
async fn callback(
    State(app): State<Arc<DemoApp>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let flow = app::ssr::context::cookie_value(&headers, FLOW_COOKIE).and_then(|id| {
        app.flows
            .lock()
            .ok()
            .and_then(|mut flows| flows.remove(&id))
    });
    let Some(flow) = flow else {
        return page(
            StatusCode::BAD_REQUEST,
            "<p>This sign-in is not the one the demo app started (or it took too long).</p>\
             <p><a href=\"/demo-app/\">Open the demo app again</a></p>",
        );
    };
    if params.get("state") != Some(&flow.state) || params.get("iss") != Some(&flow.issuer) {
        return page(
            StatusCode::BAD_REQUEST,
            "<p>The answer did not come from the sign-in the demo app started.</p>",
        );
    }
    if let Some(error) = params.get("error") {
        return page(
            StatusCode::OK,
            &format!(
                "<p>The portal did not sign you in to the demo app ({}).</p>\
                 <p><a href=\"/demo-app/\">Try again</a></p>",
                html_escape(error)
            ),
        );
    }
    let Some(code) = params.get("code") else {
        return page(StatusCode::BAD_REQUEST, "<p>The portal sent no code.</p>");
    };
    match finish(&app, flow, code).await {
        Ok(greeting) => {
            let session = random_id();
            if let Ok(mut sessions) = app.sessions.lock() {
                if sessions.len() >= MAX_ENTRIES {
                    sessions.clear();
                }
                sessions.insert(session.clone(), greeting);
            }
            let mut response = see_other(Endpoint::DemoApp.path());
            set_cookie(&mut response, SESSION_COOKIE, &session, 8 * 3600);
            set_cookie(&mut response, FLOW_COOKIE, "", 0);
            response
        }
        Err(error) => {
            tracing::warn!(%error, "the demo app's sign-in failed");
            page(
                StatusCode::BAD_GATEWAY,
                &format!(
                    "<p>The sign-in could not be finished: {}</p>",
                    html_escape(&error)
                ),
            )
        }
    }
}

/// Redeems the code, checks the id token (signature against the JWKS, issuer,
/// audience, expiry, nonce) and reads userinfo: the greeting.
async fn finish(app: &DemoApp, flow: Flow, code: &str) -> Result<String, String> {
    let metadata = app.discover(&flow.issuer).await?;
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(app.client_id().await?), None)
            .set_redirect_uri(
                RedirectUrl::new(DemoApp::callback(&flow.issuer)).map_err(|e| e.to_string())?,
            );
    let back_channel = app.back_channel();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| e.to_string())?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
        .request_async(&back_channel)
        .await
        .map_err(|e| format!("the token request failed: {e}"))?;
    let core_token = tokens.id_token().ok_or("no id token")?;
    // The same token, read with the school's claims (class).
    let id_token: crate::oidc::IdToken =
        serde_json::from_value(serde_json::to_value(core_token).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(flow.nonce))
        .map_err(|e| format!("the id token is not valid: {e}"))?;
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .map_err(|e| e.to_string())?
        .request_async(&back_channel)
        .await
        .map_err(|e| format!("userinfo failed: {e}"))?;
    let name = info
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    let login = claims
        .preferred_username()
        .map(|u| u.as_str().to_string())
        .unwrap_or_default();
    let mut greeting = format!("Signed in to {DEMO_APP_NAME} as {name} ({login})");
    if let Some(class) = claims.additional_claims().class.as_deref() {
        greeting.push_str(&format!(", {class}"));
    }
    Ok(greeting)
}

/// `POST /demo-app/sign-out`: forgets the app's session, then signs out of the portal
/// too (RP-initiated logout), coming back to the portal's sign-in page.
async fn sign_out(State(app): State<Arc<DemoApp>>, headers: HeaderMap) -> Response {
    if let Some(id) = app::ssr::context::cookie_value(&headers, SESSION_COOKIE) {
        if let Ok(mut sessions) = app.sessions.lock() {
            sessions.remove(&id);
        }
    }
    let issuer = crate::oidc::issuer(&app.portal, &headers);
    let client_id = app.client_id().await.unwrap_or_default();
    let target = url::form_urlencoded::Serializer::new(format!("{}?", Endpoint::EndSession.path()))
        .append_pair("client_id", &client_id)
        .append_pair("post_logout_redirect_uri", &format!("{issuer}/"))
        .finish();
    let mut response = see_other(&target);
    set_cookie(&mut response, SESSION_COOKIE, "", 0);
    response
}

fn random_id() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn set_cookie(response: &mut Response, name: &str, value: &str, max_age: i64) {
    let cookie = cookie::Cookie::build((name, value))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .path("/demo-app/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
        .to_string();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The demo app's page: the portal's stylesheet, its own heading.
fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{DEMO_APP_NAME} (demo)</title>\
         <link rel=\"stylesheet\" href=\"/pkg/school-portal.css\"></head>\
         <body><main id=\"main\" class=\"card card--narrow\"><h1>{DEMO_APP_NAME} <small>(demo app)</small></h1>{body}</main></body></html>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Its stylesheet and its forms (to itself; its sign-out goes on to the
            // portal, the same origin).
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; \
                 frame-ancestors 'none'",
            ),
        ],
        html,
    )
        .into_response()
}

/// The demo app's server-to-server HTTP: to the portal's own listening address, with
/// the issuer's host in `Host` (so the portal answers as that issuer). Nothing leaves
/// the machine, whatever host a browser used.
struct BackChannel {
    local: SocketAddr,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackChannelError(String);

impl<'c> openidconnect::AsyncHttpClient<'c> for BackChannel {
    type Error = BackChannelError;
    type Future = Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, Self::Error>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let fail = |e: &dyn std::fmt::Display| BackChannelError(e.to_string());
            let (parts, body) = request.into_parts();
            let host = parts
                .uri
                .authority()
                .map(|a| a.as_str().to_string())
                .ok_or_else(|| fail(&"no host"))?;
            let path = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .map_err(|e| fail(&e))?;
            let mut outgoing = client
                .request(parts.method, format!("http://{}{path}", self.local))
                .header(header::HOST, host)
                .body(body);
            for (name, value) in &parts.headers {
                if name != header::HOST {
                    outgoing = outgoing.header(name, value);
                }
            }
            let response = outgoing.send().await.map_err(|e| fail(&e))?;
            let mut builder = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let bytes = response.bytes().await.map_err(|e| fail(&e))?;
            builder.body(bytes.to_vec()).map_err(|e| fail(&e))
        })
    }
}
