//! The soak (issue 17): one server process under mixed traffic for 30 minutes
//! (`BENCH_SOAK_MINUTES`), reporting every minute its memory (RSS), the database's size,
//! p50/p99 latency and count per kind of request, 5xx answers and panics in its log.
//! Goal: RSS and database size flat after the first minutes, p99 steady, zero 5xx,
//! zero panics. Not part of `bench/run` or CI: run it on its own,
//!
//!   LEPTOS_OUTPUT_NAME=school-portal cargo bench -p server --bench soak
//!
//! The traffic, all at once, on a practice database (`--demo`, SQLite, production
//! argon2 cost, the retention job every minute):
//! - journeys: parents taking practice students from the sign-in page through the
//!   whole first login to the portal, then "Reset this practice account" (so the same
//!   students go round again, as in a class demo, and the data cannot grow with them);
//! - sign-ins of students mid-journey, and the page they land on;
//! - wrong passwords (locking accounts, and unknown login IDs);
//! - Forgot Password? attempts with wrong answers;
//! - a teacher's class view and its refreshes;
//! - page loads the client cuts off after 1–5 ms.
//!
//! Everything comes from 127.0.0.1, so the per-address throttles are off (they would
//! answer most of it with 429 and measure nothing).

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

const NEW_PASSWORD: &str = "Quiet-Harbour-81";

/// Latencies (ms) and 5xx answers per kind of request, for the current minute.
#[derive(Default)]
struct Window {
    latencies: BTreeMap<&'static str, Vec<f64>>,
    server_errors: BTreeMap<&'static str, usize>,
    transport_errors: usize,
}

#[derive(Clone)]
struct Traffic {
    base: String,
    window: Arc<Mutex<Window>>,
    stop: Arc<AtomicBool>,
}

impl Traffic {
    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .or_fail("client")
    }

    /// Sends `request`, records its latency under `kind`; the status, if it answered.
    async fn send(&self, kind: &'static str, request: reqwest::RequestBuilder) -> Option<u16> {
        let started = Instant::now();
        let result = match request.header("accept-encoding", "br, gzip").send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                response.bytes().await.map(|_| status)
            }
            Err(e) => Err(e),
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(status) => {
                window.latencies.entry(kind).or_default().push(ms);
                if status >= 500 {
                    *window.server_errors.entry(kind).or_default() += 1;
                }
                Some(status)
            }
            Err(_) => {
                window.transport_errors += 1;
                None
            }
        }
    }

    fn page(&self, client: &reqwest::Client, path: &str) -> reqwest::RequestBuilder {
        client
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html")
    }

    fn call(
        &self,
        client: &reqwest::Client,
        name: &str,
        form: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        client
            .post(format!("{}/api/{name}", self.base))
            .header("accept", "application/json")
            .form(form)
    }

    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }
}

/// The first login of `login`, page by page, to the portal. `true` if it got there.
async fn journey(t: &Traffic, client: &reqwest::Client, login: &str) -> bool {
    let ok = |s: Option<u16>| s == Some(200);
    ok(t.send("page", t.page(client, "/")).await)
        && ok(t
            .send(
                "sign_in",
                t.call(
                    client,
                    "sign_in",
                    &[("username", login), ("password", DEMO_PASSWORD)],
                ),
            )
            .await)
        && ok(t
            .send("page", t.page(client, "/sspr/setup-questions"))
            .await)
        && ok(t
            .send(
                "setup_questions",
                t.call(
                    client,
                    "setup_questions",
                    &[
                        ("question1", "food"),
                        ("answer1", "Chicken rice"),
                        ("question2", "animal"),
                        ("answer2", "Otter"),
                        ("question3", "colour"),
                        ("answer3", "Turquoise"),
                    ],
                ),
            )
            .await)
        && ok(t
            .send("page", t.page(client, "/sspr/confirm-questions"))
            .await)
        && ok(t
            .send(
                "confirm_questions",
                t.call(client, "confirm_questions", &[]),
            )
            .await)
        && ok(t
            .send("page", t.page(client, "/sspr/change-password"))
            .await)
        && ok(t
            .send(
                "change_password",
                t.call(
                    client,
                    "change_password",
                    &[
                        ("new_password", NEW_PASSWORD),
                        ("confirm_password", NEW_PASSWORD),
                    ],
                ),
            )
            .await)
        && ok(t.send("page", t.page(client, "/portal?first=1")).await)
}

const DEMO_PASSWORD: &str = "2024Kmps";

fn demo_logins() -> Vec<&'static str> {
    server::demo::DEMO_STUDENTS
        .iter()
        .map(|(_, l)| *l)
        .collect()
}

/// Journeys round and round on `logins`, each ended by the practice reset.
async fn journeys(t: Traffic, logins: Vec<&'static str>, done: Arc<AtomicUsize>) {
    let mut i = 0;
    while t.running() {
        let login = logins[i % logins.len()];
        i += 1;
        let client = t.client();
        if journey(&t, &client, login).await {
            done.fetch_add(1, Ordering::Relaxed);
        }
        // Back to the letter's password, whatever step it reached.
        let reset = t.call(&client, "reset_practice_account", &[]);
        if t.send("practice_reset", reset).await.is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn sign_ins(t: Traffic, logins: Vec<&'static str>) {
    let mut i = 0;
    while t.running() {
        let login = logins[i % logins.len()];
        i += 1;
        let client = t.client();
        let form = [("username", login), ("password", DEMO_PASSWORD)];
        if t.send("sign_in", t.call(&client, "sign_in", &form)).await == Some(200) {
            t.send("page", t.page(&client, "/sspr/setup-questions"))
                .await;
        }
    }
}

async fn wrong_passwords(t: Traffic, logins: Vec<&'static str>) {
    let mut i = 0usize;
    while t.running() {
        i += 1;
        let unknown = format!("nobody_{i}@students.edu.sg");
        let login = if i.is_multiple_of(2) {
            logins[i % logins.len()]
        } else {
            unknown.as_str()
        };
        let password = format!("wrong-{i}");
        let form = [("username", login), ("password", password.as_str())];
        t.send("wrong_password", t.call(&t.client(), "sign_in", &form))
            .await;
    }
}

async fn forgot_passwords(t: Traffic, logins: Vec<&'static str>) {
    let mut i = 0usize;
    while t.running() {
        i += 1;
        let client = t.client();
        let unknown = format!("someone_{i}@students.edu.sg");
        let login = if i.is_multiple_of(3) {
            unknown.as_str()
        } else {
            logins[i % logins.len()]
        };
        t.send("page", t.page(&client, "/forgot-password")).await;
        let started = t
            .send(
                "forgot_password",
                t.call(&client, "start_reset", &[("username", login)]),
            )
            .await;
        if started == Some(200) {
            t.send("page", t.page(&client, "/forgot-password/questions"))
                .await;
            t.send(
                "forgot_password",
                t.call(
                    &client,
                    "answer_reset",
                    &[("answer1", "not it"), ("answer2", "nor this")],
                ),
            )
            .await;
        }
    }
}

async fn class_views(t: Traffic) {
    let client = t.client();
    let staff = server::demo::DEMO_STAFF.1;
    if !journey(&t, &client, staff).await {
        fail("the teacher's first login failed");
    }
    while t.running() {
        t.send(
            "staff_class",
            t.page(&client, "/staff/class?name=P5%20Kindness"),
        )
        .await;
        t.send(
            "staff_class",
            t.call(&client, "class_progress", &[("class", "P5 Kindness")])
                .header(server::guard::BACKGROUND_HEADER, "1"),
        )
        .await;
        // Staff sessions end when idle: keep this one in use, as a teacher would.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn cut_offs(t: Traffic) {
    let paths = ["/", "/forgot-password", "/portal", "/sspr/setup-questions"];
    let mut i = 0u64;
    while t.running() {
        i += 1;
        let request = t
            .page(&t.client(), paths[(i % 4) as usize])
            .timeout(Duration::from_millis(1 + i % 5));
        let _ = request.send().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn status_kib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(f64::NAN)
}

/// Rows in the tables that grow with traffic: what the retention job must keep bounded
/// (sessions, reset attempts and limits, unknown-ID counts) and what it keeps by policy
/// (the audit trail, 400 days).
async fn table_rows(path: &std::path::Path) -> String {
    use sqlx::Connection as _;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let Ok(mut db) = sqlx::SqliteConnection::connect_with(&options).await else {
        return "rows: ?".to_string();
    };
    let mut out = String::from("rows:");
    for (label, table) in [
        ("audit", "audit_events"),
        ("sessions", "sessions"),
        ("challenges", "reset_challenges"),
        ("limits", "reset_limits"),
        ("unknown", "unknown_sign_ins"),
        ("answers", "security_answers"),
    ] {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut db)
            .await
            .unwrap_or(-1);
        out.push_str(&format!(" {label} {count}"));
    }
    let _ = db.close().await;
    out
}

fn database_bytes(path: &std::path::Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            std::fs::metadata(store::with_suffix(path, suffix))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum()
}

#[tokio::main]
async fn main() {
    let minutes: u64 = std::env::var("BENCH_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(30)
        .max(1);
    let dir = tempfile::tempdir().or_fail("temp dir");
    let db = dir.path().join("soak.db");
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).or_fail("log file");
    let url = format!("sqlite:{}", db.display());
    let server = start_binary_logging(
        &["--demo"],
        &[
            ("DATABASE_URL", url.as_ref()),
            ("PORTAL_SIGN_IN_PER_MINUTE", "0".as_ref()),
            ("PORTAL_ANSWERS_PER_MINUTE", "0".as_ref()),
            ("PORTAL_PURGE_INTERVAL_SECS", "60".as_ref()),
            ("RUST_LOG", "warn".as_ref()),
        ],
        std::process::Stdio::from(log),
    )
    .await;
    let pid = server.child.id();
    let traffic = Traffic {
        base: server.base.clone(),
        window: Arc::new(Mutex::new(Window::default())),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let logins = demo_logins();
    // Journeys on 14 students, sign-ins on 4, wrong passwords and resets on the rest.
    let (journey_logins, rest) = logins.split_at(14);
    let (sign_in_logins, guessed) = rest.split_at(4);
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for chunk in journey_logins.chunks(2) {
        tasks.push(tokio::spawn(journeys(
            traffic.clone(),
            chunk.to_vec(),
            done.clone(),
        )));
    }
    tasks.push(tokio::spawn(sign_ins(
        traffic.clone(),
        sign_in_logins.to_vec(),
    )));
    tasks.push(tokio::spawn(wrong_passwords(
        traffic.clone(),
        guessed.to_vec(),
    )));
    tasks.push(tokio::spawn(forgot_passwords(
        traffic.clone(),
        guessed.to_vec(),
    )));
    tasks.push(tokio::spawn(class_views(traffic.clone())));
    tasks.push(tokio::spawn(cut_offs(traffic.clone())));

    println!(
        "soak: one server process (--demo, SQLite, production argon2), {minutes} minutes of \
         mixed traffic; per minute: RSS, database size, journeys, then per kind: count \
         p50/p99 ms [5xx]"
    );
    let mut total_5xx = 0;
    let mut journeys_before = 0;
    for minute in 1..=minutes {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let window = std::mem::take(&mut *traffic.window.lock().unwrap_or_else(|e| e.into_inner()));
        let rss = status_kib(pid, "VmRSS") / 1024.0;
        let size = database_bytes(&db) as f64 / 1_048_576.0;
        let panics = std::fs::read_to_string(&log_path)
            .map(|text| text.matches("panicked").count())
            .unwrap_or(0);
        let journeys_now = done.load(Ordering::Relaxed);
        let mut line = format!(
            "  min {minute:>2}: RSS {rss:>6.1} MiB  db {size:>6.2} MiB  journeys {:>4}  panics {panics}",
            journeys_now - journeys_before
        );
        journeys_before = journeys_now;
        for (kind, mut latencies) in window.latencies {
            latencies.sort_by(f64::total_cmp);
            let errors = window.server_errors.get(kind).copied().unwrap_or(0);
            total_5xx += errors;
            line.push_str(&format!(
                "  | {kind} {} {:.0}/{:.0}{}",
                latencies.len(),
                percentile(&latencies, 50.0),
                percentile(&latencies, 99.0),
                if errors > 0 {
                    format!(" [{errors} 5xx]")
                } else {
                    String::new()
                }
            ));
        }
        line.push_str(&format!("  | {}", table_rows(&db).await));
        if window.transport_errors > 0 {
            line.push_str(&format!("  | transport errors {}", window.transport_errors));
        }
        println!("{line}");
    }
    traffic.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let panics = std::fs::read_to_string(&log_path)
        .map(|text| text.matches("panicked").count())
        .unwrap_or(0);
    println!(
        "  RESULT soak {minutes} min: {} journeys, {total_5xx} 5xx, {panics} panics (goal 0 and 0)",
        done.load(Ordering::Relaxed)
    );
}
