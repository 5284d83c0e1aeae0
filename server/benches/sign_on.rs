//! Issue 16's benchmark: single sign-on's full round trip for a signed-in student who
//! has finished the journey — authorize (browser, with the portal's session cookie) →
//! code → token (the app's back end, client secret, PKCE) → userinfo (access token) —
//! per second, against the server-rendered sign-in page's rate in the same run, at the
//! same concurrency. No argon2 runs in that path; the goal is at least 0.5×.
//!
//! It also prints each leg's mean latency, which says what limits the round trip.
//!
//! Run: `cargo bench -p server --bench sign_on` (BENCH_SECS=n per phase, default 8;
//! BENCH_ROUNDS=n, default 3). SQLite, in-process server, production settings.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use common::*;
use portal_core::service::federation::NewClient;
use sha2::{Digest as _, Sha256};

const CALLBACK: &str = "http://127.0.0.1:9/callback";
const NEW_PASSWORD: &str = "Quiet-Harbour-81";
const CONCURRENCY: usize = 8;

/// One student through the journey over HTTP; the browser (its cookies).
async fn onboarded_browser(base: &str, login: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .or_fail("client");
    let call = |endpoint: &'static str, form: Vec<(&'static str, String)>| {
        let client = client.clone();
        let url = format!("{base}/api/{endpoint}");
        async move {
            let response = client
                .post(url)
                .header("accept", "application/json")
                .form(&form)
                .send()
                .await
                .or_fail(endpoint);
            if !response.status().is_success() {
                fail(&format!("{endpoint}: {}", response.status()));
            }
        }
    };
    call(
        "sign_in",
        vec![
            ("username", login.to_string()),
            ("password", TEMPORARY_PASSWORD.to_string()),
        ],
    )
    .await;
    call(
        "setup_questions",
        [
            ("question1", "food"),
            ("answer1", "Ramen"),
            ("question2", "animal"),
            ("answer2", "Shark"),
            ("question3", "colour"),
            ("answer3", "Turquoise"),
        ]
        .map(|(k, v)| (k, v.to_string()))
        .to_vec(),
    )
    .await;
    call("confirm_questions", vec![]).await;
    call(
        "change_password",
        vec![
            ("new_password", NEW_PASSWORD.to_string()),
            ("confirm_password", NEW_PASSWORD.to_string()),
        ],
    )
    .await;
    client
}

/// Nanoseconds spent in each leg, over every round trip.
#[derive(Default)]
struct Legs {
    authorize: AtomicU64,
    token: AtomicU64,
    userinfo: AtomicU64,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One full round trip; `Err` says which leg failed.
async fn round_trip(
    base: &str,
    browser: &reqwest::Client,
    app: &reqwest::Client,
    client_id: &str,
    secret: &str,
    legs: &Legs,
) -> Result<(), String> {
    let verifier = b64(&rand::random::<[u8; 32]>());
    let challenge = b64(&Sha256::digest(verifier.as_bytes()));
    let state = b64(&rand::random::<[u8; 16]>());
    let started = Instant::now();
    let authorize = browser
        .get(format!("{base}/oidc/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid school"),
            ("state", &state),
            ("nonce", "bench"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .map_err(|e| format!("authorize: {e}"))?;
    let location = authorize
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("authorize: no redirect")?
        .to_string();
    let code = url::Url::parse(&location)
        .map_err(|e| e.to_string())?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("authorize: no code in {location}"))?;
    let t1 = Instant::now();
    legs.authorize
        .fetch_add((t1 - started).as_nanos() as u64, Ordering::Relaxed);
    let token: serde_json::Value = app
        .post(format!("{base}/oidc/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .map_err(|e| format!("token: {e}"))?
        .json()
        .await
        .map_err(|e| format!("token: {e}"))?;
    let access = token["access_token"]
        .as_str()
        .ok_or_else(|| format!("token: {token}"))?;
    if token["id_token"].as_str().is_none() {
        return Err("token: no id token".into());
    }
    let t2 = Instant::now();
    legs.token
        .fetch_add((t2 - t1).as_nanos() as u64, Ordering::Relaxed);
    let info = app
        .get(format!("{base}/oidc/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .map_err(|e| format!("userinfo: {e}"))?;
    if !info.status().is_success() {
        return Err(format!("userinfo: {}", info.status()));
    }
    info.bytes().await.map_err(|e| e.to_string())?;
    legs.userinfo
        .fetch_add(t2.elapsed().as_nanos() as u64, Ordering::Relaxed);
    Ok(())
}

/// Seconds per RS256 signature with `signer`, over 200.
fn per_signature(
    signer: &impl openidconnect::PrivateSigningKey<
        VerificationKey = openidconnect::core::CoreJsonWebKey,
    >,
) -> f64 {
    let started = Instant::now();
    let signatures = 200;
    for _ in 0..signatures {
        signer
            .sign(
                &openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                b"header.claims",
            )
            .or_fail("sign");
    }
    started.elapsed().as_secs_f64() / f64::from(signatures)
}

#[tokio::main]
async fn main() {
    let secs = phase_secs(8) as f64;
    let rounds = bench_rounds(3);
    let database = Database::sqlite();
    let config = config(database.url(), cores(), 64);
    let (base, portal) = start_server(&config).await;
    add_accounts(&portal, &database.url(), 1).await;
    let browser = onboarded_browser(&base, &bench_login(0)).await;
    let registered = portal
        .register_client(
            NewClient {
                name: "Bench app".into(),
                redirect_uris: vec![CALLBACK.into()],
                public: false,
                roles: vec![domain::provisioning::Role::Student],
                tile: None,
                launch_uri: None,
            },
            "bench",
        )
        .await
        .or_fail("register");
    let client_id = Arc::new(registered.client_id);
    let secret = Arc::new(
        registered
            .secret
            .map(|s| s.expose().to_string())
            .unwrap_or_else(|| fail("no secret")),
    );
    let app = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .or_fail("client");
    // One round trip first: a failure says why before anything is timed.
    let legs = Arc::new(Legs::default());
    round_trip(&base, &browser, &app, &client_id, &secret, &legs)
        .await
        .unwrap_or_else(|e| fail(&e));

    println!(
        "benchmark sign_on (issue 16): authorize → code → token → userinfo for a signed-in \
         student, {CONCURRENCY} at once, against the SSR sign-in page at the same concurrency; \
         {rounds} rounds × {secs:.0} s, SQLite, {} cores",
        cores()
    );
    // What one RS256 signature costs here (every token signs one id token), with the
    // signer the provider uses (ring) and with the rsa crate's, for comparison.
    let key = server::oidc::generate_key().or_fail("key");
    let record = portal_core::ports::SigningKeyRecord {
        kid: key.kid.clone(),
        algorithm: key.algorithm.clone(),
        private_pem: domain::secret::Secret::new(key.private_pem.expose()),
        public_jwk: key.public_jwk.clone(),
        created_at: 0,
        retired_at: None,
    };
    let ring_signer = server::oidc::RsaSigner::new(&record).or_fail("ring key");
    let rsa_signer =
        openidconnect::core::CoreRsaPrivateSigningKey::from_pem(key.private_pem.expose(), None)
            .or_fail("rsa key");
    let (ring_secs, rsa_secs) = (per_signature(&ring_signer), per_signature(&rsa_signer));
    println!(
        "  one RS256 signature on one core: ring (the provider's) {:.2} ms = at most {:.0} tokens/s \
         per core; rsa crate {:.2} ms ({:.1}× ring)",
        ring_secs * 1e3,
        1.0 / ring_secs,
        rsa_secs * 1e3,
        rsa_secs / ring_secs
    );
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        // The sign-in page.
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let tasks = (0..CONCURRENCY)
            .map(|_| {
                let (stop, count, base) = (stop.clone(), count.clone(), base.clone());
                let client = reqwest::Client::new();
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let ok = match client
                            .get(format!("{base}/"))
                            .header("accept", "text/html")
                            .send()
                            .await
                        {
                            Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                            Err(_) => false,
                        };
                        if !ok {
                            fail("the sign-in page failed");
                        }
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let pages = rate_over(secs, &stop, &count, tasks).await;

        // The round trips.
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let legs = Arc::new(Legs::default());
        let tasks = (0..CONCURRENCY)
            .map(|_| {
                let (stop, count, base, legs) =
                    (stop.clone(), count.clone(), base.clone(), legs.clone());
                let (browser, app) = (browser.clone(), app.clone());
                let (client_id, secret) = (client_id.clone(), secret.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        if let Err(error) =
                            round_trip(&base, &browser, &app, &client_id, &secret, &legs).await
                        {
                            fail(&error);
                        }
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let trips = rate_over(secs, &stop, &count, tasks).await;
        let n = count.load(Ordering::Relaxed).max(1) as f64;
        let mean = |total: &AtomicU64| total.load(Ordering::Relaxed) as f64 / n / 1e6;
        let ratio = trips / pages;
        ratios.push(ratio);
        println!(
            "  round {round}: sign-in page {pages:.0}/s; round trips {trips:.0}/s — ratio {ratio:.2} \
             (goal ≥ 0.5); mean per leg: authorize {:.2} ms, token {:.2} ms, userinfo {:.2} ms",
            mean(&legs.authorize),
            mean(&legs.token),
            mean(&legs.userinfo)
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "  round trips ÷ sign-in page rate: median {:.2}, range {:.2}–{:.2} (goal ≥ 0.5)",
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1]
    );
}
