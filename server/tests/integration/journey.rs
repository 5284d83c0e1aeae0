//! The first-login journey over HTTP.

use argon2::{PasswordHash, PasswordVerifier};
use reqwest::header::{ACCEPT, LOCATION};
use reqwest::StatusCode;
use sqlx::Row;

use crate::common::*;

fn rule_ids(answer: &Answer) -> Vec<String> {
    answer.json()["PasswordRefused"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|v| v["rule"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_temporary_password_signs_in_and_leads_to_setting_up_questions() {
    let app = spawn_app().await;
    let answer = app.sign_in(ALLEN, TEMP).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/sspr/setup-questions"));
    let page = app.page("/sspr/setup-questions").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Setup Security Questions"));
    assert!(page.body.contains("Idle Timeout: 4 minutes"));
    assert!(page.body.contains("What is your favourite food?"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let unknown = app.sign_in("nobody@students.edu.sg", TEMP).await;
    let wrong = app.sign_in(ALLEN, "2024kmps").await;
    let malformed = app.sign_in("not an id", TEMP).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    for other in [&wrong, &malformed] {
        assert_eq!(other.status, unknown.status);
        assert_eq!(other.body, unknown.body);
        assert_eq!(other.location, unknown.location);
    }
    assert_eq!(
        unknown.json(),
        serde_json::json!({"InvalidCredentials": {"max_failures": 5, "lock_minutes": 15}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_ids_are_not_case_sensitive_but_passwords_are() {
    let app = spawn_app().await;
    assert_eq!(
        app.sign_in("  Allen_Tan@Students.edu.sg", TEMP)
            .await
            .status,
        StatusCode::OK
    );
    let lower = app.sign_in_elsewhere(ALLEN, "2024KMPS").await;
    assert_eq!(lower.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_typed_out_of_order_redirect_to_the_current_step() {
    let app = spawn_app().await;
    for path in [
        "/portal",
        "/sspr/change-password",
        "/sspr/confirm-questions",
    ] {
        let page = app.page(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location.as_deref(), Some("/"), "{path}");
    }
    app.sign_in(ALLEN, TEMP).await;
    for path in [
        "/",
        "/portal",
        "/sspr/change-password",
        "/sspr/confirm-questions",
        "/sspr/password-changed",
        "/sspr/questions-saved",
    ] {
        let page = app.page(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            page.location.as_deref(),
            Some("/sspr/setup-questions"),
            "{path}"
        );
    }
    app.setup_seed_questions().await;
    let page = app.page("/portal").await;
    assert_eq!(page.location.as_deref(), Some("/sspr/confirm-questions"));
    app.call("confirm_questions", &[]).await;
    let page = app.page("/portal").await;
    assert_eq!(page.location.as_deref(), Some("/sspr/change-password"));
    let page = app.page("/sspr/setup-questions").await;
    assert_eq!(page.location.as_deref(), Some("/sspr/change-password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_called_out_of_order_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let signed_out = app.call("confirm_questions", &[]).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
    assert_eq!(signed_out.json(), serde_json::json!("SessionEnded"));

    app.sign_in(ALLEN, TEMP).await;
    let early_change = app.change_password(NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(early_change.status, StatusCode::CONFLICT);
    assert_eq!(
        early_change.json(),
        serde_json::json!({"WrongStep": {"path": "/sspr/setup-questions"}})
    );
    let early_confirm = app.call("confirm_questions", &[]).await;
    assert_eq!(early_confirm.status, StatusCode::CONFLICT);

    // The temporary password still works: nothing was changed.
    let again = app.sign_in_elsewhere(ALLEN, TEMP).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.location.as_deref(), Some("/sspr/setup-questions"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_journey_replaces_the_temporary_password() {
    let app = spawn_app().await;
    app.sign_in(ALLEN, TEMP).await;
    let setup = app.setup_seed_questions().await;
    assert_eq!(setup.location.as_deref(), Some("/sspr/confirm-questions"));
    let review = app.page("/sspr/confirm-questions").await;
    assert_eq!(review.status, StatusCode::OK);
    for text in ["Confirm Security Questions", "Ramen", "Shark", "Turquoise"] {
        assert!(review.body.contains(text), "{text}");
    }
    let confirm = app.call("confirm_questions", &[]).await;
    assert_eq!(confirm.location.as_deref(), Some("/sspr/questions-saved"));
    let saved = app.page("/sspr/questions-saved").await;
    assert!(saved
        .body
        .contains("Your secret questions and answers have been successfully saved"));
    let changed = app.change_password(NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.location.as_deref(), Some("/sspr/password-changed"));
    let portal = app.page("/portal").await;
    assert_eq!(portal.status, StatusCode::OK);
    for text in [
        "Student ICON E-Mail",
        "MIMS SSPR",
        "Student Learning Space – SLS",
        "Sign out",
    ] {
        assert!(portal.body.contains(text), "{text}");
    }

    let old = app.sign_in_elsewhere(ALLEN, TEMP).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app.sign_in_elsewhere(ALLEN, NEW_PASSWORD).await;
    assert_eq!(new.status, StatusCode::OK);
    assert_eq!(new.location.as_deref(), Some("/portal"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_new_password_is_refused_with_every_broken_rule() {
    let app = spawn_app().await;
    app.sign_in(ALLEN, TEMP).await;
    app.setup_seed_questions().await;
    app.call("confirm_questions", &[]).await;
    let refused = app.change_password("#allen", "#allen").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        rule_ids(&refused),
        vec![
            "too_short",
            "first_character_symbol",
            "contains_name_part",
            "too_few_character_types"
        ]
    );
    assert!(refused.body.contains("\"allen\""), "{}", refused.body);

    let mismatch = app.change_password(NEW_PASSWORD, "Blue-Whale-Swims8").await;
    assert_eq!(rule_ids(&mismatch), vec!["confirm_mismatch"]);

    // Nothing changed: the temporary password still signs in.
    let again = app.sign_in_elsewhere(ALLEN, TEMP).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_refused_with_the_slot_and_reason() {
    let app = spawn_app().await;
    app.sign_in(ALLEN, TEMP).await;
    let refused = app
        .call(
            "setup_questions",
            &[
                ("question1", "food"),
                ("answer1", "Allen"),
                ("question2", "food"),
                ("answer2", "Shark"),
                ("question3", "colour"),
                ("answer3", "ALLEN "),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.json(),
        serde_json::json!({"AnswersRefused": [
            {"problem": "is_name", "slot": 0},
            {"problem": "question_not_chosen", "slot": 1},
            {"problem": "is_name", "slot": 2},
        ]})
    );
    let page = app.page("/sspr/confirm-questions").await;
    assert_eq!(page.location.as_deref(), Some("/sspr/setup-questions"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_stored_only_as_argon2id_hashes_of_normalised_answers() {
    let app = spawn_app().await;
    app.complete_onboarding().await;
    let pool = app.pool().await;
    let account = sqlx::query(
        "SELECT id, password_hash, password_temporary FROM accounts WHERE login_id = ?",
    )
    .bind(ALLEN)
    .fetch_one(&pool)
    .await
    .expect("account");
    let password_hash: String = account.get("password_hash");
    let temporary: bool = account.get("password_temporary");
    assert!(!temporary);
    assert!(password_hash.starts_with("$argon2id$"));
    assert!(!password_hash.contains(NEW_PASSWORD));
    let parsed = PasswordHash::new(&password_hash).expect("phc");
    assert!(argon2::Argon2::default()
        .verify_password(NEW_PASSWORD.as_bytes(), &parsed)
        .is_ok());

    let rows = sqlx::query("SELECT question_id, answer_hash FROM security_answers ORDER BY slot")
        .fetch_all(&pool)
        .await
        .expect("answers");
    let questions: Vec<String> = rows.iter().map(|r| r.get("question_id")).collect();
    assert_eq!(questions, vec!["food", "animal", "colour"]);
    let food_hash: String = rows[0].get("answer_hash");
    assert!(food_hash.starts_with("$argon2id$"));
    let parsed = PasswordHash::new(&food_hash).expect("phc");
    // Submitted as "Ramen ": stored as the hash of the normal form "ramen".
    assert!(argon2::Argon2::default()
        .verify_password(b"ramen", &parsed)
        .is_ok());

    // No secret anywhere in the sessions or the audit trail.
    let dump: Vec<String> = sqlx::query(
        "SELECT COALESCE(pending_questions, '') AS t FROM sessions \
         UNION ALL SELECT kind || COALESCE(detail, '') || COALESCE(client, '') FROM audit_events",
    )
    .fetch_all(&pool)
    .await
    .expect("dump")
    .iter()
    .map(|r| r.get("t"))
    .collect();
    for text in dump {
        for secret in [TEMP, NEW_PASSWORD, "Ramen", "Shark", "Turquoise"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_is_renewed_at_sign_in_and_when_the_password_changes() {
    let app = spawn_app().await;
    app.sign_in(ALLEN, TEMP).await;
    let pool = app.pool().await;
    let first: Vec<u8> = sqlx::query("SELECT token_hash FROM sessions")
        .fetch_one(&pool)
        .await
        .expect("session")
        .get("token_hash");
    app.setup_seed_questions().await;
    app.call("confirm_questions", &[]).await;
    app.change_password(NEW_PASSWORD, NEW_PASSWORD).await;
    let sessions: Vec<Vec<u8>> = sqlx::query("SELECT token_hash FROM sessions")
        .fetch_all(&pool)
        .await
        .expect("sessions")
        .iter()
        .map(|r| r.get("token_hash"))
        .collect();
    assert_eq!(sessions.len(), 1);
    assert_ne!(sessions[0], first);
    // The client holds the new cookie and reaches the portal.
    assert_eq!(app.page("/portal").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = spawn_app().await;
    let response = new_client()
        .post(format!("{}/api/sign_in", app.base))
        .header(ACCEPT, "application/json")
        .form(&[("username", ALLEN), ("password", TEMP)])
        .send()
        .await
        .expect("request");
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(cookie.starts_with("portal_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends_after_four_minutes() {
    let app = spawn_app().await;
    app.sign_in(ALLEN, TEMP).await;
    app.clock.advance(239);
    assert_eq!(
        app.page("/sspr/setup-questions").await.status,
        StatusCode::OK
    );
    app.clock.advance(239);
    assert_eq!(
        app.page("/sspr/setup-questions").await.status,
        StatusCode::OK
    );
    app.clock.advance(240);
    let page = app.page("/sspr/setup-questions").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/?timeout=1"));
    // Work in progress is not applied once the session is gone.
    let late = app.setup_seed_questions().await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_eight_hours_after_sign_in_however_active() {
    let app = spawn_app().await;
    // Onboarded (the first-login journey has its own, shorter limit).
    app.complete_onboarding().await;
    // Active every 200 s (never idle) for 8 hours less one step: still signed in.
    for _ in 0..(8 * 3600 / 200 - 1) {
        app.clock.advance(200);
        let page = app.page("/portal").await;
        assert_eq!(page.status, StatusCode::OK);
    }
    app.clock.advance(200);
    let page = app.page("/portal").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/?timeout=1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    app.complete_onboarding().await;
    let out = app.call("sign_out", &[]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.location.as_deref(), Some("/"));
    let pool = app.pool().await;
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sessions")
        .fetch_one(&pool)
        .await
        .expect("count")
        .get("n");
    assert_eq!(count, 0);
    assert_eq!(app.page("/portal").await.location.as_deref(), Some("/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_form_post_without_javascript_is_redirected_like_a_browser_expects() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/sign_in", app.base))
        .header(ACCEPT, "text/html,application/xhtml+xml")
        .header(reqwest::header::REFERER, format!("{}/", app.base))
        .form(&[("username", ALLEN), ("password", TEMP)])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok()),
        Some("/sspr/setup-questions")
    );
    let failed = new_client()
        .post(format!("{}/api/sign_in", app.base))
        .header(ACCEPT, "text/html")
        .header(reqwest::header::REFERER, format!("{}/", app.base))
        .form(&[("username", ALLEN), ("password", "wrong")])
        .send()
        .await
        .expect("request");
    assert_eq!(failed.status(), StatusCode::FOUND);
    let location = failed
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(location.contains("__err="), "{location}");
    // The page it lands on shows the one sign-in failure message.
    let page = new_client()
        .get(&location)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("page");
    let body = page.text().await.unwrap_or_default();
    assert!(body.contains("Invalid username or password."), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_server_function_payloads_get_a_client_error_and_change_nothing() {
    let app = spawn_app().await;
    let missing = app.call("sign_in", &[("username", ALLEN)]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);
    app.sign_in(ALLEN, TEMP).await;
    let partial = app
        .call(
            "setup_questions",
            &[("question1", "food"), ("answer1", "Ramen")],
        )
        .await;
    assert_eq!(partial.status, StatusCode::BAD_REQUEST);
    let huge = "x".repeat(64 * 1024);
    // From a connection of its own: the server answers 413 before reading the body and
    // closes that connection, which a pooled client might otherwise reuse.
    let too_big = app
        .call_with(
            &new_client(),
            "sign_in",
            &[("username", ALLEN), ("password", &huge)],
        )
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        app.page("/sspr/confirm-questions")
            .await
            .location
            .as_deref(),
        Some("/sspr/setup-questions")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_database_url_stops_the_server_with_a_clear_message() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DATABASE_URL", "mysql://nowhere/portal")
        .output()
        .expect("run server");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(stderr.contains("not supported"), "{stderr}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DATABASE_URL", "sqlite:/proc/no-such-dir/portal.db")
        .output()
        .expect("run server");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error:"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_setting_stops_the_server_and_names_it() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("PORTAL_IDLE_TIMEOUT_SECS", "four minutes")
        .output()
        .expect("run server");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("idle-timeout-secs"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_page_loads_all_complete() {
    let app = spawn_app().await;
    let logins: Vec<&str> = server::demo::DEMO_STUDENTS
        .iter()
        .map(|(_, l)| *l)
        .collect();
    let mut clients = Vec::new();
    for login in &logins {
        let client = new_client();
        let answer = app
            .call_with(
                &client,
                "sign_in",
                &[("username", login), ("password", TEMP)],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        clients.push(client);
    }
    let mut tasks = Vec::new();
    for round in 0..10 {
        for client in &clients {
            let client = client.clone();
            let url = format!("{}/sspr/setup-questions", app.base);
            tasks.push(tokio::spawn(async move {
                let response = client
                    .get(&url)
                    .header(ACCEPT, "text/html")
                    .send()
                    .await
                    .map_err(|e| format!("round {round}: {e}"))?;
                Ok::<StatusCode, String>(response.status())
            }));
        }
    }
    for task in tasks {
        let status = task.await.expect("join");
        assert_eq!(status, Ok(StatusCode::OK));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_password_sent_by_a_form_keeps_its_rules_out_of_the_address() {
    use base64::Engine as _;
    let app = spawn_app().await;
    app.sign_in(ALLEN, TEMP).await;
    app.setup_seed_questions().await;
    app.call("confirm_questions", &[]).await;
    // A plain form (no JavaScript, or the islands' forms): the browser is sent back.
    let refused = app
        .client
        .post(format!("{}/api/change_password", app.base))
        .header(ACCEPT, "text/html")
        .header(
            reqwest::header::REFERER,
            format!("{}/sspr/change-password", app.base),
        )
        .form(&[("new_password", "#allen1"), ("confirm_password", "#allen1")])
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), StatusCode::FOUND);
    let location = refused
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // The address says "refused", and nothing about the password typed.
    let err = location
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("__err="))
        .map(|value| value.replace("%3D", "="))
        .unwrap_or_default();
    let decoded = base64::engine::general_purpose::URL_SAFE
        .decode(err.as_bytes())
        .expect("__err is base64");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&decoded).expect("json"),
        serde_json::json!({"PasswordRefused": []}),
        "{location}"
    );
    assert!(!location.contains("allen1"), "{location}");
    let set_cookie: Vec<String> = refused
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    assert!(
        set_cookie
            .iter()
            .any(|c| c.starts_with("portal_refusal=") && c.contains("Max-Age=60")),
        "{set_cookie:?}"
    );
    // The page it goes back to shows every broken rule, the name part included, and
    // removes the cookie: loaded again, it shows no refusal.
    let path = location.trim_start_matches(&app.base);
    let page = app.page(path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("data-testid=\"name-part\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("“allen”"), "{}", page.body);
    assert!(
        page.body
            .contains(r#"data-rule="min_length" data-status="unmet""#),
        "{}",
        page.body
    );
    let again = app.page(path).await;
    assert!(
        !again.body.contains("data-testid=\"name-part\""),
        "{}",
        again.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_answers_are_sealed_mid_journey_and_when_abandoned() {
    let app = spawn_app().await;
    app.sign_in(ALLEN, TEMP).await;
    assert_eq!(app.setup_seed_questions().await.status, StatusCode::OK);
    // Chloe sets hers up in another browser and walks away before confirming.
    let chloe = new_client();
    app.call_with(
        &chloe,
        "sign_in",
        &[("username", "chloe_ng@students.edu.sg"), ("password", TEMP)],
    )
    .await;
    let abandoned = app
        .call_with(
            &chloe,
            "setup_questions",
            &[
                ("question1", "fruit"),
                ("answer1", "Rambutan"),
                ("question2", "bird"),
                ("answer2", "Kingfisher"),
                ("question3", "sport"),
                ("answer3", "Sepak takraw"),
            ],
        )
        .await;
    assert_eq!(abandoned.status, StatusCode::OK, "{}", abandoned.body);

    let pool = app.pool().await;
    let rows: Vec<String> = sqlx::query("SELECT pending_questions FROM sessions")
        .fetch_all(&pool)
        .await
        .expect("sessions")
        .iter()
        .filter_map(|r| r.get::<Option<String>, _>("pending_questions"))
        .collect();
    assert_eq!(rows.len(), 2, "both sessions hold pending choices");
    for row in &rows {
        let lower = row.to_lowercase();
        for secret in [
            "ramen",
            "shark",
            "turquoise",
            "rambutan",
            "kingfisher",
            "takraw",
        ] {
            assert!(!lower.contains(secret), "{secret} in clear: {row}");
        }
        assert!(!lower.contains("food") && !lower.contains("fruit"), "{row}");
    }
    // The session that chose them still reads them back for review.
    let review = app.page("/sspr/confirm-questions").await;
    assert_eq!(review.status, StatusCode::OK);
    assert!(review.body.contains("Turquoise"), "{}", review.body);
    assert_eq!(
        app.call("confirm_questions", &[]).await.status,
        StatusCode::OK
    );
}
