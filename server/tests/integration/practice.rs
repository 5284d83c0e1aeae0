//! Practice mode (`server --demo`): "Reset this practice account" only in practice
//! mode and only for a practice account; the start-up refuses a database that holds
//! any account outside the practice school.

use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn reset_puts_a_practice_account_back_at_the_start_and_signs_it_out() {
    let app = spawn_app_with(|c| c.practice = true).await;
    app.complete_onboarding().await;
    // A second browser, and a forgot-password attempt with wrong answers (counted per
    // login ID), so the reset has everything to clear.
    let elsewhere = new_client();
    let other = app
        .call_with(
            &elsewhere,
            "sign_in",
            &[("username", ALLEN), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
    app.call_with(&new_client(), "start_reset", &[("username", ALLEN)])
        .await;
    let pool = app.pool().await;
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
    };
    assert!(count("SELECT COUNT(*) FROM password_history").await > 0);
    assert_eq!(count("SELECT COUNT(*) FROM sessions").await, 2);

    let reset = app.call("reset_practice_account", &[]).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);

    // Every session of the account ended on the server (the other browser's too), its
    // history and answers are gone.
    assert_eq!(count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM password_history").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM security_answers").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM reset_challenges").await, 0);
    assert_eq!(
        app.call_with(&elsewhere, "journey", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The new password no longer works; the letter's does, and the journey starts over.
    assert_eq!(
        app.sign_in(ALLEN, NEW_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = app.sign_in(ALLEN, TEMP).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let journey = app.call("journey", &[]).await.json();
    assert_eq!(journey["state"]["questions_set"], false, "{journey}");
    assert_eq!(journey["state"]["temporary_password"], true, "{journey}");
    // No history left: the same new password is accepted again (the demo repeats).
    app.setup_seed_questions().await;
    app.call("confirm_questions", &[]).await;
    let changed = app.change_password(NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);

    let audit = server::cli::audit(&app.portal, ALLEN).await.expect("audit");
    assert!(audit.contains("practice_reset"), "{audit}");
}

#[tokio::test]
async fn without_practice_mode_the_reset_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.complete_onboarding().await;
    let reset = app.call("reset_practice_account", &[]).await;
    assert_eq!(reset.status, StatusCode::FORBIDDEN, "{}", reset.body);
    // Still signed in, still onboarded, the new password still the one.
    let journey = app.call("journey", &[]).await;
    assert_eq!(journey.status, StatusCode::OK);
    assert_eq!(journey.json()["state"]["temporary_password"], false);
    assert_eq!(
        app.sign_in_elsewhere(ALLEN, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_reset_needs_a_session() {
    let app = spawn_app_with(|c| c.practice = true).await;
    let reset = app.call("reset_practice_account", &[]).await;
    assert_eq!(reset.status, StatusCode::UNAUTHORIZED, "{}", reset.body);
}

#[tokio::test]
async fn practice_mode_refuses_a_database_with_real_accounts() {
    let app = spawn_app_with(|c| c.practice = true).await;
    // The practice database itself is fine, again and again.
    assert_eq!(server::demo::seed(&app.portal).await.expect("seed"), 0);
    // A real school's account appears: practice mode must not start on it.
    server::cli::add_school(&app.portal, "RSS", "Real Secondary School")
        .await
        .expect("school");
    server::cli::add_staff(&app.portal, "RSS", "Goh Siew Lan", false)
        .await
        .expect("staff");
    let refused = server::demo::seed(&app.portal).await;
    let message = refused
        .expect_err("practice mode on real accounts")
        .to_string();
    assert!(
        message.contains("1 account(s) outside the practice school DEMO"),
        "{message}"
    );
}

#[tokio::test]
async fn the_server_binary_refuses_demo_mode_on_a_real_database() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("real.db").display());
    let bin = env!("CARGO_BIN_EXE_server");
    // Each run must end by itself: a server that started anyway is killed after 20 s
    // and the test fails instead of hanging.
    let run = |args: &[&str]| {
        let mut child = std::process::Command::new(bin)
            .args(args)
            .env("DATABASE_URL", &url)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run server");
        for _ in 0..200 {
            if child.try_wait().expect("wait").is_some() {
                return child.wait_with_output().expect("output");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = child.kill();
        panic!("`server {}` did not stop by itself", args.join(" "));
    };
    let added = run(&["schools", "add", "RSS", "Real Secondary School"]);
    assert!(added.status.success(), "{added:?}");
    let staff = run(&[
        "accounts",
        "add-staff",
        "--school",
        "RSS",
        "--name",
        "Goh Siew Lan",
    ]);
    assert!(staff.status.success(), "{staff:?}");
    let demo = run(&["--demo"]);
    assert!(!demo.status.success(), "--demo started on a real database");
    let stderr = String::from_utf8_lossy(&demo.stderr);
    assert!(
        stderr.contains("practice mode (--demo) refused"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_language_and_presenter_switches_never_leave_the_site() {
    let app = spawn_app_with(|c| c.practice = true).await;
    for next in [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%5Cevil.example",
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
    ] {
        for route in ["set-lang?lang=ta", "presenter?on=1"] {
            let answer = app.page(&format!("/{route}&next={next}")).await;
            assert_eq!(
                answer.location.as_deref(),
                Some("/"),
                "{route} with next={next}"
            );
        }
    }
    let ok = app.page("/presenter?on=1&next=/portal%3Ffirst%3D1").await;
    assert_eq!(ok.location.as_deref(), Some("/portal?first=1"));
}

#[tokio::test]
async fn the_presenter_switch_does_not_exist_outside_practice_mode() {
    let app = spawn_app().await;
    assert_eq!(
        app.page("/presenter?on=1&next=/").await.status,
        StatusCode::NOT_FOUND
    );
}
