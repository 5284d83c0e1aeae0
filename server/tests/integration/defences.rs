//! The defences of issue 4, each proven over HTTP against the real server: lockout,
//! no user enumeration, per-client throttling, hash upgrades, session tokens, CSRF,
//! security headers, random payloads, and the audit trail and its command line.

use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use portal_core::ports::Clock as _;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::common::*;

const CHLOE: &str = "chloe_ng@students.edu.sg";

/// The whole answer to a sign-in attempt, minus the `Date` header.
#[derive(Debug, PartialEq)]
struct Exact {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn exact(response: reqwest::Response) -> Exact {
    let status = response.status();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != "date")
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                value.to_str().unwrap_or("<binary>").to_string(),
            )
        })
        .collect();
    headers.sort();
    let body = response.bytes().await.expect("body").to_vec();
    Exact {
        status,
        headers,
        body,
    }
}

impl TestApp {
    /// Signs in from a fresh client and returns the full answer (fetch or plain form).
    async fn attempt(&self, login: &str, password: &str, html: bool) -> Exact {
        let base = format!("{}/", self.base);
        let headers: Vec<(&str, &str)> = if html {
            vec![("accept", "text/html"), ("referer", &base)]
        } else {
            vec![("accept", "application/json")]
        };
        exact(
            self.raw_post(
                "sign_in",
                &headers,
                &[("username", login), ("password", password)],
            )
            .await,
        )
        .await
    }

    async fn lock(&self, login: &str) {
        for i in 0..5 {
            let answer = self.sign_in_elsewhere(login, &format!("wrong-{i}")).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        }
    }

    async fn can_sign_in(&self, login: &str, password: &str) -> bool {
        let answer = self.sign_in_elsewhere(login, password).await;
        match answer.status {
            StatusCode::OK => true,
            StatusCode::UNAUTHORIZED => false,
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }

    async fn events(&self, login: &str) -> Vec<(String, String, Option<String>)> {
        sqlx::query(
            "SELECT e.kind, e.actor, e.detail FROM audit_events e \
             JOIN accounts a ON a.id = e.account_id WHERE a.login_id = ? ORDER BY e.id",
        )
        .bind(login)
        .fetch_all(&self.pool().await)
        .await
        .expect("events")
        .iter()
        .map(|r| (r.get("kind"), r.get("actor"), r.get("detail")))
        .collect()
    }

    /// Every stored credential and session, for "nothing changed" checks.
    async fn credentials_snapshot(&self) -> Vec<String> {
        let pool = self.pool().await;
        let mut rows: Vec<String> = sqlx::query(
            "SELECT login_id || '|' || password_hash || '|' || password_temporary || '|' || \
             failed_count || '|' || COALESCE(locked_until, '-') AS r FROM accounts ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .expect("accounts")
        .iter()
        .map(|r| r.get("r"))
        .collect();
        for sql in [
            "SELECT account_id || '|' || slot || '|' || question_id || '|' || answer_hash AS r \
             FROM security_answers ORDER BY account_id, slot",
            "SELECT hex(token_hash) || '|' || account_id || '|' || COALESCE(pending_questions, '-') \
             AS r FROM sessions ORDER BY token_hash",
        ] {
            rows.extend(
                sqlx::query(sql)
                    .fetch_all(&pool)
                    .await
                    .expect("rows")
                    .iter()
                    .map(|r| r.get::<String, _>("r")),
            );
        }
        rows
    }
}

// ---- lockout -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_different_wrong_passwords_lock_the_account_for_fifteen_minutes() {
    let app = spawn_app().await;
    app.lock(ALLEN).await;
    // Even the right password is refused now, with the same answer as a wrong one.
    assert!(!app.can_sign_in(ALLEN, TEMP).await);
    app.clock.advance(15 * 60 - 1);
    assert!(!app.can_sign_in(ALLEN, TEMP).await);
    app.clock.advance(1);
    assert!(app.can_sign_in(ALLEN, TEMP).await);
    let kinds: Vec<String> = app.events(ALLEN).await.into_iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        [
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "account_locked",
            "sign_in_refused",
            "sign_in_refused",
            "sign_in"
        ]
    );
    // Another account is not affected by Allen's lockout.
    app.lock(ALLEN).await;
    assert!(app.can_sign_in(CHLOE, TEMP).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_wrong_password_again_does_not_count_again() {
    let app = spawn_app().await;
    for _ in 0..10 {
        assert!(!app.can_sign_in(ALLEN, "2024kmps").await);
    }
    for other in ["wrong-a", "wrong-b", "wrong-c", "wrong-a"] {
        assert!(!app.can_sign_in(ALLEN, other).await);
    }
    // Four distinct wrong passwords so far: not locked.
    assert!(app.can_sign_in(ALLEN, TEMP).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_sign_in_resets_the_count() {
    let app = spawn_app().await;
    for round in 0..3 {
        for i in 0..4 {
            assert!(!app.can_sign_in(ALLEN, &format!("wrong-{round}-{i}")).await);
        }
        assert!(app.can_sign_in(ALLEN, TEMP).await, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_lockouts_last_longer_up_to_the_cap() {
    let app = spawn_app_with(|c| {
        c.lockout_secs = 900;
        c.lockout_max_secs = 2700;
    })
    .await;
    for expected in [900, 1800, 2700, 2700] {
        app.lock(ALLEN).await;
        app.clock.advance(expected - 1);
        assert!(!app.can_sign_in(ALLEN, TEMP).await, "{expected}");
        app.clock.advance(1);
        // Expired: five new wrong passwords lock it again, for longer. (No success in
        // between, which would reset the growth.)
        let expired: Option<i64> =
            sqlx::query("SELECT locked_until FROM accounts WHERE login_id = ?")
                .bind(ALLEN)
                .fetch_one(&app.pool().await)
                .await
                .expect("row")
                .get("locked_until");
        assert!(expired.is_some_and(|until| until <= app.clock.now()));
    }
    assert!(app.can_sign_in(ALLEN, TEMP).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_parallel_guesses_get_no_more_checks_than_the_limit() {
    let app = spawn_app_with(|c| c.hash_queue = 512).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let url = format!("{}/api/sign_in", app.base);
        tasks.push(tokio::spawn(async move {
            new_client()
                .post(url)
                .header(ACCEPT, "application/json")
                .form(&[
                    ("username", ALLEN),
                    ("password", format!("guess-{i}").as_str()),
                ])
                .send()
                .await
                .map(|r| r.status())
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("join").expect("response"));
    }
    let checked = app
        .events(ALLEN)
        .await
        .into_iter()
        .filter(|(kind, _, _)| kind == "sign_in_failed" || kind == "sign_in")
        .count();
    // All distinct and all wrong: exactly the limit is checked, the rest are refused
    // unchecked, with the same answer.
    assert_eq!(checked, 5, "{checked} passwords were checked");
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    // The right password, after them, does not get through either. (Sent among them,
    // it may be checked before the limit is reached, and a right password clears the
    // count, as it should: that race is the owner's, not a guesser's.)
    assert!(
        !app.can_sign_in(ALLEN, TEMP).await,
        "locked after the limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_unlock_and_the_audit_trail_from_the_command_line() {
    let app = spawn_app().await;
    app.lock(ALLEN).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .output()
            .expect("run server")
    };
    let unknown = run(&["accounts", "unlock", "nobody@students.edu.sg"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no account has the login ID"));
    let malformed = run(&["accounts", "unlock", "not an id"]);
    assert!(!malformed.status.success());
    assert!(String::from_utf8_lossy(&malformed.stderr).contains("is not a login ID"));

    let unlocked = run(&["accounts", "unlock", ALLEN]);
    assert!(unlocked.status.success(), "{unlocked:?}");
    assert_eq!(
        String::from_utf8_lossy(&unlocked.stdout),
        format!("{ALLEN} is unlocked.\n")
    );
    // Unlocked at once, without waiting the fifteen minutes.
    assert!(app.can_sign_in(ALLEN, TEMP).await);

    let audit = run(&["audit", "--account", ALLEN]);
    assert!(audit.status.success(), "{audit:?}");
    let out = String::from_utf8_lossy(&audit.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with(&format!("Audit trail of {ALLEN} (Allen Tan)")));
    let kinds: Vec<&str> = lines[2..]
        .iter()
        .map(|l| l.split('\t').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        [
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "account_locked",
            "account_unlocked",
            "sign_in"
        ]
    );
    let unlock_line = lines
        .iter()
        .find(|l| l.contains("account_unlocked"))
        .expect("line");
    assert!(unlock_line.contains("\tcli\t"), "{unlock_line}");
    assert!(lines[2].contains("\t127.0.0.1\t"), "{}", lines[2]);
    assert!(lines[2].starts_with("2027-01-15T08:00:00Z"), "{}", lines[2]);
    for secret in [TEMP, "wrong-0", "wrong-4"] {
        assert!(!out.contains(secret), "{out}");
    }
    let missing = run(&["audit"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--account"));
}

// ---- no user enumeration ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_wrong_password_and_locked_account_answer_byte_for_byte_the_same() {
    let app = spawn_app().await;
    app.lock(CHLOE).await;
    for html in [false, true] {
        let unknown = app.attempt("nobody@students.edu.sg", TEMP, html).await;
        let wrong = app.attempt(ALLEN, "2024kmps", html).await;
        // The locked account with its right password.
        let locked = app.attempt(CHLOE, TEMP, html).await;
        let malformed = app.attempt("not an id", TEMP, html).await;
        assert_eq!(wrong, unknown, "html: {html}");
        assert_eq!(locked, unknown, "html: {html}");
        assert_eq!(malformed, unknown, "html: {html}");
        assert!(!unknown.headers.iter().any(|(name, _)| name == "set-cookie"));
        if html {
            assert_eq!(unknown.status, StatusCode::FOUND);
        } else {
            assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(&unknown.body).expect("json"),
                serde_json::json!({"InvalidCredentials": {"max_failures": 5, "lock_minutes": 15}})
            );
        }
    }
    // The page the plain form lands on says the one message, with the lockout rule.
    let wrong = app.attempt(ALLEN, "2024kmps", true).await;
    let location = wrong
        .headers
        .iter()
        .find(|(name, _)| name == "location")
        .map(|(_, v)| v.clone())
        .expect("location");
    let page = new_client()
        .get(&location)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(page.contains(
        "Invalid username or password. After 5 unsuccessful attempts, an account is locked for 15 minutes."
    ));
}

// ---- per-client throttle -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_is_slowed_down_without_locking_accounts_or_other_addresses() {
    let app = spawn_app_with(|c| {
        c.sign_in_per_minute = 6;
        c.sign_in_burst = 3;
        c.trust_forwarded_for = true;
    })
    .await;
    let from = |ip: &'static str| vec![("accept", "application/json"), ("x-forwarded-for", ip)];
    for i in 0..3 {
        let password = format!("wrong-{i}");
        let response = app
            .raw_post(
                "sign_in",
                &from("203.0.113.7"),
                &[("username", ALLEN), ("password", password.as_str())],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let throttled = app
        .raw_post(
            "sign_in",
            &from("203.0.113.7"),
            &[("username", ALLEN), ("password", TEMP)],
        )
        .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = throttled
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=11).contains(&retry), "{retry}");
    let body: serde_json::Value = throttled.json().await.expect("json");
    assert!(body["Throttled"]["retry_after_secs"].is_u64(), "{body}");
    // Another address (another school) signs in as usual, and Allen is not locked:
    // three wrong passwords and the throttled attempt did not count against him.
    let other = app
        .raw_post(
            "sign_in",
            &from("198.51.100.20"),
            &[("username", ALLEN), ("password", TEMP)],
        )
        .await;
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_ignored_unless_the_operator_trusts_a_proxy() {
    let app = spawn_app_with(|c| {
        c.sign_in_per_minute = 6;
        c.sign_in_burst = 2;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        // A script varying the header must not escape the limit of its real address.
        let ip = format!("192.0.2.{i}");
        let response = app
            .raw_post(
                "sign_in",
                &[("accept", "application/json"), ("x-forwarded-for", &ip)],
                &[("username", ALLEN), ("password", "wrong")],
            )
            .await;
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

// ---- hashing ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_with_weaker_parameters_is_upgraded_at_the_next_sign_in() {
    let app = spawn_app().await;
    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(64, 1, 1, None).expect("params"),
    )
    .hash_password(
        TEMP.as_bytes(),
        &SaltString::generate(&mut rand::rngs::OsRng),
    )
    .expect("hash")
    .to_string();
    let pool = app.pool().await;
    sqlx::query("UPDATE accounts SET password_hash = ? WHERE login_id = ?")
        .bind(&weak)
        .bind(ALLEN)
        .execute(&pool)
        .await
        .expect("update");
    let stored = || async {
        sqlx::query("SELECT password_hash FROM accounts WHERE login_id = ?")
            .bind(ALLEN)
            .fetch_one(&pool)
            .await
            .expect("row")
            .get::<String, _>("password_hash")
    };
    // A wrong password changes nothing.
    assert!(!app.can_sign_in(ALLEN, "wrong").await);
    assert_eq!(stored().await, weak);
    assert!(app.can_sign_in(ALLEN, TEMP).await);
    let upgraded = stored().await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=256,t=1,p=1$"),
        "{upgraded}"
    );
    // Still the same password.
    assert!(app.can_sign_in(ALLEN, TEMP).await);
    assert_eq!(stored().await, upgraded, "a current hash is left alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hash_queue_answers_503_with_retry_after_at_once() {
    let app = spawn_app_with(|c| {
        // Production cost, one worker, no queue: the second concurrent sign-in is refused.
        c.argon2_memory_kib = 19_456;
        c.argon2_iterations = 2;
        c.hash_workers = Some(1);
        c.hash_queue = 0;
    })
    .await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let url = format!("{}/api/sign_in", app.base);
        tasks.push(tokio::spawn(async move {
            let started = std::time::Instant::now();
            let response = new_client()
                .post(url)
                .header(ACCEPT, "application/json")
                .form(&[("username", "nobody@students.edu.sg"), ("password", "x")])
                .send()
                .await
                .expect("response");
            (
                response.status(),
                response.headers().get("retry-after").cloned(),
                started.elapsed(),
            )
        }));
    }
    let mut busy = 0;
    for task in tasks {
        let (status, retry_after, _elapsed) = task.await.expect("join");
        match status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert!(retry_after.is_some());
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(busy >= 1, "eight at once through one worker and no queue");
}

// ---- sessions --------------------------------------------------------------------------

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("portal_session="))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_tokens_are_256_random_bits_stored_only_as_a_hash() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let response = app
            .raw_post(
                "sign_in",
                &[("accept", "application/json")],
                &[("username", ALLEN), ("password", TEMP)],
            )
            .await;
        let cookie = session_cookie(&response);
        let token = cookie
            .trim_start_matches("portal_session=")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token)
            .expect("base64url token");
        assert_eq!(bytes.len(), 32);
        tokens.push(token);
    }
    assert_ne!(tokens[0], tokens[1]);
    let stored: Vec<Vec<u8>> = sqlx::query("SELECT token_hash FROM sessions ORDER BY created_at")
        .fetch_all(&app.pool().await)
        .await
        .expect("sessions")
        .iter()
        .map(|r| r.get("token_hash"))
        .collect();
    for token in &tokens {
        assert!(stored.contains(&Sha256::digest(token.as_bytes()).to_vec()));
        assert!(!stored.iter().any(|s| s == token.as_bytes()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_cookie_is_secure_with_the_host_prefix_and_hsts_is_sent() {
    let app = spawn_app_with(|c| c.secure_cookies = true).await;
    let response = app
        .raw_post(
            "sign_in",
            &[("accept", "application/json")],
            &[("username", ALLEN), ("password", TEMP)],
        )
        .await;
    let cookie = session_cookie(&response);
    assert!(cookie.starts_with("__Host-portal_session="), "{cookie}");
    for part in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let page = new_client().get(&app.base).send().await.expect("page");
    assert_eq!(
        page.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000; includeSubDomains")
    );
    // Plain HTTP deployments (the demo) do not send HSTS.
    drop(app);
    let plain = spawn_app().await;
    let page = new_client().get(&plain.base).send().await.expect("page");
    assert!(page.headers().get("strict-transport-security").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_replayed_after_sign_out_is_worthless() {
    let app = spawn_app().await;
    let response = app
        .raw_post(
            "sign_in",
            &[("accept", "application/json")],
            &[("username", ALLEN), ("password", TEMP)],
        )
        .await;
    let cookie = session_cookie(&response);
    let pair = cookie.split(';').next().unwrap_or_default().to_string();
    let with_cookie = |path: &str| {
        new_client()
            .get(format!("{}{path}", app.base))
            .header("cookie", pair.clone())
            .header(ACCEPT, "text/html")
            .send()
    };
    assert_eq!(
        with_cookie("/sspr/setup-questions")
            .await
            .expect("page")
            .status(),
        StatusCode::OK
    );
    let out = app
        .raw_post(
            "sign_out",
            &[("accept", "application/json"), ("cookie", &pair)],
            &[],
        )
        .await;
    assert_eq!(out.status(), StatusCode::OK);
    let replay = with_cookie("/sspr/setup-questions").await.expect("page");
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        replay.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/?timeout=1")
    );
}

// ---- CSRF ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let host = app.base.trim_start_matches("http://").to_string();
    let own_origin = app.base.clone();
    let before = app.credentials_snapshot().await;
    let foreign: [&[(&str, &str)]; 5] = [
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        // A sibling sub-domain is same-site but not same-origin: refused too.
        &[("sec-fetch-site", "same-site")],
        // Sec-Fetch-Site wins over an Origin that looks right.
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", own_origin.as_str()),
        ],
    ];
    for headers in foreign {
        let mut all = vec![("accept", "application/json")];
        all.extend_from_slice(headers);
        let response = app
            .raw_post("sign_in", &all, &[("username", ALLEN), ("password", TEMP)])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(session_cookie(&response).is_empty());
    }
    assert_eq!(app.credentials_snapshot().await, before);

    // A signed-in student lured to another site: the change is refused there too.
    assert_eq!(app.sign_in(ALLEN, TEMP).await.status, StatusCode::OK);
    let before = app.credentials_snapshot().await;
    let forged = app
        .client
        .post(format!("{}/api/setup_questions", app.base))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("question1", "food"),
            ("answer1", "Ramen"),
            ("question2", "animal"),
            ("answer2", "Shark"),
            ("question3", "colour"),
            ("answer3", "Turquoise"),
        ])
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.credentials_snapshot().await, before);

    // The portal's own pages (same origin, or no browser headers at all) get through.
    for headers in [
        vec![("origin", own_origin.as_str())],
        vec![
            ("sec-fetch-site", "same-origin"),
            ("origin", own_origin.as_str()),
        ],
        vec![],
    ] {
        let mut all = vec![("accept", "application/json")];
        all.extend_from_slice(&headers);
        let response = app
            .raw_post("sign_in", &all, &[("username", ALLEN), ("password", TEMP)])
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{headers:?} {host}");
    }
}

// ---- headers ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_a_nonce_csp_and_the_security_headers() {
    let app = spawn_app().await;
    let mut nonces = Vec::new();
    for path in ["/", "/forgot-password", "/no-such-page"] {
        let response = new_client()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("page");
        let headers = response.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("nonce")
            .to_string();
        assert!(nonce.len() >= 16, "{nonce}");
        let body = response.text().await.expect("body");
        // Every script in the page carries this response's nonce, except the empty
        // placeholder leptos_i18n renders (an empty inline script is never run, so CSP
        // does not check it).
        let mut scripts = 0;
        for script in body.split("<script").skip(1) {
            let (tag, rest) = script.split_once('>').expect("tag");
            let content = rest.split("</script>").next().unwrap_or_default();
            if content.is_empty() && !tag.contains("src=") {
                continue;
            }
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: <script{tag}>"
            );
            scripts += 1;
        }
        assert!(scripts >= 2, "{path}: hydration and resources scripts");
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a fresh nonce for every response");

    // Server-function answers and files get a policy that allows nothing.
    let answer = app
        .raw_post(
            "sign_in",
            &[("accept", "application/json")],
            &[("username", ALLEN), ("password", "x")],
        )
        .await;
    let csp = answer
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert_eq!(
        answer
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
}

// ---- random payloads -------------------------------------------------------------------

/// A request body of some kind: random bytes, JSON of the wrong shape, or a form with
/// random (or real) field names and random values.
fn payloads() -> impl Strategy<Value = (String, Vec<u8>)> {
    use proptest::prelude::*;
    let field = prop_oneof![
        Just("username".to_string()),
        Just("password".to_string()),
        Just("question1".to_string()),
        Just("answer1".to_string()),
        Just("new_password".to_string()),
        Just("confirm_password".to_string()),
        "[a-z_\\[\\]%]{0,12}",
    ];
    let value = prop_oneof![
        any::<String>(),
        "[%&=+]{0,8}",
        Just("%FF%FE".to_string()),
        "[a-zA-Z0-9]{0,2000}",
    ];
    let form = proptest::collection::vec((field, value), 0..8).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes()
    });
    let json = prop_oneof![
        Just(b"{\"username\": 5, \"password\": [1,2]}".to_vec()),
        Just(b"{\"new_password\": {\"a\": null}}".to_vec()),
        Just(b"[]".to_vec()),
        Just(b"null".to_vec()),
        any::<String>().prop_map(|s| serde_json::json!({ "username": s })
            .to_string()
            .into_bytes()),
    ];
    let content_type = prop_oneof![
        Just("application/x-www-form-urlencoded".to_string()),
        Just("application/json".to_string()),
        Just("text/plain".to_string()),
        Just("multipart/form-data; boundary=x".to_string()),
        Just("".to_string()),
    ];
    (
        content_type,
        prop_oneof![form, json, proptest::collection::vec(any::<u8>(), 0..512)],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_payloads_to_every_server_function_get_no_5xx_and_change_nothing() {
    let app = spawn_app().await;
    // Signed in, on the set-up step: a payload that slipped through would change state.
    assert_eq!(app.sign_in(ALLEN, TEMP).await.status, StatusCode::OK);
    let before = app.credentials_snapshot().await;
    let endpoints = [
        "sign_in",
        "journey",
        "setup_questions",
        "confirm_questions",
        "change_password",
    ];
    let mut runner = TestRunner::default();
    let strategy = payloads();
    let mut statuses = std::collections::BTreeMap::new();
    for case in 0..300 {
        let (content_type, body) = strategy.new_tree(&mut runner).expect("payload").current();
        let endpoint = endpoints[case % endpoints.len()];
        let accept = if case % 2 == 0 {
            "application/json"
        } else {
            "text/html"
        };
        let mut request = app
            .client
            .post(format!("{}/api/{endpoint}", app.base))
            .header(ACCEPT, accept)
            .body(body.clone());
        if !content_type.is_empty() {
            request = request.header(CONTENT_TYPE, &content_type);
        }
        let response = request.send().await.unwrap_or_else(|e| {
            panic!("{endpoint} {content_type} {body:?}: no answer ({e}); did the server panic?")
        });
        let status = response.status();
        assert!(
            !status.is_server_error(),
            "{endpoint} {content_type} {:?} → {status}",
            String::from_utf8_lossy(&body)
        );
        *statuses.entry(status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(app.credentials_snapshot().await, before, "{statuses:?}");
    // Still signed in and on the same step.
    assert_eq!(
        app.page("/sspr/setup-questions").await.status,
        StatusCode::OK
    );
}

/// A crafted address (`__path` + `__err`, what leptos reads a refused form back from)
/// can name an error, but never put its own words into the page's error box.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_written_into_the_address_never_reaches_the_error_box() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let bait = "Call 6555 0100 to keep your account";
    let crafted = [
        serde_json::json!({"InputRefused": {"reason": bait}}),
        serde_json::json!({"WrongStep": {"path": bait}}),
    ];
    for error in crafted {
        let encoded = base64::engine::general_purpose::URL_SAFE.encode(error.to_string());
        for (page, endpoint) in [("/", "sign_in"), ("/forgot-password", "start_reset")] {
            let shown = app
                .page(&format!("{page}?__path=/api/{endpoint}&__err={encoded}"))
                .await;
            assert_eq!(shown.status, StatusCode::OK, "{page}");
            assert!(
                !shown.body.contains("6555"),
                "{page} shows the crafted text of {error}"
            );
        }
    }
    // Numbers are shown only within what the settings allow.
    let encoded = base64::engine::general_purpose::URL_SAFE.encode(
        serde_json::json!({"InvalidCredentials": {"max_failures": 987_654, "lock_minutes": 987_654}})
            .to_string(),
    );
    let shown = app
        .page(&format!("/?__path=/api/sign_in&__err={encoded}"))
        .await;
    assert!(!shown.body.contains("987654"), "{}", shown.body);
    // A refused new password's rules come only from the server's own cookie, never
    // from the address ("the part of the name found" would be the crafted text).
    app.sign_in(ALLEN, TEMP).await;
    app.setup_seed_questions().await;
    app.call("confirm_questions", &[]).await;
    let parts =
        serde_json::json!({"PasswordRefused": [{"rule": "contains_name_part", "parts": [bait]}]});
    // (It is a well-formed refusal: the server's own error type reads it.)
    assert!(serde_json::from_value::<proto::error::AppError>(parts.clone()).is_ok());
    let encoded = base64::engine::general_purpose::URL_SAFE.encode(parts.to_string());
    let shown = app
        .page(&format!(
            "/sspr/change-password?__path=/api/change_password&__err={encoded}"
        ))
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(!shown.body.contains("6555"), "{}", shown.body);
    // A genuine refusal read from the address still shows its fixed text.
    let genuine = base64::engine::general_purpose::URL_SAFE
        .encode(serde_json::json!("ResetEnded").to_string());
    let shown = app
        .page(&format!(
            "/forgot-password?__path=/api/start_reset&__err={genuine}"
        ))
        .await;
    assert!(
        shown.body.contains("data-testid=\"error-summary\""),
        "{}",
        shown.body
    );
}

/// SQLite: a write that waits past the busy timeout (another process holds the
/// database) answers 503 with `Retry-After`, like a database that does not answer, and
/// the page works again once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_past_the_busy_timeout_answers_503_and_recovers() {
    use sqlx::Connection as _;
    let app = spawn_app().await;
    app.complete_onboarding().await;
    app.clock.advance(5);
    let mut other = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .expect("second connection");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut other)
        .await
        .expect("lock");
    // The page marks the session as used: a write, which waits for the lock.
    let locked = app
        .client
        .get(format!("{}/portal", app.base))
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .expect("page");
    assert_eq!(locked.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        locked
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    sqlx::query("ROLLBACK")
        .execute(&mut other)
        .await
        .expect("unlock");
    assert_eq!(app.page("/portal").await.status, StatusCode::OK);
}
