//! What the benchmarks share: the production configuration, an in-process server on a
//! fresh database (SQLite file or a PostgreSQL database of its own), bulk accounts on a
//! temporary password, the raw argon2id rate through the server's own hasher, and
//! reading a counter from `/metrics`. Each bench uses only part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::provisioning::Role;
use domain::secret::Secret;
use portal_core::ports::{NewAccount, SecretHasher as _};
use portal_core::service::Portal;
use server::clock::SystemClock;
use server::config::Config;
use server::crypto::{Argon2Hasher, HashCost};

pub fn fail(message: &str) -> ! {
    eprintln!("bench: {message}");
    std::process::exit(1)
}

pub trait OrFail<T> {
    fn or_fail(self, what: &str) -> T;
}

impl<T, E: std::fmt::Display> OrFail<T> for Result<T, E> {
    fn or_fail(self, what: &str) -> T {
        self.unwrap_or_else(|e| fail(&format!("{what}: {e}")))
    }
}

/// Seconds per measured phase: `BENCH_SECS`, default `default`, at least 2.
pub fn phase_secs(default: u64) -> u64 {
    std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
        .max(2)
}

/// Rounds of a bench (`BENCH_ROUNDS`, at least 1).
pub fn bench_rounds(default: usize) -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
        .max(1)
}

/// Lets `tasks` (which stop when `stop` is set and add each operation to `count`) run
/// for `secs` seconds; operations per second.
pub async fn rate_over(
    secs: f64,
    stop: &AtomicBool,
    count: &AtomicUsize,
    tasks: Vec<tokio::task::JoinHandle<()>>,
) -> f64 {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let n = count.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    n as f64 / elapsed
}

pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// The production settings, with the per-client throttle off (every request of a
/// benchmark comes from one address) and room for `queue` waiting hashes.
/// The benchmark servers' `/metrics` token.
pub const METRICS_TOKEN: &str = "metrics-token-for-benches";

pub fn config(database_url: String, workers: usize, queue: usize) -> Config {
    Config {
        database_url,
        idle_timeout_secs: 240,
        absolute_timeout_secs: 8 * 3600,
        argon2_memory_kib: HashCost::PRODUCTION.memory_kib,
        argon2_iterations: HashCost::PRODUCTION.iterations,
        hash_workers: Some(workers),
        hash_memory_mib: 256,
        hash_queue: queue,
        secure_cookies: false,
        lockout_attempts: 5,
        lockout_secs: 900,
        lockout_max_secs: 3600,
        sign_in_per_minute: 0,
        sign_in_burst: 1,
        trust_forwarded_for: false,
        reauth_secs: 300,
        journey_secs: 3600,
        password_history: 5,
        reset_attempts: 5,
        reset_window_secs: 3600,
        reset_block_secs: 86_400,
        answers_per_minute: 0,
        answers_burst: 1,
        audit_retention_days: 400,
        metrics_token: Some(domain::secret::Secret::new(METRICS_TOKEN)),
        ops_addr: None,
        public_url: None,
        email_url: None,
        learning_space_url: None,
        purge_interval_secs: 0,
        practice: false,
    }
}

/// A database of the benchmark's own: a SQLite file in a temporary directory, or a
/// fresh PostgreSQL database (`PORTAL_TEST_POSTGRES`, default the local server),
/// dropped at the end.
pub enum Database {
    Sqlite(tempfile::TempDir, String),
    Postgres(String, String),
}

impl Database {
    pub fn sqlite() -> Database {
        let dir = tempfile::tempdir().or_fail("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        Database::Sqlite(dir, url)
    }

    pub async fn postgres() -> Database {
        use sqlx::Connection as _;
        let base = std::env::var("PORTAL_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
        let name = format!(
            "portal_bench_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
            .await
            .or_fail(&format!("PostgreSQL at {base}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .or_fail("create database");
        Database::Postgres(format!("{base}/{name}"), name)
    }

    pub fn url(&self) -> String {
        match self {
            Database::Sqlite(_, url) | Database::Postgres(url, _) => url.clone(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite(..) => "SQLite",
            Database::Postgres(..) => "PostgreSQL",
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Database::Postgres(_, name) = self {
            let _ = std::process::Command::new("psql")
                .args(["-h", "127.0.0.1", "-U", "postgres", "-q", "-c"])
                .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .output();
        }
    }
}

/// The real router in this process on a loopback port; returns its base URL.
pub async fn start_server(config: &Config) -> (String, Arc<Portal>) {
    let portal = server::build_portal(config, config.hash_cost(), Arc::new(SystemClock))
        .await
        .or_fail("portal");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .or_fail("bind");
    let addr = listener.local_addr().or_fail("address");
    tokio::spawn(server::serve(
        listener,
        server::router(portal.clone(), server::leptos_options(Some(addr))),
    ));
    (format!("http://{addr}"), portal)
}

pub const BENCH_SCHOOL: &str = "BENCH";
pub const TEMPORARY_PASSWORD: &str = "2024Kmps";

/// Login ID of bulk account `i`.
pub fn bench_login(i: usize) -> String {
    format!("bench_student_{i}@students.edu.sg")
}

/// `count` students on one temporary password, hashed once (the hash is the same
/// cost as one hashed per account; hashing each would only slow the set-up). Written
/// straight into the database at `database_url` (the portal's services create accounts
/// one hash each), through a store of its own.
pub async fn add_accounts(portal: &Portal, database_url: &str, count: usize) {
    let store = store::open(database_url).await.or_fail("store");
    store
        .add_school(BENCH_SCHOOL, "Benchmark School")
        .await
        .or_fail("school");
    let hash = portal
        .hasher()
        .hash(&Secret::new(TEMPORARY_PASSWORD))
        .await
        .or_fail("hash");
    let now = portal.now();
    for i in 0..count {
        store
            .insert_account(
                NewAccount {
                    login_id: bench_login(i),
                    full_name: format!("Pupil Number {i}"),
                    password_hash: hash.clone(),
                    temporary_password: true,
                    role: Role::Student,
                    school_code: Some(BENCH_SCHOOL.to_string()),
                    class_name: Some("1A".to_string()),
                    register_no: None,
                    temporary_expires_at: None,
                },
                now,
            )
            .await
            .or_fail("insert account");
    }
}

/// Raw argon2id operations per second: `workers` verifying at once through the same
/// hasher (blocking pool, semaphores) the server uses, for `secs` seconds.
pub async fn raw_rate(workers: usize, secs: f64) -> f64 {
    let hasher = Arc::new(Argon2Hasher::new(HashCost::PRODUCTION, workers, 1024).or_fail("hasher"));
    let secret = Secret::new(TEMPORARY_PASSWORD);
    let phc = hasher.hash(&secret).await.or_fail("hash");
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    // Twice as many callers as workers keep every worker busy.
    for _ in 0..workers * 2 {
        let (hasher, secret, phc, stop, count) = (
            hasher.clone(),
            secret.clone(),
            phc.clone(),
            stop.clone(),
            count.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if hasher.verify(&secret, &phc).await.unwrap_or(false) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    rate_over(secs, &stop, &count, tasks).await
}

/// The value of an unlabelled counter or gauge in the server's `/metrics` text.
pub async fn metric(base: &str, name: &str) -> f64 {
    let text = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .or_fail("metrics")
        .text()
        .await
        .or_fail("metrics body");
    text.lines()
        .filter_map(|line| line.strip_prefix(name))
        .filter_map(|rest| rest.strip_prefix(' '))
        .find_map(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The release server binary running in a process of its own; killed when dropped.
pub struct Binary {
    pub child: std::process::Child,
    pub base: String,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server binary with `args` on a free loopback port, the environment
/// `env` on top of the benchmarks' own (quiet logs), and waits until it answers.
pub async fn start_binary(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Binary {
    start_binary_logging(args, env, std::process::Stdio::inherit()).await
}

/// `start_binary`, its log (stderr) going to `log`.
pub async fn start_binary_logging(
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
    log: std::process::Stdio,
) -> Binary {
    use std::process::{Command, Stdio};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .or_fail("port");
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "school-portal")
        .env("PORTAL_METRICS_TOKEN", METRICS_TOKEN)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .or_fail("start the server binary");
    let server = Binary {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..400 {
        if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await {
            if r.status().is_success() {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fail("the server did not start")
}

/// Percentile `p` (0–100) of sorted `values`.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
