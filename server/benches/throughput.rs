//! Benchmark 1 of issue 7: how close the sign-in rate comes to the physical limit, the
//! raw argon2id verification rate at the same parameters on the same workers. The two
//! are measured in alternating rounds in this run (raw, sign-in, raw, sign-in…) so a
//! slow spell of the machine hits both; the figure is the ratio of the totals
//! (goal ≥ 0.90).
//!
//! Run: `cargo bench -p server --bench throughput` (BENCH_SECS=n seconds per phase of
//! each round, default 5; BENCH_ROUNDS=n rounds, default 4).

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;

/// Sign-ins per second over HTTP against the running server, `clients` at once.
async fn sign_in_rate(base: &str, clients: usize, secs: f64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (base, stop, count) = (base.to_string(), stop.clone(), count.clone());
        let login = bench_login(i);
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let ok = client
                    .post(format!("{base}/api/sign_in"))
                    .header("accept", "application/json")
                    .form(&[
                        ("username", login.as_str()),
                        ("password", TEMPORARY_PASSWORD),
                    ])
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    rate_over(secs, &stop, &count, tasks).await
}

#[tokio::main]
async fn main() {
    let secs = phase_secs(5) as f64;
    let rounds = bench_rounds(4);
    let workers = cores();
    let clients = workers * 4;
    let database = Database::sqlite();
    let (base, portal) = start_server(&config(database.url(), workers, 1024)).await;
    add_accounts(&portal, &database.url(), clients).await;
    // Warm-up: connections, statement caches, the allocator.
    sign_in_rate(&base, clients, 1.0).await;

    let (mut raw_sum, mut signed_sum) = (0.0, 0.0);
    println!(
        "benchmark 1: sign-in throughput, argon2id m=19456 t=2 p=1, {workers} hash workers, \
         {clients} HTTP clients, SQLite, {rounds} rounds x {secs} s per phase"
    );
    for round in 1..=rounds {
        let raw = raw_rate(workers, secs).await;
        let signed = sign_in_rate(&base, clients, secs).await;
        println!(
            "  round {round}: raw verify {raw:>7.1}/s   HTTP sign-in {signed:>7.1}/s   ratio {:.3}",
            signed / raw
        );
        raw_sum += raw;
        signed_sum += signed;
    }
    let (raw, signed) = (raw_sum / rounds as f64, signed_sum / rounds as f64);
    println!("  raw argon2id verify rate : {raw:>8.1} /s");
    println!("  HTTP sign-in rate        : {signed:>8.1} /s");
    println!(
        "  RESULT sign-in / raw verify = {:.3}   (goal >= 0.90)",
        signed / raw
    );
}
