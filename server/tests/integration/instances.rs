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
