//! Two server processes on one PostgreSQL database behave as one: a session made on A
//! works on B, the lockout counts attempts on A and B together, and the idle timeout
//! holds across both. Real processes (the `server` binary), a real clock.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

use super::postgres::PgDatabase;
use crate::common::*;

/// A `server` process, killed when dropped.
pub struct Instance {
    pub child: Child,
    pub base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

pub async fn start(database_url: &str, demo: bool, idle_secs: u32) -> Instance {
    start_with(database_url, demo, idle_secs, &[]).await
}

/// `start`, with more environment variables (they win over the defaults above).
pub async fn start_with(
    database_url: &str,
    demo: bool,
    idle_secs: u32,
    extra: &[(&str, &str)],
) -> Instance {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    if demo {
        command.arg("--demo");
    }
    let child = command
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "school-portal")
        .env("PORTAL_IDLE_TIMEOUT_SECS", idle_secs.to_string())
        // Cheap hashes: this test is about the shared state, not the cost.
        .env("PORTAL_ARGON2_MEMORY_KIB", "256")
        .env("PORTAL_ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "warn")
        // Many sign-ins from one address in these tests: the lockout is what they test.
        .env("PORTAL_SIGN_IN_PER_MINUTE", "0")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start server");
    let instance = Instance {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = new_client();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{}/", instance.base)).send().await {
            if r.status().is_success() {
                return instance;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server at {} did not start", instance.base);
}

async fn sign_in(client: &reqwest::Client, base: &str, login: &str, password: &str) -> StatusCode {
    client
        .post(format!("{base}/api/sign_in"))
        .header("accept", "application/json")
        .form(&[("username", login), ("password", password)])
        .send()
        .await
        .expect("sign in")
        .status()
}

async fn page(client: &reqwest::Client, url: String) -> (StatusCode, Option<String>) {
    let r = client
        .get(url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (r.status(), location)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_behave_as_one() {
    let db = PgDatabase::create().await;
    let a = start(&db.url, true, 10).await;
    let b = start(&db.url, false, 10).await;

    // A session made on A works on B (the cookie is for the host, both ports).
    let client = new_client();
    assert_eq!(sign_in(&client, &a.base, ALLEN, TEMP).await, StatusCode::OK);
    let (status, _) = page(&client, format!("{}/sspr/setup-questions", b.base)).await;
    assert_eq!(status, StatusCode::OK);

    // The lockout counts wrong passwords on A and B together.
    let chloe = "chloe_ng@students.edu.sg";
    for (i, base) in [&a.base, &b.base, &a.base, &b.base, &a.base]
        .into_iter()
        .enumerate()
    {
        let status = sign_in(&new_client(), base, chloe, &format!("wrong-{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    for base in [&a.base, &b.base] {
        assert_eq!(
            sign_in(&new_client(), base, chloe, TEMP).await,
            StatusCode::UNAUTHORIZED,
            "locked on {base}"
        );
    }

    // The idle timeout holds across both: idle on A, then a request to B.
    let idle = new_client();
    assert_eq!(
        sign_in(&idle, &a.base, "lim_wei_ling@students.edu.sg", TEMP).await,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_secs(11)).await;
    let (status, location) = page(&idle, format!("{}/sspr/setup-questions", b.base)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/?timeout=1"));
}

/// SIGTERM while sign-ins are still queued for the hasher: the server stops taking new
/// connections but finishes every request it has accepted (each gets its 200 and its
/// session), then exits cleanly. Production argon2 cost and one hash worker, so the
/// requests are really in flight when the signal lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_finishes_the_requests_in_flight_then_exits() {
    const REQUESTS: usize = 40;
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("portal.db").display());
    let mut server = start_with(
        &url,
        true,
        240,
        &[
            ("PORTAL_ARGON2_MEMORY_KIB", "19456"),
            ("PORTAL_ARGON2_ITERATIONS", "2"),
            ("PORTAL_HASH_WORKERS", "1"),
            ("PORTAL_HASH_QUEUE", "256"),
        ],
    )
    .await;
    let base = server.base.clone();
    let logins: Vec<&str> = server::demo::DEMO_STUDENTS.iter().map(|s| s.1).collect();
    let (first_tx, mut first_rx) = tokio::sync::mpsc::channel::<()>(REQUESTS);
    let mut tasks = Vec::new();
    for i in 0..REQUESTS {
        let base = base.clone();
        let login = logins[i % logins.len()].to_string();
        let first_tx = first_tx.clone();
        tasks.push(tokio::spawn(async move {
            let status = sign_in(&new_client(), &base, &login, TEMP).await;
            let _ = first_tx.send(()).await;
            status
        }));
    }
    // The first answer is back: the rest are queued behind one hash worker.
    first_rx.recv().await.expect("a first answer");
    let pid = server.child.id().to_string();
    let term = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "every accepted request is answered: {statuses:?}"
    );
    // It exits by itself, successfully.
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = server.child.try_wait().expect("wait") {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exited = exited.expect("the server exits after SIGTERM");
    assert!(exited.success(), "{exited:?}");
    // Every one of those sign-ins left its session behind.
    let pool = sqlx::SqlitePool::connect(&url).await.expect("pool");
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(sessions, REQUESTS as i64);
}

/// Single sign-on across instances: a code issued by A is redeemed on B, the id token B
/// signs checks out against the JWKS A publishes (one key, in the database), and A's
/// userinfo reads B's access token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_issued_on_one_instance_is_redeemed_on_the_other() {
    use base64::Engine as _;
    use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
    use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};
    use sha2::{Digest as _, Sha256};

    const CALLBACK: &str = "http://127.0.0.1:9/callback";
    let db = PgDatabase::create().await;
    let issuer = "http://portal.school.test";
    let both = [("PORTAL_PUBLIC_URL", "http://portal.school.test/")];
    let a = start_with(&db.url, true, 240, &both).await;
    let b = start_with(&db.url, false, 240, &both).await;
    let added = Command::new(env!("CARGO_BIN_EXE_server"))
        .args([
            "clients",
            "add",
            "--name",
            "SLS",
            "--redirect-uri",
            CALLBACK,
        ])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("clients add");
    assert!(added.status.success());
    let printed = String::from_utf8_lossy(&added.stdout).into_owned();
    let field = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('\t'))
            .expect("printed")
            .to_string()
    };
    let (client_id, secret) = (field("client_id"), field("client_secret"));

    // Allen's journey on A.
    let browser = new_client();
    assert_eq!(
        sign_in(&browser, &a.base, ALLEN, TEMP).await,
        StatusCode::OK
    );
    for (endpoint, form) in [
        ("setup_questions", SEED_QUESTIONS.to_vec()),
        ("confirm_questions", vec![]),
        (
            "change_password",
            vec![
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        ),
    ] {
        let status = browser
            .post(format!("{}/api/{endpoint}", a.base))
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .expect(endpoint)
            .status();
        assert_eq!(status, StatusCode::OK, "{endpoint}");
    }
    // The code, from A.
    let verifier = "a".repeat(43);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let authorize = browser
        .get(format!("{}/oidc/authorize", a.base))
        .query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("state", "s"),
            ("nonce", "n-42"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("authorize");
    let location = authorize.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code: {location}"));
    // Redeemed on B.
    let tokens: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oidc/token", b.base))
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let id_token: CoreIdToken = tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"))
        .parse()
        .expect("an id token");
    let jwks: CoreJsonWebKeySet = reqwest::get(format!("{}/oidc/jwks", a.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(client_id.clone()),
        ClientSecret::new(secret.clone()),
        IssuerUrl::new(issuer.into()).unwrap(),
        jwks,
    );
    let claims = id_token
        .claims(&verifier, &Nonce::new("n-42".into()))
        .expect("B's token checks out against A's JWKS");
    assert_eq!(claims.preferred_username().unwrap().as_str(), ALLEN);
    // B's access token reads userinfo on A.
    let info = reqwest::Client::new()
        .get(format!("{}/oidc/userinfo", a.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::OK);
    // And the code is spent on both.
    let again = reqwest::Client::new()
        .post(format!("{}/oidc/token", a.base))
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", "a".repeat(43).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}
