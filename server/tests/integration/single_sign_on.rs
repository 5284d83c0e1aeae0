//! Single sign-on, first part: the registry of the school's apps (`server clients …`)
//! and the signing keys (`server keys rotate`, the JWKS), read back by the
//! `openidconnect` crate as a relying party would.

use openidconnect::core::CoreJsonWebKeySet;
use sha2::{Digest as _, Sha256};
use sqlx::Row;

use crate::common::*;

fn run(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .output()
        .expect("run server")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The value of `name`'s line (`name<TAB>value`) in a command's output.
fn field(output: &str, name: &str) -> Option<String> {
    output.lines().find_map(|line| {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('\t'))
            .map(str::to_string)
    })
}

async fn client_rows(app: &TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query("SELECT client_id, secret_hash FROM oidc_clients ORDER BY client_id")
        .fetch_all(&app.pool().await)
        .await
        .expect("clients")
        .iter()
        .map(|row| (row.get("client_id"), row.get("secret_hash")))
        .collect()
}

async fn audit_kinds(app: &TestApp) -> Vec<String> {
    sqlx::query("SELECT kind FROM audit_events ORDER BY id")
        .fetch_all(&app.pool().await)
        .await
        .expect("audit")
        .iter()
        .map(|row| row.get("kind"))
        .collect()
}

#[tokio::test]
async fn apps_are_registered_listed_and_removed_from_the_command_line() {
    let app = spawn_app().await;
    let added = run(
        &app,
        &[
            "clients",
            "add",
            "--name",
            "Student Learning Space",
            "--redirect-uri",
            "https://sls.school.example/callback",
            "--redirect-uri",
            "http://127.0.0.1:8080/redirect_uri",
            "--tile",
            "Student Learning Space",
            "--tile-description",
            "Lessons and homework",
            "--launch-uri",
            "https://sls.school.example/",
            "--roles",
            "student,staff",
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let printed = stdout(&added);
    let client_id = field(&printed, "client_id").expect("client id printed");
    assert!(
        client_id.len() == 32 && client_id.chars().all(|c| c.is_ascii_hexdigit()),
        "a client id anyone can type: {client_id}"
    );
    let secret = field(&printed, "client_secret").expect("secret printed");
    assert!(secret.len() >= 43, "a 256-bit secret: {secret}");
    assert!(printed.contains("not shown again"));

    // Stored as its SHA-256 only.
    let rows = client_rows(&app).await;
    assert_eq!(rows.len(), 1);
    let expected_hash: String = Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(rows[0], (client_id.clone(), Some(expected_hash)));

    let public = run(
        &app,
        &[
            "clients",
            "add",
            "--name",
            "Student ICON E-Mail",
            "--redirect-uri",
            "https://mail.school.example/oidc",
            "--public",
        ],
    );
    assert!(public.status.success(), "{}", stderr(&public));
    assert!(field(&stdout(&public), "client_secret").is_none());
    let public_id = field(&stdout(&public), "client_id").expect("client id");

    let listed = run(&app, &["clients", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let list = stdout(&listed);
    assert!(
        list.contains(&client_id) && list.contains(&public_id),
        "{list}"
    );
    assert!(list.contains("Student Learning Space\tconfidential\tstudent,staff"));
    assert!(list.contains("Student ICON E-Mail\tpublic\tstudent\t-"));
    assert!(!list.contains(&secret), "the list shows a secret: {list}");

    assert!(run(&app, &["clients", "remove", &public_id])
        .status
        .success());
    let again = run(&app, &["clients", "remove", &public_id]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("no app has the client id"));
    assert_eq!(client_rows(&app).await.len(), 1);

    let kinds = audit_kinds(&app).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "client_registered").count(),
        2
    );
    assert_eq!(kinds.iter().filter(|k| *k == "client_removed").count(), 1);
}

#[tokio::test]
async fn a_registration_with_bad_input_says_why_and_stores_nothing() {
    let app = spawn_app().await;
    for (args, says) in [
        (
            vec![
                "--name",
                "SLS",
                "--redirect-uri",
                "http://sls.school.example/cb",
            ],
            "must use https",
        ),
        (
            vec![
                "--name",
                "SLS",
                "--redirect-uri",
                "https://sls.school.example/cb#x",
            ],
            "fragment",
        ),
        (
            vec!["--name", "SLS", "--redirect-uri", "sls.school.example/cb"],
            "not an absolute URL",
        ),
        (
            vec![
                "--name",
                "SLS",
                "--redirect-uri",
                "https://sls.school.example/cb",
                "--roles",
                "teacher",
            ],
            "not a role",
        ),
        (
            vec![
                "--name",
                " ",
                "--redirect-uri",
                "https://sls.school.example/cb",
            ],
            "the name must be",
        ),
        (vec!["--name", "SLS"], "--redirect-uri"),
    ] {
        let mut full = vec!["clients", "add"];
        full.extend(args.iter().copied());
        let out = run(&app, &full);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(
            stderr(&out).contains(says),
            "{args:?}: {:?} does not say {says:?}",
            stderr(&out)
        );
    }
    assert!(client_rows(&app).await.is_empty());
    assert!(!audit_kinds(&app)
        .await
        .iter()
        .any(|k| k == "client_registered"));
}

async fn jwks(app: &TestApp) -> (CoreJsonWebKeySet, serde_json::Value) {
    let response = app
        .client
        .get(format!("{}/oidc/jwks", app.base))
        .send()
        .await
        .expect("jwks");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=60",
        "relying parties may cache the keys a minute"
    );
    let body = response.text().await.expect("body");
    (
        serde_json::from_str(&body).expect("a JWKS the openidconnect crate reads"),
        serde_json::from_str(&body).expect("json"),
    )
}

fn kids(raw: &serde_json::Value) -> Vec<String> {
    raw["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("kid").to_string())
        .collect()
}

#[tokio::test]
async fn the_jwks_publishes_the_key_and_keeps_a_rotated_one_while_its_tokens_live() {
    let app = spawn_app().await;
    let (set, raw) = jwks(&app).await;
    assert_eq!(set.keys().len(), 1, "a key is made at the first start");
    let key = &raw["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(key.get(private).is_none(), "{private} published: {key}");
    }
    let first = kids(&raw);

    app.clock.advance(10);
    app.portal
        .rotate_signing_key(server::oidc::generate_key().expect("key"), "test")
        .await
        .expect("rotate");
    let (_, raw) = jwks(&app).await;
    let both = kids(&raw);
    assert_eq!(both.len(), 2);
    assert_eq!(
        both[1], first[0],
        "the new key first, the old one still there"
    );

    // Once every token the old key signed has expired, it goes.
    app.clock.advance(
        portal_core::service::federation::TOKEN_SECS
            + portal_core::service::federation::CLOCK_SKEW_SECS,
    );
    let (_, raw) = jwks(&app).await;
    assert_eq!(kids(&raw), vec![both[0].clone()]);
}

async fn key_ids(app: &TestApp) -> Vec<String> {
    sqlx::query("SELECT kid FROM oidc_signing_keys ORDER BY kid")
        .fetch_all(&app.pool().await)
        .await
        .expect("keys")
        .iter()
        .map(|row| row.get("kid"))
        .collect()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| k.as_str() == kind).count()
}

#[tokio::test]
async fn keys_rotate_on_the_command_line_and_a_restart_keeps_the_key() {
    let app = spawn_app().await;
    let before = key_ids(&app).await;
    assert_eq!(before.len(), 1);
    assert_eq!(count(&audit_kinds(&app).await, "signing_key_created"), 1);
    // Another command (a second start) finds the key and makes none.
    assert!(run(&app, &["clients", "list"]).status.success());
    assert_eq!(key_ids(&app).await, before);
    assert_eq!(count(&audit_kinds(&app).await, "signing_key_created"), 1);

    let out = run(&app, &["keys", "rotate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("New signing key"));
    let rows = sqlx::query("SELECT kid, retired_at FROM oidc_signing_keys")
        .fetch_all(&app.pool().await)
        .await
        .expect("keys");
    assert_eq!(rows.len(), 2);
    let active: Vec<String> = rows
        .iter()
        .filter(|row| row.get::<Option<i64>, _>("retired_at").is_none())
        .map(|row| row.get("kid"))
        .collect();
    assert_eq!(active.len(), 1);
    assert_ne!(active[0], before[0]);
    assert_eq!(count(&audit_kinds(&app).await, "signing_key_created"), 2);
    // The running server publishes the new key at once, first.
    let (_, raw) = jwks(&app).await;
    assert_eq!(kids(&raw)[0], active[0]);
}

#[tokio::test]
async fn a_tile_address_that_is_not_a_web_address_is_refused_at_start_up() {
    let app = spawn_app().await;
    for bad in [
        "javascript:alert(1)",
        "//evil.example/",
        "mail.school.example",
    ] {
        let out = run(&app, &["--email-url", bad, "clients", "list"]);
        assert!(!out.status.success(), "{bad} accepted");
        assert!(
            stderr(&out).contains("is not a tile address"),
            "{bad}: {}",
            stderr(&out)
        );
    }
    let ok = run(
        &app,
        &["--learning-space-url", "/demo-app/", "clients", "list"],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
}
