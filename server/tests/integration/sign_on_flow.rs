//! Single sign-on, driven by a relying-party library nobody here wrote: the
//! `openidconnect` crate as a client discovers the provider, sends the browser (this
//! test's cookie-keeping client) to authorize with PKCE, redeems the code, checks the
//! id token's signature against the JWKS with `iss`, `aud`, `nonce` and expiry, and reads
//! userinfo. Then every refusal.

use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use portal_core::service::federation::NewClient;
use reqwest::header::LOCATION;
use reqwest::StatusCode;

use crate::common::*;

const CALLBACK: &str = "http://127.0.0.1:9/callback";

/// The relying party's HTTP: a plain client (no cookies: it is a server, not the browser).
async fn http(
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client.execute(reqwest::Request::try_from(request)?).await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder.body(body).expect("response"))
}

struct RelyingParty {
    client_id: String,
    secret: Option<String>,
    metadata: CoreProviderMetadata,
}

impl RelyingParty {
    async fn register(app: &TestApp, public: bool) -> RelyingParty {
        let registered = app
            .portal
            .register_client(
                NewClient {
                    name: "Student Learning Space".into(),
                    redirect_uris: vec![CALLBACK.into()],
                    public,
                    roles: vec![domain::provisioning::Role::Student],
                    tile: None,
                    launch_uri: None,
                },
                "test",
            )
            .await
            .expect("register");
        let metadata =
            CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
                .await
                .expect("discovery");
        RelyingParty {
            client_id: registered.client_id,
            secret: registered.secret.map(|s| s.expose().to_string()),
            metadata,
        }
    }

    fn client(
        &self,
        secret: Option<&str>,
    ) -> openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.client_id.clone()),
            secret.map(|s| ClientSecret::new(s.to_string())),
        )
        .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap())
    }

    /// The authorization URL with a fresh state, nonce and PKCE pair.
    fn start(&self) -> (url::Url, CsrfToken, Nonce, PkceCodeVerifier) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client(self.secret.as_deref())
            .authorize_url(
                AuthenticationFlow::<openidconnect::core::CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("school".into()))
            .set_pkce_challenge(challenge)
            .url();
        (url, state, nonce, verifier)
    }
}

/// Follows the portal's redirects in the browser until it leaves for the app (or stops
/// on a page); the last `Location` and every address visited.
async fn browse(
    client: &reqwest::Client,
    start: &str,
    base: &str,
) -> (Option<String>, Vec<String>) {
    let mut next = start.to_string();
    let mut seen = Vec::new();
    for _ in 0..10 {
        seen.push(next.clone());
        let url = if next.starts_with('/') {
            format!("{base}{next}")
        } else {
            next.clone()
        };
        let response = client.get(&url).send().await.expect("browse");
        let Some(location) = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
        else {
            return (None, seen);
        };
        if location.starts_with(CALLBACK) {
            return (Some(location), seen);
        }
        next = location;
    }
    panic!("too many redirects: {seen:?}");
}

fn query(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location)
        .ok()?
        .query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn a_library_relying_party_signs_a_student_in_with_pkce_and_reads_userinfo() {
    let app = spawn_app().await;
    let rp = RelyingParty::register(&app, false).await;
    app.complete_onboarding().await;
    let (url, state, nonce, verifier) = rp.start();
    let (callback, _) = browse(&app.client, url.as_str(), &app.base).await;
    let callback = callback.expect("back at the app");
    assert_eq!(
        query(&callback, "state").as_deref(),
        Some(state.secret().as_str())
    );
    // RFC 9207.
    assert_eq!(query(&callback, "iss").as_deref(), Some(app.base.as_str()));
    let code = query(&callback, "code").expect("a code");

    let client = rp.client(rp.secret.as_deref());
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("tokens");
    let id_token = tokens.id_token().expect("an id token");
    // Signature (JWKS), iss, aud, expiry and nonce, checked by the library.
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("a valid id token");
    assert_eq!(claims.issuer().as_str(), app.base);
    assert_eq!(claims.audiences()[0].as_str(), rp.client_id);
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some(ALLEN));
    assert_eq!(claims.email().map(|e| e.as_str()), Some(ALLEN));
    assert_ne!(claims.subject().as_str(), ALLEN, "sub is opaque");
    assert!(claims.auth_time().is_some());
    // Signed with the key the JWKS publishes first.
    let keys = app.portal.published_signing_keys().await.unwrap();
    let header = id_token.to_string();
    let header = header.split('.').next().unwrap();
    use base64::Engine as _;
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], keys[0].kid.as_str());

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .expect("userinfo endpoint")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some(ALLEN));
    // The school scope's claims, as JSON.
    let raw: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/oidc/userinfo", app.base))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["role"], "student");
    assert_eq!(raw["school"], "DEMO");
    assert_eq!(raw["name"], "Allen Tan");
    assert!(raw.get("class").is_some(), "{raw}");

    // A reused code: refused, and the first redemption's access token is revoked.
    let again = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&http)
        .await;
    assert!(format!("{:?}", again.expect_err("reuse refused")).contains("invalid_grant"));
    let revoked = reqwest::Client::new()
        .get(format!("{}/oidc/userinfo", app.base))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);

    let metrics = app.metrics().await;
    assert!(metrics.contains("portal_sign_on_total"), "{metrics}");
    assert!(
        metrics.contains("portal_sign_on_refused_total"),
        "{metrics}"
    );
}

/// A code for Allen (signed in and onboarded in `app.client`).
async fn fresh_code(app: &TestApp, rp: &RelyingParty) -> (String, PkceCodeVerifier) {
    let (url, _, _, verifier) = rp.start();
    let (callback, seen) = browse(&app.client, url.as_str(), &app.base).await;
    let callback = callback.unwrap_or_else(|| panic!("no code: {seen:?}"));
    (query(&callback, "code").expect("code"), verifier)
}

async fn redeem(
    rp: &RelyingParty,
    secret: Option<&str>,
    code: &str,
    verifier: PkceCodeVerifier,
) -> Result<(), String> {
    rp.client(secret)
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test]
async fn wrong_secrets_verifiers_late_codes_and_unknown_apps_are_refused() {
    let app = spawn_app().await;
    let rp = RelyingParty::register(&app, false).await;
    let public = RelyingParty::register(&app, true).await;
    app.complete_onboarding().await;

    // A wrong secret: invalid_client (401).
    let (code, verifier) = fresh_code(&app, &rp).await;
    let refused = redeem(&rp, Some("not-the-secret"), &code, verifier).await;
    assert!(refused.unwrap_err().contains("invalid_client"));
    // A PKCE mismatch.
    let (code, _) = fresh_code(&app, &rp).await;
    let refused = redeem(
        &rp,
        rp.secret.as_deref(),
        &code,
        PkceCodeVerifier::new("y".repeat(43)),
    )
    .await;
    assert!(refused.unwrap_err().contains("invalid_grant"));
    // A code past its 60 seconds.
    let (code, verifier) = fresh_code(&app, &rp).await;
    app.clock.advance(61);
    let refused = redeem(&rp, rp.secret.as_deref(), &code, verifier).await;
    assert!(refused.unwrap_err().contains("invalid_grant"));
    // A public client: PKCE alone, no secret.
    let (code, verifier) = fresh_code(&app, &public).await;
    redeem(&public, None, &code, verifier)
        .await
        .expect("public client with PKCE");

    // An unknown client and an unregistered redirect URI: a page here, never a redirect.
    for bad in [
        format!("/oidc/authorize?client_id=nobody&redirect_uri={CALLBACK}&response_type=code&scope=openid"),
        format!(
            "/oidc/authorize?client_id={}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code&scope=openid",
            rp.client_id
        ),
    ] {
        let page = app.page(&bad).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(page.location, None, "{bad}");
        assert!(page.body.contains("Sign-in request refused"));
    }
    // The implicit flow: back to the app with an error.
    let implicit = app
        .page(&format!(
            "/oidc/authorize?client_id={}&redirect_uri={CALLBACK}&response_type=id_token&scope=openid&state=s1",
            rp.client_id
        ))
        .await;
    let location = implicit.location.expect("back to the app");
    assert_eq!(
        query(&location, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert_eq!(query(&location, "state").as_deref(), Some("s1"));
    // The token endpoint for an unknown client.
    let unknown = reqwest::Client::new()
        .post(format!("{}/oidc/token", app.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "whatever"),
            ("client_id", "nobody"),
            ("redirect_uri", CALLBACK),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn a_student_in_mid_journey_gets_the_journey_then_the_code() {
    let app = spawn_app().await;
    let rp = RelyingParty::register(&app, false).await;
    // Not signed in: the sign-in page.
    let (url, state, nonce, verifier) = rp.start();
    let first = app
        .page(&format!("{}?{}", url.path(), url.query().unwrap()))
        .await;
    assert_eq!(first.location.as_deref(), Some("/"));
    // Signed in with the letter's password: the journey, not a code.
    assert_eq!(app.sign_in(ALLEN, TEMP).await.status, StatusCode::OK);
    let portal = app.page("/portal").await;
    let setup_path = domain::route::Route::Step(domain::journey::Step::SetupQuestions).path();
    assert_eq!(portal.location.as_deref(), Some(setup_path));
    let setup = app.page(setup_path).await;
    assert!(
        setup.body.contains("Student Learning Space"),
        "the journey says which app is waiting"
    );
    assert_eq!(app.setup_seed_questions().await.status, StatusCode::OK);
    assert_eq!(
        app.call("confirm_questions", &[]).await.status,
        StatusCode::OK
    );
    // No code yet: asking again is sent back into the journey.
    let (callback, seen) = browse(&app.client, url.as_str(), &app.base).await;
    assert_eq!(
        callback, None,
        "a code before the password was changed: {seen:?}"
    );
    assert_eq!(
        app.change_password(NEW_PASSWORD, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    // Step 8's "Continue" leads to the portal page, which returns to the app.
    let (callback, seen) = browse(&app.client, "/portal?first=1", &app.base).await;
    let callback = callback.unwrap_or_else(|| panic!("not back at the app: {seen:?}"));
    assert_eq!(
        query(&callback, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = query(&callback, "code").unwrap();
    let client = rp.client(rp.secret.as_deref());
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("tokens");
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .expect("valid");
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some(ALLEN));
    // The portal page itself is reachable again afterwards (the request is forgotten).
    assert_eq!(app.page("/portal").await.status, StatusCode::OK);
}

#[tokio::test]
async fn prompt_none_login_and_a_locked_account_get_no_code() {
    let app = spawn_app().await;
    let rp = RelyingParty::register(&app, false).await;
    let (url, _, _, _) = rp.start();
    let silent = format!("{}&prompt=none", url);
    // Not signed in, prompt=none: login_required at the app.
    let (callback, _) = browse(&app.client, &silent, &app.base).await;
    assert_eq!(
        query(&callback.unwrap(), "error").as_deref(),
        Some("login_required")
    );
    app.complete_onboarding().await;
    let (callback, _) = browse(&app.client, &silent, &app.base).await;
    assert!(
        query(&callback.unwrap(), "code").is_some(),
        "prompt=none with a session"
    );
    // prompt=login: the session ends and the sign-in page is shown.
    let login = app
        .page(&format!(
            "{}?{}&prompt=login",
            url.path(),
            url.query().unwrap()
        ))
        .await;
    assert_eq!(login.location.as_deref(), Some("/"));
    assert_eq!(app.page("/portal").await.location.as_deref(), Some("/"));
    // Signing in again returns to the app (without asking for a fresh sign-in again).
    assert_eq!(
        app.sign_in(ALLEN, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    let (callback, seen) = browse(&app.client, "/portal", &app.base).await;
    assert!(query(&callback.unwrap_or_else(|| panic!("{seen:?}")), "code").is_some());
    // Locked (five different wrong passwords from elsewhere): no code.
    for n in 1..=5 {
        app.sign_in_elsewhere(ALLEN, &format!("Wrong-Password-{n}"))
            .await;
    }
    let (callback, seen) = browse(&app.client, url.as_str(), &app.base).await;
    let callback = callback.unwrap_or_else(|| panic!("{seen:?}"));
    assert_eq!(query(&callback, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&callback, "code"), None);
}

/// Follows every redirect (the portal's and the demo app's) to the page it ends on.
async fn follow(app: &TestApp, start: &str) -> (StatusCode, String, Vec<String>) {
    let mut next = format!("{}{start}", app.base);
    let mut seen = Vec::new();
    for _ in 0..12 {
        seen.push(next.clone());
        let response = app.client.get(&next).send().await.expect("get");
        match response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
        {
            Some(location) if location.starts_with('/') => {
                next = format!("{}{location}", app.base);
            }
            Some(location) => next = location.to_string(),
            None => {
                let status = response.status();
                return (status, response.text().await.unwrap_or_default(), seen);
            }
        }
    }
    panic!("too many redirects: {seen:?}");
}

#[tokio::test]
async fn practice_modes_demo_app_signs_allen_in_through_the_provider_after_the_journey() {
    let app = spawn_app_with(|config| config.practice = true).await;
    app.complete_onboarding().await;
    // The portal's SLS tile leads to the demo app.
    let portal = app.page("/portal").await;
    assert!(
        portal.body.contains("href=\"/demo-app/\""),
        "{}",
        portal.body
    );
    let (status, body, seen) = follow(&app, "/demo-app/").await;
    assert_eq!(status, StatusCode::OK, "{seen:?}\n{body}");
    assert!(
        body.contains(
            "Signed in to Student Learning Space as Allen Tan (allen_tan@students.edu.sg), P5 Kindness"
        ),
        "{seen:?}\n{body}"
    );
    assert!(
        seen.iter().any(|url| url.contains("/oidc/authorize?")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|url| url.contains("/demo-app/callback?code=")),
        "{seen:?}"
    );
    // It registered itself once, as a public client.
    let clients = app.portal.registered_clients().await.unwrap();
    assert_eq!(clients.len(), 1);
    assert!(clients[0].secret_hash.is_none());
    // Signing out of the app ends the portal session too (after the portal's confirmation).
    let signed_out = app
        .client
        .post(format!("{}/demo-app/sign-out", app.base))
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    let end_session = signed_out.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(end_session.starts_with("/oidc/logout?"), "{end_session}");
    let confirm = app.page(&end_session).await;
    assert!(
        confirm.body.contains("Sign out of the portal?"),
        "{}",
        confirm.body
    );
    let form: Vec<(String, String)> = url::Url::parse(&format!("{}{end_session}", app.base))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let done = app
        .client
        .post(format!("{}/oidc/logout", app.base))
        .header("origin", &app.base)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        done.headers()[LOCATION].to_str().unwrap(),
        format!("{}/", app.base)
    );
    // The demo app now sends the browser to the sign-in page.
    let (_, _, seen) = follow(&app, "/demo-app/").await;
    assert!(
        seen.last().unwrap().ends_with(&format!("{}/", app.base)),
        "{seen:?}"
    );
}

/// The `kid` in an id token's header.
fn kid_of(id_token: &str) -> String {
    use base64::Engine as _;
    let header = id_token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_rotated_key_signs_once_relying_parties_can_have_seen_it() {
    let app = spawn_app().await;
    let rp = RelyingParty::register(&app, false).await;
    app.complete_onboarding().await;
    let first = app.portal.published_signing_keys().await.unwrap()[0]
        .kid
        .clone();
    app.clock.advance(120);
    app.portal
        .rotate_signing_key(server::oidc::generate_key().unwrap(), "test")
        .await
        .unwrap();
    let second = app.portal.published_signing_keys().await.unwrap()[0]
        .kid
        .clone();
    assert_ne!(first, second);
    // Just rotated: relying parties may still hold the JWKS without the new key (60 s).
    app.clock.advance(11);
    assert_eq!(token_kid(&app, &rp).await, first);
    app.clock.advance(60);
    assert_eq!(token_kid(&app, &rp).await, second);
}

/// The `kid` that signed a fresh id token for Allen; the token checks out against the
/// JWKS either way.
async fn token_kid(app: &TestApp, rp: &RelyingParty) -> String {
    let (url, _, nonce, verifier) = rp.start();
    let (callback, seen) = browse(&app.client, url.as_str(), &app.base).await;
    let code = query(&callback.unwrap_or_else(|| panic!("{seen:?}")), "code").unwrap();
    // The relying party reads the JWKS afresh (as after its cache expired).
    let rp = RelyingParty {
        client_id: rp.client_id.clone(),
        secret: rp.secret.clone(),
        metadata: CoreProviderMetadata::discover_async(
            IssuerUrl::new(app.base.clone()).unwrap(),
            &http,
        )
        .await
        .expect("discovery"),
    };
    let client = rp.client(rp.secret.as_deref());
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("tokens");
    let id_token = tokens.id_token().unwrap();
    id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("valid against the JWKS");
    kid_of(&id_token.to_string())
}

#[tokio::test]
async fn an_authorization_request_may_be_posted_and_a_refusal_is_in_the_persons_language() {
    let app = spawn_app().await;
    let rp = RelyingParty::register(&app, false).await;
    app.complete_onboarding().await;
    let (url, state, _, _) = rp.start();
    // A form post from the app's page (another site): the same request in the body.
    let posted = app
        .client
        .post(format!("{}/oidc/authorize", app.base))
        .header("origin", "http://127.0.0.1:9")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(url.query().unwrap().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let location = posted.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(
        query(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert!(query(&location, "code").is_some());

    // An unknown app, asked for in Chinese: the page says so in Chinese, and stays here.
    let page = app
        .client
        .get(format!(
            "{}/oidc/authorize?client_id=nobody&redirect_uri={CALLBACK}&response_type=code&scope=openid",
            app.base
        ))
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.headers().get(LOCATION).is_none());
    let body = page.text().await.unwrap();
    assert!(body.contains("lang=\"zh\""), "{body}");
    assert!(body.contains("此应用未在门户注册。"), "{body}");
    // Not audited (anyone can send one), but counted.
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(
            "portal_sign_on_refused_total{client=\"unregistered\",why=\"unknown_client\"}"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn registered_apps_with_a_tile_appear_on_the_portal_for_their_roles_only() {
    let app = spawn_app().await;
    let register = |name: &'static str, role: domain::provisioning::Role| {
        let portal = app.portal.clone();
        async move {
            portal
                .register_client(
                    NewClient {
                        name: name.into(),
                        redirect_uris: vec![format!(
                            "https://{}.school.example/cb",
                            name.to_lowercase()
                        )],
                        public: false,
                        roles: vec![role],
                        tile: Some(portal_core::ports::ClientTile {
                            title: name.into(),
                            description: Some(format!("{name} for the class")),
                        }),
                        launch_uri: Some(format!(
                            "https://{}.school.example/login",
                            name.to_lowercase()
                        )),
                    },
                    "test",
                )
                .await
                .expect("register")
        }
    };
    register("Library", domain::provisioning::Role::Student).await;
    register("Markbook", domain::provisioning::Role::Staff).await;
    app.complete_onboarding().await;
    let portal = app.page("/portal").await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(
        portal
            .body
            .contains("href=\"https://library.school.example/login\""),
        "{}",
        portal.body
    );
    assert!(portal.body.contains("Library for the class"));
    assert!(
        !portal.body.contains("Markbook"),
        "a staff app's tile shown to a student"
    );
    // The seed's tiles are still there, where configuration points them.
    assert!(portal
        .body
        .contains("href=\"https://mail.google.com/a/students.edu.sg\""));
    assert!(portal
        .body
        .contains("href=\"https://vle.learning.moe.edu.sg\""));
}

#[tokio::test]
async fn the_seed_tiles_follow_configuration_and_an_empty_address_hides_one() {
    let app = spawn_app_with(|config| {
        config.email_url = Some(String::new());
        config.learning_space_url = Some("https://sls.school.example/start".into());
    })
    .await;
    app.complete_onboarding().await;
    let portal = app.page("/portal").await;
    assert!(!portal.body.contains("mail.google.com"), "{}", portal.body);
    assert!(!portal.body.contains("Student ICON E-Mail"));
    assert!(portal
        .body
        .contains("href=\"https://sls.school.example/start\""));
}
