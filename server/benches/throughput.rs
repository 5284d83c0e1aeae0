//! Benchmark 1 of issue 7: how close the sign-in rate comes to the physical limit, the
//! raw argon2id verification rate at the same parameters on the same workers. Both are
//! measured in this run, one after the other; the figure is their ratio (goal ≥ 0.90).
//!
//! Run: `cargo bench -p server --bench throughput` (BENCH_SECS=n per phase, default 10).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::secret::Secret;
use app::ssr::ports::SecretHasher as _;
use server::clock::SystemClock;
use server::config::Config;
use server::crypto::{Argon2Hasher, HashCost};

fn fail(message: &str) -> ! {
    eprintln!("throughput: {message}");
    std::process::exit(1)
}

fn config(database_url: String, workers: usize) -> Config {
    Config {
        database_url,
        idle_timeout_secs: 240,
        absolute_timeout_secs: 8 * 3600,
        argon2_memory_kib: HashCost::PRODUCTION.memory_kib,
        argon2_iterations: HashCost::PRODUCTION.iterations,
        hash_workers: Some(workers),
        hash_memory_mib: 256,
        hash_queue: 1024,
        secure_cookies: false,
        lockout_attempts: 5,
        lockout_secs: 900,
        lockout_max_secs: 3600,
        sign_in_per_minute: 0,
        sign_in_burst: 1,
        trust_forwarded_for: false,
        reauth_secs: 300,
        password_history: 5,
        reset_attempts: 5,
        reset_window_secs: 3600,
        reset_block_secs: 86_400,
        practice: false,
    }
}

/// Raw verifications per second with `workers` verifying in parallel, through the
/// same hasher (blocking pool, semaphore) the server uses.
async fn raw_rate(workers: usize, secs: u64) -> f64 {
    let hasher = Arc::new(
        Argon2Hasher::new(HashCost::PRODUCTION, workers, 1024)
            .unwrap_or_else(|e| fail(&e.to_string())),
    );
    let secret = Secret::new("2024Kmps");
    let phc = hasher
        .hash(&secret)
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
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
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let n = count.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    n as f64 / elapsed
}

/// Sign-ins per second over HTTP against the real server, `clients` at once.
async fn sign_in_rate(workers: usize, clients: usize, secs: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let config = config(url, workers);
    let portal = server::build_portal(&config, config.hash_cost(), Arc::new(SystemClock))
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    server::demo::seed(&portal)
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| fail(&e.to_string()));
    tokio::spawn(server::serve(
        listener,
        server::router(portal, server::leptos_options(Some(addr))),
    ));
    let base = format!("http://{addr}");
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (base, stop, count) = (base.clone(), stop.clone(), count.clone());
        let login = server::demo::DEMO_STUDENTS[i % server::demo::DEMO_STUDENTS.len()].1;
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let ok = client
                    .post(format!("{base}/api/sign_in"))
                    .header("accept", "application/json")
                    .form(&[("username", login), ("password", "2024Kmps")])
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let n = count.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    n as f64 / elapsed
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .max(2);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let raw = raw_rate(workers, secs).await;
    let signed = sign_in_rate(workers, workers * 4, secs).await;
    println!(
        "sign-in throughput, argon2id m=19456 t=2 p=1, {workers} hash workers, {secs} s per phase"
    );
    println!("  raw argon2id verify rate : {raw:>8.1} /s");
    println!(
        "  HTTP sign-in rate        : {signed:>8.1} /s  ({} clients, SQLite)",
        workers * 4
    );
    println!(
        "  ratio sign-in / raw      : {:>8.3}   (goal >= 0.90)",
        signed / raw
    );
}
