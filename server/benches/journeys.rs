//! Benchmark 2 of issue 7: full first-login journeys per second, against what the
//! hash rate allows. Each virtual parent opens the sign-in page, signs in with the
//! temporary password, sets up three questions, confirms them, changes the password
//! and lands on the portal: every page a browser would load (server-rendered) and
//! every server-function call, over HTTP with its own cookies and accepting brotli and
//! gzip as browsers do, one fresh account per journey. The figure is
//!
//!   journeys/s ÷ (raw argon2id rate ÷ argon2 operations per journey)     (goal ≥ 0.85)
//!
//! where the operations per journey are counted by the server itself
//! (`portal_hash_jobs_total` in `/metrics`) and the raw rate is measured in this run,
//! in rounds alternating with the journeys, on SQLite and on PostgreSQL.
//!
//! Run: `cargo bench -p server --bench journeys` (BENCH_SECS=n per phase, default 8;
//! BENCH_ROUNDS=n, default 3; needs PostgreSQL on 127.0.0.1:5432 or
//! PORTAL_TEST_POSTGRES).

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

const NEW_PASSWORD: &str = "Quiet-Harbour-81";

/// What browsers send: every request of a journey accepts brotli and gzip.
const BROWSER_ENCODINGS: &str = "br, gzip";

/// One request of the journey; `Ok` with the bytes of its body (as sent: compressed
/// when it was) when it answered 200.
async fn step(request: reqwest::RequestBuilder) -> Result<usize, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    // Read the whole body, as a browser would.
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(body.len())
    } else {
        Err(status.to_string())
    }
}

/// One student's first login from the sign-in page to the portal, as a browser that
/// accepts `encodings`; the bytes of the bodies it received.
async fn journey(base: &str, login: &str, encodings: Option<&str>) -> Result<usize, String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let encoded = |request: reqwest::RequestBuilder| match encodings {
        Some(encodings) => request.header("accept-encoding", encodings),
        None => request,
    };
    let page = |path: &str| {
        encoded(
            client
                .get(format!("{base}{path}"))
                .header("accept", "text/html"),
        )
    };
    let call = |name: &str, form: &[(&str, &str)]| {
        encoded(
            client
                .post(format!("{base}/api/{name}"))
                .header("accept", "application/json")
                .form(form),
        )
    };
    let mut bytes = 0;
    bytes += step(page("/")).await?;
    bytes += step(call(
        "sign_in",
        &[("username", login), ("password", TEMPORARY_PASSWORD)],
    ))
    .await?;
    bytes += step(page("/sspr/setup-questions")).await?;
    bytes += step(call(
        "setup_questions",
        &[
            ("question1", "food"),
            ("answer1", "Chicken rice"),
            ("question2", "animal"),
            ("answer2", "Otter"),
            ("question3", "colour"),
            ("answer3", "Turquoise"),
        ],
    ))
    .await?;
    bytes += step(page("/sspr/confirm-questions")).await?;
    bytes += step(call("confirm_questions", &[])).await?;
    bytes += step(page("/sspr/questions-saved")).await?;
    bytes += step(page("/sspr/change-password")).await?;
    bytes += step(call(
        "change_password",
        &[
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    ))
    .await?;
    bytes += step(page("/sspr/password-changed")).await?;
    bytes += step(page("/portal?first=1")).await?;
    Ok(bytes)
}

struct Phase {
    journeys: usize,
    failed: usize,
    secs: f64,
    hash_jobs: f64,
}

/// Runs journeys with `clients` parents at once; each starts new journeys for `secs`,
/// accounts taken from `next` (each used once). The phase ends when the last journey
/// started has finished, so every journey counted did all its hash operations inside
/// the phase and every operation counted belongs to a counted journey.
async fn run_journeys(base: &str, next: &Arc<AtomicUsize>, clients: usize, secs: f64) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let jobs_before = metric(base, "portal_hash_jobs_total").await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (base, next, stop, done, failed) = (
            base.to_string(),
            next.clone(),
            stop.clone(),
            done.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let login = bench_login(next.fetch_add(1, Ordering::Relaxed));
                match journey(&base, &login, Some(BROWSER_ENCODINGS)).await {
                    Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        eprintln!("journey of {login} failed: {e}");
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let jobs_after = metric(base, "portal_hash_jobs_total").await;
    Phase {
        journeys: done.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        secs: elapsed,
        hash_jobs: jobs_after - jobs_before,
    }
}

async fn measure(database: Database, secs: f64, rounds: usize) {
    let workers = cores();
    // Enough parents to keep every hash worker busy while others load pages.
    let clients = workers * 4;
    let (base, portal) = start_server(&config(database.url(), workers, 1024)).await;
    // Generously more accounts than the journeys a run can do (~30/s on 2 cores).
    let accounts = 200 + (rounds as f64 * secs * 60.0 * workers as f64) as usize;
    let empty = database_figures(&database).await;
    add_accounts(&portal, &database.url(), accounts).await;
    let next = Arc::new(AtomicUsize::new(0));
    // Bytes a journey receives, compressed as browsers ask and not (one of each).
    let mut per_journey_bytes = [0usize; 2];
    for (i, encodings) in [Some(BROWSER_ENCODINGS), None].into_iter().enumerate() {
        let login = bench_login(next.fetch_add(1, Ordering::Relaxed));
        per_journey_bytes[i] = journey(&base, &login, encodings)
            .await
            .or_fail("a measured journey");
    }
    run_journeys(&base, &next, clients, 1.0).await; // warm-up
    let before = database_figures(&database).await;

    println!(
        "benchmark 2: first-login journeys over HTTP, {}, {workers} hash workers, \
         {clients} parents at once, {rounds} rounds x {secs} s",
        database.kind()
    );
    let (mut raw_sum, mut journeys, mut failed, mut time, mut jobs) = (0.0, 0, 0, 0.0, 0.0);
    for round in 1..=rounds {
        let raw = raw_rate(workers, secs).await;
        let phase = run_journeys(&base, &next, clients, secs).await;
        let ops = phase.hash_jobs / phase.journeys.max(1) as f64;
        let rate = phase.journeys as f64 / phase.secs;
        // The round's own ratio: how far one round is from the next says how much the
        // machine drifted (the raw rate alone moves by up to 10 % between rounds on a
        // shared VM), i.e. how far the run's figure can be trusted.
        println!(
            "  round {round}: raw {raw:>6.1}/s   journeys {rate:>5.2}/s   argon2 ops/journey {ops:.2}   \
             ratio {:.3}",
            rate * ops / raw
        );
        raw_sum += raw;
        journeys += phase.journeys;
        failed += phase.failed;
        time += phase.secs;
        jobs += phase.hash_jobs;
    }
    if journeys == 0 || failed > 0 {
        fail("journeys failed (see above): the figures would not mean anything");
    }
    if next.load(Ordering::Relaxed) >= accounts {
        fail("ran out of accounts: the figures would count failed journeys");
    }
    let raw = raw_sum / rounds as f64;
    let rate = journeys as f64 / time;
    let per_journey = jobs / journeys.max(1) as f64;
    let limit = raw / per_journey;
    println!(
        "  bytes per journey (bodies) : {} compressed (br, as browsers ask), {} uncompressed: \
         {:.2} of it",
        per_journey_bytes[0],
        per_journey_bytes[1],
        per_journey_bytes[0] as f64 / per_journey_bytes[1].max(1) as f64
    );
    println!("  raw argon2id rate          : {raw:>8.1} /s");
    println!("  argon2 operations / journey: {per_journey:>8.2}   (counted by the server)");
    println!("  journeys completed         : {journeys} in {time:.1} s, {failed} failed");
    println!("  journeys / s               : {rate:>8.2}   (hash limit {limit:.2} /s)");
    if let (Some(empty), Some(before), Some(after)) =
        (empty, before, database_figures(&database).await)
    {
        let n = journeys as f64;
        println!(
            "  PostgreSQL per journey     : {:.1} transactions (reads included), {:.1} rows written, {:.0} bytes of \
             database growth; per account before any journey: {:.0} bytes ({} accounts)",
            (after.commits - before.commits) / n,
            (after.rows - before.rows) / n,
            (after.bytes - before.bytes) / n,
            (before.bytes - empty.bytes) / accounts as f64,
            accounts,
        );
    }
    println!(
        "  RESULT {} journeys / hash limit = {:.3}   (goal >= 0.85)",
        database.kind(),
        rate / limit
    );
}

/// What PostgreSQL counts for the benchmark's database.
struct DbFigures {
    commits: f64,
    rows: f64,
    bytes: f64,
}

/// Commits, rows written and size of the benchmark's PostgreSQL database (`None` on
/// SQLite). PostgreSQL publishes its statistics up to a second late: wait first.
async fn database_figures(database: &Database) -> Option<DbFigures> {
    use sqlx::Connection as _;
    let Database::Postgres(url, _) = database else {
        return None;
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut connection = sqlx::PgConnection::connect(url).await.or_fail("statistics");
    let (commits, rows, bytes): (i64, i64, i64) = sqlx::query_as(
        "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted, \
                pg_database_size(current_database()) \
         FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut connection)
    .await
    .or_fail("pg_stat_database");
    Some(DbFigures {
        commits: commits as f64,
        rows: rows as f64,
        bytes: bytes as f64,
    })
}

#[tokio::main]
async fn main() {
    let secs = phase_secs(8) as f64;
    let rounds = bench_rounds(3);
    measure(Database::sqlite(), secs, rounds).await;
    measure(Database::postgres().await, secs, rounds).await;
}
