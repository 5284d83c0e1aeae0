//! Benchmarks 4 and 5 of issue 7, against the release server binary and the release
//! site (`cargo leptos build --release --precompress` first):
//!
//! 4. the server-rendered sign-in page at a fixed open-loop rate (oha with latency
//!    correction, so a slow answer cannot hold back the next request): achieved
//!    requests/s, p50 and p99, against a static file of the same server at the same
//!    rate; then each at full speed (closed loop) for the throughput ratio;
//! 5. the wasm bundle: raw, gzip and brotli bytes as built, against the 150 KB brotli
//!    goal, and what the server sends a browser that accepts brotli (it must be the
//!    pre-compressed file, not the raw one).
//!
//! Run: `cargo bench -p server --bench pages` (needs `oha` on PATH: `bench/run`
//! installs it; BENCH_SECS=n per measurement, default 10; BENCH_RATE=n requests/s for
//! the open-loop phase, default 1000).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| fail("no workspace root"))
}

/// What oha measured: requests/s, p50 and p99 in ms, share of 200 answers.
struct Load {
    rps: f64,
    p50: f64,
    p99: f64,
    ok: f64,
}

fn oha(url: &str, secs: u64, rate: Option<u32>) -> Load {
    let mut command = Command::new("oha");
    command.args(["--no-tui", "--output-format", "json", "-z"]);
    command.arg(format!("{secs}s"));
    match rate {
        // Open loop: requests start on a fixed schedule; latency counts from the
        // scheduled start (no coordinated omission).
        Some(rate) => command
            .args(["-c", "64", "-q"])
            .arg(rate.to_string())
            .arg("--latency-correction"),
        None => command.args(["-c", "16"]),
    };
    command.args(["-H", "accept: text/html", url]);
    let output = command
        .output()
        .or_fail("oha (cargo install oha --locked, or run bench/run)");
    if !output.status.success() {
        fail(&format!(
            "oha failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).or_fail("oha output");
    let number = |path: &[&str]| {
        path.iter()
            .try_fold(&json, |v, key| v.get(key))
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let statuses = json
        .get("statusCodeDistribution")
        .and_then(serde_json::Value::as_object);
    let total: f64 = statuses
        .map(|m| m.values().filter_map(serde_json::Value::as_f64).sum())
        .unwrap_or(0.0);
    let ok = statuses
        .and_then(|m| m.get("200"))
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0);
    // Failed requests are only in the error distribution; requests cut off by the end
    // of the timed run are not failures.
    let errors: f64 = json
        .get("errorDistribution")
        .and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(kind, _)| !kind.contains("deadline"))
                .filter_map(|(_, n)| n.as_f64())
                .sum()
        })
        .unwrap_or(0.0);
    let total = total + errors;
    Load {
        rps: number(&["summary", "requestsPerSec"]),
        p50: number(&["latencyPercentiles", "p50"]) * 1000.0,
        p99: number(&["latencyPercentiles", "p99"]) * 1000.0,
        ok: if total > 0.0 { ok / total } else { 0.0 },
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path)
        .map(|m| m.len())
        .unwrap_or_else(|_| {
            fail(&format!(
                "{} is missing: run `cargo leptos build --release --precompress` first",
                path.display()
            ))
        })
}

#[tokio::main]
async fn main() {
    let secs = phase_secs(10);
    let rate: u32 = std::env::var("BENCH_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let site = root().join("target/site");
    let pkg = site.join("pkg");
    let wasm = pkg.join("school-portal.wasm");
    let (raw, gz, br) = (
        size(&wasm),
        size(&pkg.join("school-portal.wasm.gz")),
        size(&pkg.join("school-portal.wasm.br")),
    );
    let js = size(&pkg.join("school-portal.js"));
    let js_br = size(&pkg.join("school-portal.js.br"));

    let database = Database::sqlite();
    let url = database.url();
    let server = start_binary(
        &["--demo"],
        &[
            ("DATABASE_URL", url.as_ref()),
            ("LEPTOS_SITE_ROOT", site.as_os_str()),
        ],
    )
    .await;
    let page = format!("{}/", server.base);
    let asset = format!("{}/pkg/school-portal.css", server.base);

    // What a browser that accepts brotli is sent for the wasm.
    // (reqwest is built without decompression here: the body is what was sent.)
    let served = reqwest::Client::new()
        .get(format!("{}/pkg/school-portal.wasm", server.base))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .or_fail("wasm request");
    let encoding = served
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_string();
    let sent = served.bytes().await.or_fail("wasm body").len();

    // Warm-up, then the same schedule for both.
    let _ = oha(&page, 2, None);
    let ssr = oha(&page, secs, Some(rate));
    let file = oha(&asset, secs, Some(rate));
    let ssr_max = oha(&page, secs, None);
    let file_max = oha(&asset, secs, None);

    println!("benchmark 4: the sign-in page (SSR) vs a static file, server binary, oha on the same machine");
    for (name, load) in [
        (format!("SSR  /    open loop {rate}/s"), &ssr),
        (format!("file .css open loop {rate}/s"), &file),
        ("SSR  /    closed loop, 16 conns".to_string(), &ssr_max),
        ("file .css closed loop, 16 conns".to_string(), &file_max),
    ] {
        println!(
            "  {name:<34}: {:>8.1} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   200s {:.1} % of all (errors included)",
            load.rps,
            load.p50,
            load.p99,
            load.ok * 100.0
        );
    }
    println!(
        "  RESULT SSR p99 at {rate}/s = {:.2} ms ({:.2} x the static file's p99); \
         SSR throughput = {:.3} x the static file's",
        ssr.p99,
        ssr.p99 / file.p99,
        ssr_max.rps / file_max.rps
    );

    println!(
        "benchmark 5: the release wasm bundle (target/site/pkg, pre-compressed by cargo-leptos)"
    );
    println!("  raw    : {raw:>9} B");
    println!(
        "  gzip   : {gz:>9} B  ({:.3} of raw)",
        gz as f64 / raw as f64
    );
    println!(
        "  brotli : {br:>9} B  ({:.3} of raw)",
        br as f64 / raw as f64
    );
    println!("  JS glue: {js:>9} B raw, {js_br} B brotli");
    println!("  served to `accept-encoding: br, gzip`: content-encoding {encoding}, {sent} B");
    println!(
        "  RESULT wasm brotli = {:.1} KB = {:.2} x the 150 KB goal",
        br as f64 / 1000.0,
        br as f64 / 150_000.0
    );
}
