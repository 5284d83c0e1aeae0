//! Nothing grows without bound (issue 14, finding 3): a flood is counted, not written row
//! by row, and the retention job deletes what has expired while keeping what is live.

use reqwest::header::ACCEPT;
use reqwest::StatusCode;
use sqlx::Row;

use crate::common::*;

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(&app.pool().await)
        .await
        .expect(sql)
        .get::<i64, _>(0)
}

/// Posts a server function as a browser behind a proxy at `address`.
async fn post_from(
    app: &TestApp,
    address: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> StatusCode {
    app.client
        .post(format!("{}/api/{endpoint}", app.base))
        .header(ACCEPT, "application/json")
        .header("x-forwarded-for", address)
        .form(form)
        .send()
        .await
        .expect(endpoint)
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_sign_ins_and_resets_leaves_the_tables_bounded() {
    let app = spawn_app_with(|c| {
        c.trust_forwarded_for = true;
        c.sign_in_per_minute = 60;
        c.sign_in_burst = 10;
    })
    .await;
    let audit_before = count(&app, "SELECT COUNT(*) FROM audit_events").await;

    // 5,000 sign-ins from one address: 10 pass (the burst), the rest are throttled.
    let mut throttled: i64 = 0;
    for i in 0..5000 {
        let login = format!("nobody{i}@students.edu.sg");
        let status = post_from(
            &app,
            "203.0.113.7",
            "sign_in",
            &[("username", &login), ("password", "Wrong-Guess-123")],
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            throttled += 1;
        }
    }
    assert!(throttled >= 4980, "{throttled} throttled");
    let throttle_rows = count(
        &app,
        "SELECT COUNT(*) FROM audit_events WHERE kind = 'sign_in_throttled'",
    )
    .await;
    assert!(
        (1..=2).contains(&throttle_rows),
        "{throttle_rows} audit rows for {throttled} throttled sign-ins"
    );
    // One row per sign-in that got through (its failure), none per refusal.
    let passed = 5000 - throttled;
    let audit_after = count(&app, "SELECT COUNT(*) FROM audit_events").await;
    assert_eq!(
        audit_after - audit_before,
        passed + throttle_rows,
        "audit rows for a flood of 5,000 of which {passed} got through"
    );
    let metrics = app.metrics().await;
    let counted: f64 = metrics
        .lines()
        .find(|l| l.starts_with("portal_throttled_total{what=\"sign_in\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no throttle metric in {metrics}"));
    assert!(counted >= throttled as f64, "{counted} < {throttled}");

    // Unknown login IDs are counted only for the sign-ins that got through, under a
    // keyed hash, never as typed.
    let unknown = count(&app, "SELECT COUNT(*) FROM unknown_sign_ins").await;
    assert!(unknown <= passed, "{unknown} rows for {passed} sign-ins");
    let typed = count(
        &app,
        "SELECT COUNT(*) FROM unknown_sign_ins WHERE login_key LIKE '%nobody%'",
    )
    .await;
    assert_eq!(typed, 0, "a typed login ID is stored in clear");

    // 1,000 resets started for made-up IDs, each from an address (a /64) of its own, so
    // no throttle stops them: each leaves a challenge row until it expires.
    for i in 0..1000 {
        let login = format!("someone{i}@students.edu.sg");
        let status = post_from(
            &app,
            &format!("2001:db8:{i:x}::1"),
            "start_reset",
            &[("username", &login)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "start_reset {i}");
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM reset_challenges").await,
        1000
    );

    // Fifteen minutes on: what is live now must survive the purge and still work.
    app.clock.advance(15 * 60 + 1);
    app.complete_onboarding().await;
    let reset = new_client();
    let started = app
        .call_with(&reset, "start_reset", &[("username", ALLEN)])
        .await;
    assert_eq!(started.status, StatusCode::OK);
    let purged = app.portal.purge_expired().await.expect("purge");
    assert_eq!(purged.challenges, 1000, "{purged:?}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM reset_challenges").await,
        1
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(app.page("/portal").await.status, StatusCode::OK);
    let state = app.call_with(&reset, "reset_state", &[]).await.json();
    assert!(state.get("Questions").is_some(), "{state}");
    // A second run at the same time (another instance) finds nothing more to do.
    let again = app.portal.purge_expired().await.expect("purge");
    assert_eq!(again, Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_limits_batches_and_old_audit_rows_are_deleted() {
    let app = spawn_app().await;
    // A session left idle, a blocked forgot-password login ID, an uploaded class list.
    app.sign_in(ALLEN, TEMP).await;
    let pool = app.pool().await;
    let t0 = app.portal.now();
    sqlx::query(
        "INSERT INTO reset_limits (login_key, level, level_at, blocked_until) \
         VALUES ('old@students.edu.sg', 5000, ?, ?), ('new@students.edu.sg', 1000, ?, NULL)",
    )
    .bind(t0)
    .bind(t0 + 86_400)
    .bind(t0 + 3 * 86_400)
    .execute(&pool)
    .await
    .expect("limits");
    let staff: i64 = sqlx::query("SELECT id FROM accounts WHERE login_id LIKE '%@schools.gov.sg'")
        .fetch_one(&pool)
        .await
        .expect("staff")
        .get(0);
    sqlx::query(
        "INSERT INTO import_batches (school_code, staff_id, file, created_at) VALUES ('DEMO', ?, x'00', ?)",
    )
    .bind(staff)
    .bind(t0)
    .execute(&pool)
    .await
    .expect("batch");

    // Two days later: the session, the batch and the emptied, unblocked limit go.
    app.clock.advance(2 * 86_400);
    let purged = app.portal.purge_expired().await.expect("purge");
    assert_eq!(
        (
            purged.sessions,
            purged.batches,
            purged.reset_limits,
            purged.audit_events
        ),
        (1, 1, 1, 0),
        "{purged:?}"
    );
    let keys: Vec<String> = sqlx::query("SELECT login_key FROM reset_limits")
        .fetch_all(&pool)
        .await
        .expect("limits")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(keys, vec!["new@students.edu.sg"]);

    // 400 days on, the sign-in's audit rows go; today's stay.
    let old_rows = count(&app, "SELECT COUNT(*) FROM audit_events").await;
    assert!(old_rows > 0);
    app.clock.advance(400 * 86_400);
    app.sign_in(ALLEN, TEMP).await;
    let purged = app.portal.purge_expired().await.expect("purge");
    assert_eq!(purged.audit_events, u64::try_from(old_rows).expect("n"));
    let kinds: Vec<String> = sqlx::query("SELECT kind FROM audit_events")
        .fetch_all(&pool)
        .await
        .expect("audit")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kinds, vec!["sign_in"]);
}
