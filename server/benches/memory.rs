//! Benchmark 3 of issue 7: memory under a burst. 500 sign-ins arrive at once at the
//! real server binary (production argon2 cost, default hash workers and queue). The
//! hash workers bound the argon2 memory: the process's peak resident set should stay
//! within 10 % of
//!
//!   base RSS (started, pages served, no burst yet) + workers × argon2 memory cost
//!
//! and the sign-ins beyond workers + queue should be answered 503 at once (goal: in
//! under 50 ms). Base is measured after a warm-up burst (database connections and
//! socket buffers opened), less the hash buffers the server reports holding
//! (`portal_hash_memory_bytes`); the peak counts from then (`VmHWM` in
//! /proc/PID/status, reset through clear_refs) over three more bursts.
//!
//! Run: `cargo bench -p server --bench memory` (Linux; BENCH_BURST=n, default 500).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

/// A kernel memory figure of the process in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).or_fail("proc status");
    text.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| fail(&format!("no {field} in /proc/{pid}/status")))
}

/// One burst: `n` sign-ins sent at once, each from its own connection. Returns the
/// latencies (ms) of the answers by status.
async fn burst(base: &str, n: usize) -> (Vec<f64>, Vec<f64>, usize) {
    burst_of(base, n, true).await
}

/// A burst of `n` requests at once: sign-ins, or (`sign_in` false) `GET /healthz`, the
/// cheapest answer the server gives, as the floor of this machine under the same
/// burst (200s are counted as "ok").
async fn burst_of(base: &str, n: usize, sign_in: bool) -> (Vec<f64>, Vec<f64>, usize) {
    let gate = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let gate = gate.clone();
        let base = base.to_string();
        // One account per sign-in: several at once on one account would meet the
        // lockout's in-flight limit (by design), which is not what this measures.
        let login = bench_login(i);
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(120))
                .build()
                .or_fail("client");
            // Open the connection first, so the burst measures the server, not TCP set-up.
            let _ = client.get(format!("{base}/healthz")).send().await;
            gate.wait().await;
            let started = Instant::now();
            let request = if sign_in {
                client
                    .post(format!("{base}/api/sign_in"))
                    .header("accept", "application/json")
                    .form(&[
                        ("username", login.as_str()),
                        ("password", TEMPORARY_PASSWORD),
                    ])
            } else {
                client.get(format!("{base}/healthz"))
            };
            let status = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let _ = response.bytes().await;
                    status
                }
                Err(_) => 0,
            };
            (status, started.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let (mut ok, mut busy, mut other) = (Vec::new(), Vec::new(), 0);
    for t in tasks {
        match t.await {
            Ok((200, ms)) => ok.push(ms),
            Ok((503, ms)) => busy.push(ms),
            Ok((status, _)) => {
                eprintln!("  (a sign-in answered {status})");
                other += 1
            }
            Err(_) => other += 1,
        }
    }
    ok.sort_by(f64::total_cmp);
    busy.sort_by(f64::total_cmp);
    (ok, busy, other)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_BURST")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let database = Database::sqlite();
    {
        // The accounts, written by this process; the server binary starts afterwards.
        let config = config(database.url(), 1, 1);
        let portal = server::build_portal(
            &config,
            config.hash_cost(),
            Arc::new(server::clock::SystemClock),
        )
        .await
        .or_fail("portal");
        add_accounts(&portal, &database.url(), n).await;
    }
    let url = database.url();
    // One address sends every request here; the per-client throttle would answer them.
    let server = start_binary(
        &[],
        &[
            ("DATABASE_URL", url.as_ref()),
            ("PORTAL_SIGN_IN_PER_MINUTE", "0".as_ref()),
        ],
    )
    .await;
    let pid = server.child.id();
    let workers = cores().min(256 * 1024 / 19_456);
    let cost_mib = 19_456.0 / 1024.0;

    // Base: started (the start-up hash included), pages rendered, no burst yet.
    let client = reqwest::Client::new();
    for _ in 0..50 {
        // Read each page to the end, as a browser does (a client that hangs up mid-page
        // makes Leptos log a panic in its render task; that is not what this measures).
        if let Ok(page) = client.get(format!("{}/", server.base)).send().await {
            let _ = page.bytes().await;
        }
    }
    let cold_mib = status_kib(pid, "VmRSS") / 1024.0
        - metric(&server.base, "portal_hash_memory_bytes").await / 1_048_576.0;
    // A first burst opens the database pool's connections and the sockets' buffers:
    // base is what the process holds after it, ready for the next burst.
    let _ = burst(&server.base, n).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let base_mib = status_kib(pid, "VmRSS") / 1024.0;
    // The hash workers' buffers already allocated (the start-up hash used one) are
    // hash memory, not base: the server reports them.
    let held_mib = metric(&server.base, "portal_hash_memory_bytes").await / 1_048_576.0;
    let base_mib = base_mib - held_mib;
    let expected = base_mib + workers as f64 * cost_mib;
    println!(
        "benchmark 3: {n} sign-ins at once, server binary, argon2id m=19456 ({cost_mib:.1} MiB) \
         t=2, {workers} hash workers, queue 64, SQLite"
    );
    println!("  start-up base RSS         : {cold_mib:>7.1} MiB  (less the hash buffers held)");
    println!(
        "  base RSS                  : {base_mib:>7.1} MiB  (after a warm-up burst: RSS {:.1} MiB \
         less {held_mib:.1} MiB of hash buffers held)",
        base_mib + held_mib
    );
    // The peak counts from here (Linux: writing 5 to clear_refs resets VmHWM).
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").or_fail("reset the peak RSS");
    println!(
        "  expected peak             : {expected:>7.1} MiB  (base + {workers} x {cost_mib:.1} MiB)"
    );
    let mut worst_busy: f64 = 0.0;
    let mut busy_p99: f64 = 0.0;
    for round in 1..=3 {
        let (ok, busy, other) = burst(&server.base, n).await;
        let peak = status_kib(pid, "VmHWM") / 1024.0;
        let now = status_kib(pid, "VmRSS") / 1024.0;
        println!(
            "  burst {round}: {} answered 200 (slowest {:.0} ms), {} answered 503 (p50 {:.1} ms, \
             p99 {:.1} ms, max {:.1} ms), {other} other; peak RSS {peak:.1} MiB, now {now:.1} MiB",
            ok.len(),
            ok.last().copied().unwrap_or(f64::NAN),
            busy.len(),
            percentile(&busy, 50.0),
            percentile(&busy, 99.0),
            busy.last().copied().unwrap_or(f64::NAN),
        );
        worst_busy = worst_busy.max(busy.last().copied().unwrap_or(0.0));
        busy_p99 = busy_p99.max(percentile(&busy, 99.0));
    }
    let peak = status_kib(pid, "VmHWM") / 1024.0;
    let (floor, _, _) = burst_of(&server.base, n, false).await;
    println!(
        "  baseline: {n} x GET /healthz at once: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&floor, 50.0),
        percentile(&floor, 99.0),
        floor.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  hash buffers held at the end: {:.1} MiB",
        metric(&server.base, "portal_hash_memory_bytes").await / 1_048_576.0
    );
    println!(
        "  RESULT peak RSS / (warmed base + {workers} x {cost_mib:.1} MiB) = {:.3}   (goal 0.90-1.10)",
        peak / expected
    );
    println!(
        "  RESULT peak RSS / (start-up base + {workers} x {cost_mib:.1} MiB) = {:.3}   (the first \
         burst's growth besides hashing included: database connections, sockets)",
        peak / (cold_mib + workers as f64 * cost_mib)
    );
    println!(
        "  RESULT 503 answers: p99 {busy_p99:.1} ms, slowest {worst_busy:.1} ms   (goal < 50 ms); \
         p99 = {:.2} x the /healthz floor",
        busy_p99 / percentile(&floor, 99.0)
    );
}
