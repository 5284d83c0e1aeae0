//! Does a sign-in answer take the same time whether the login ID exists, the password
//! is wrong, or the account is locked? A timing difference would tell an attacker which
//! login IDs exist. This prints the median time of each case over interleaved samples
//! (so drift on a noisy machine hits all three alike) and the ratios against the
//! wrong-password case, measured in the same run; and the same for "Forgot Password?"
//! (`start_reset`) for an existing and an unknown login ID. Goal: every ratio within
//! 0.95–1.05.
//!
//! Run: `cargo bench -p server --bench sign_in_timing` (BENCH_SAMPLES=n to change the
//! number of samples per case; default 150). Uses the production argon2 cost.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use server::clock::SystemClock;
use server::config::Config;

const WRONG_ACCOUNT: &str = "allen_tan@students.edu.sg";
const LOCKED_ACCOUNT: &str = "chloe_ng@students.edu.sg";

/// The production settings (see `common::config`), one hash worker, and a lockout
/// that outlasts the run.
fn config(database_url: String) -> Config {
    let mut config = common::config(database_url, 1, 64);
    config.lockout_secs = 3600;
    config
}

async fn attempt(client: &reqwest::Client, base: &str, user: &str, password: &str) -> Duration {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/sign_in"))
        .header("accept", "application/json")
        .form(&[("username", user), ("password", password)])
        .send()
        .await;
    let elapsed = started.elapsed();
    match response {
        Ok(r) if r.status() == 401 => elapsed,
        Ok(r) => fail(&format!("expected 401, got {}", r.status())),
        Err(e) => fail(&e.to_string()),
    }
}

async fn start_reset(client: &reqwest::Client, base: &str, user: &str) -> Duration {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/start_reset"))
        .header("accept", "application/json")
        .form(&[("username", user)])
        .send()
        .await;
    let elapsed = started.elapsed();
    match response {
        Ok(r) if r.status() == 200 => elapsed,
        Ok(r) => fail(&format!("start_reset: expected 200, got {}", r.status())),
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("sign_in_timing: {message}");
    std::process::exit(1)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() {
    let samples: usize = std::env::var("BENCH_SAMPLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(150)
        .max(5);
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let config = config(url);
    let portal = server::build_portal(&config, config.hash_cost(), Arc::new(SystemClock))
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    server::demo::seed(&portal)
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    let portal_for_accounts = portal.clone();
    let url_for_accounts = config.database_url.clone();
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
    let client = reqwest::Client::new();

    // Lock one account: five different wrong passwords.
    for i in 0..5 {
        attempt(&client, &base, LOCKED_ACCOUNT, &format!("wrong-{i}")).await;
    }
    // Warm up every path.
    for _ in 0..3 {
        attempt(&client, &base, "nobody_here@students.edu.sg", "x1").await;
        attempt(&client, &base, WRONG_ACCOUNT, "same-wrong").await;
        attempt(&client, &base, LOCKED_ACCOUNT, "x2").await;
    }
    // Accounts for "a different wrong password each time" (what someone probing a login
    // ID sends): four on each, below the lockout, so each is counted, never repeated.
    let fresh_accounts = samples / 4 + 1;
    common::add_accounts(&portal_for_accounts, &url_for_accounts, fresh_accounts).await;
    let (mut unknown, mut wrong, mut locked) = (Vec::new(), Vec::new(), Vec::new());
    let mut wrong_new = Vec::new();
    let (mut reset_known, mut reset_unknown) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        start_reset(&client, &base, WRONG_ACCOUNT).await;
        start_reset(&client, &base, "nobody_here@students.edu.sg").await;
    }
    for i in 0..samples {
        // Rotate the order so no case always runs first.
        for case in 0..6 {
            match (i + case) % 6 {
                5 => wrong_new.push(
                    attempt(
                        &client,
                        &base,
                        &common::bench_login(i / 4),
                        &format!("new-wrong-{i}"),
                    )
                    .await,
                ),
                3 => reset_known.push(start_reset(&client, &base, WRONG_ACCOUNT).await),
                4 => reset_unknown.push(
                    start_reset(&client, &base, &format!("noreset{i}@students.edu.sg")).await,
                ),
                0 => unknown.push(
                    attempt(&client, &base, &format!("nobody{i}@students.edu.sg"), "x1").await,
                ),
                // The same wrong password every time: counted once, so the account never
                // locks and every sample takes the wrong-password path.
                1 => wrong.push(attempt(&client, &base, WRONG_ACCOUNT, "same-wrong").await),
                _ => locked.push(attempt(&client, &base, LOCKED_ACCOUNT, "x2").await),
            }
        }
    }
    let (u, w, l) = (
        median(&mut unknown),
        median(&mut wrong),
        median(&mut locked),
    );
    let (rk, ru) = (median(&mut reset_known), median(&mut reset_unknown));
    let wn = median(&mut wrong_new);
    println!("sign-in timing, argon2id m=19456 t=2 p=1, {samples} interleaved samples per case");
    println!(
        "  median wrong password : {:>8.2} ms",
        w.as_secs_f64() * 1e3
    );
    println!(
        "  median unknown user   : {:>8.2} ms",
        u.as_secs_f64() * 1e3
    );
    println!(
        "  median locked account : {:>8.2} ms",
        l.as_secs_f64() * 1e3
    );
    println!(
        "  ratio unknown / wrong : {:>8.3}   (goal 0.95–1.05)",
        u.as_secs_f64() / w.as_secs_f64()
    );
    println!(
        "  ratio locked / wrong  : {:>8.3}   (goal 0.95–1.05)",
        l.as_secs_f64() / w.as_secs_f64()
    );
    println!(
        "  median wrong, a new password each time: {:>8.2} ms",
        wn.as_secs_f64() * 1e3
    );
    println!(
        "  ratio unknown / wrong (new password)  : {:>8.3}   (goal 0.95–1.05)",
        u.as_secs_f64() / wn.as_secs_f64()
    );
    println!(
        "  ratio wrong repeated / wrong new      : {:>8.3}   (goal 0.95–1.05)",
        w.as_secs_f64() / wn.as_secs_f64()
    );
    println!(
        "  median reset, existing: {:>8.2} ms",
        rk.as_secs_f64() * 1e3
    );
    println!(
        "  median reset, unknown : {:>8.2} ms",
        ru.as_secs_f64() * 1e3
    );
    println!(
        "  ratio reset unknown / existing: {:>8.3}   (goal 0.95–1.05)",
        ru.as_secs_f64() / rk.as_secs_f64()
    );
}
