//! The server under a burst of page loads: every page, signed out, mid-journey, as an
//! onboarded student and as staff, many at once, a share of them cut off by the client mid-response. Its log must
//! show no panic: a panic per request would flood the log on the busiest day and hide
//! real faults. The real binary, its real log.

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::header::{ACCEPT, COOKIE, SET_COOKIE};

use super::instances::{free_port, Instance};
use crate::common::*;

/// The `name=value` pairs a sign-in set, as one `Cookie` header.
async fn signed_in_cookie(base: &str, login: &str, password: &str) -> String {
    let answer = reqwest::Client::new()
        .post(format!("{base}/api/sign_in"))
        .header(ACCEPT, "application/json")
        .form(&[("username", login), ("password", password)])
        .send()
        .await
        .expect("sign in");
    assert!(answer.status().is_success(), "{}", answer.status());
    answer
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Loads `url` like a browser; `cut_off`: the client gives up after that long. `Err`
/// for a load that should have completed and did not.
async fn load(
    client: reqwest::Client,
    url: String,
    cookie: String,
    cut_off: Option<Duration>,
) -> Result<reqwest::StatusCode, &'static str> {
    let mut request = client.get(url).header(ACCEPT, "text/html");
    if !cookie.is_empty() {
        request = request.header(COOKIE, cookie);
    }
    if let Some(after) = cut_off {
        request = request.timeout(after);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let body = response.bytes().await;
            (cut_off.is_some() || body.is_ok())
                .then_some(status)
                .ok_or("body")
        }
        Err(_) if cut_off.is_some() => Ok(reqwest::StatusCode::OK),
        Err(_) => Err("request"),
    }
}

/// The cookie of `login` after the whole first-login journey (on the portal).
async fn onboarded_cookie(base: &str, login: &str) -> String {
    let client = new_client();
    let call = |endpoint: &str, form: Vec<(&str, &str)>| {
        client
            .post(format!("{base}/api/{endpoint}"))
            .header(ACCEPT, "application/json")
            .form(&form)
            .send()
    };
    for (endpoint, form) in [
        ("sign_in", vec![("username", login), ("password", TEMP)]),
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
        let answer = call(endpoint, form).await.expect(endpoint);
        assert!(
            answer.status().is_success(),
            "{endpoint}: {}",
            answer.status()
        );
    }
    signed_in_cookie(base, login, NEW_PASSWORD).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn page_loads_in_parallel_and_cut_off_never_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite:{}", dir.path().join("portal.db").display());
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--demo")
        .env("DATABASE_URL", &database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "school-portal")
        .env("PORTAL_ARGON2_MEMORY_KIB", "256")
        .env("PORTAL_ARGON2_ITERATIONS", "1")
        .env("PORTAL_SIGN_IN_PER_MINUTE", "0")
        .env("RUST_LOG", "info")
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start server");
    let server = Instance {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let base = server.base.clone();
    let probe = new_client();
    let mut up = false;
    for _ in 0..200 {
        if probe.get(format!("{base}/")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start");

    let browsers = vec![
        String::new(),
        signed_in_cookie(&base, ALLEN, TEMP).await,
        onboarded_cookie(&base, "lim_wei_ling@students.edu.sg").await,
        onboarded_cookie(&base, server::demo::DEMO_STAFF.1).await,
    ];
    let mut paths = server::page_paths();
    paths.push("/no-such-page".to_string());
    paths.push("/staff/student?id=1".to_string());

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut tasks = Vec::new();
    let mut n = 0u64;
    for _round in 0..10 {
        for path in &paths {
            for cookie in &browsers {
                n += 1;
                let url = format!("{base}{path}");
                // One in three is cut off by the client after 1 to 9 ms: before, during
                // or after the server renders it.
                let cut_off = n
                    .is_multiple_of(3)
                    .then(|| Duration::from_millis(1 + n % 9));
                tasks.push(tokio::spawn(load(
                    client.clone(),
                    url,
                    cookie.clone(),
                    cut_off,
                )));
            }
        }
    }
    // And the sign-in page, the busiest on the first day, many times over.
    for i in 0..6000u64 {
        let cut_off = i
            .is_multiple_of(3)
            .then(|| Duration::from_millis(1 + i % 7));
        tasks.push(tokio::spawn(load(
            client.clone(),
            format!("{base}/"),
            String::new(),
            cut_off,
        )));
    }
    let total = tasks.len();
    let mut failed = Vec::new();
    for task in tasks {
        match task.await.expect("join") {
            Ok(status) if status.is_server_error() => failed.push(status.to_string()),
            Ok(_) => {}
            Err(what) => failed.push(what.to_string()),
        }
    }
    // Work a cut-off request started may still be finishing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(server);
    let text = std::fs::read_to_string(&log_path).expect("log");
    let panics: Vec<&str> = text.lines().filter(|l| l.contains("panicked")).collect();
    assert!(
        panics.is_empty(),
        "{} panic(s) in the server's log during {total} page loads:\n{}",
        panics.len(),
        panics
            .iter()
            .take(5)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(failed.is_empty(), "{failed:?}");
    assert!(total > 300, "{total}");
}
