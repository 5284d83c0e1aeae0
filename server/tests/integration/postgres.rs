//! The same server on PostgreSQL: the whole first-login journey, the lockout, and the
//! forgot-password reset over HTTP, on a database of its own (the store contract in
//! `server/store/tests/contract.rs` covers each store operation on both back-ends).

use reqwest::StatusCode;

use crate::common::*;

/// A fresh PostgreSQL database; dropped (best effort) when this is dropped.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create() -> PgDatabase {
        use rand::Rng as _;
        use sqlx::Connection as _;
        let base = std::env::var("PORTAL_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
        let name: String = {
            let mut rng = rand::thread_rng();
            (0..16)
                .map(|_| char::from(b'a' + rng.gen_range(0..26)))
                .collect()
        };
        let name = format!("portal_it_{name}");
        let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required for these tests: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        PgDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-q", "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journey_lockout_and_reset_work_on_postgres() {
    let db = PgDatabase::create().await;
    let url = db.url.clone();
    let app = spawn_app_with(move |c| c.database_url = url).await;
    assert!(app.database_url.starts_with("postgres://"));
    app.complete_onboarding().await;
    assert_eq!(app.page("/portal").await.status, StatusCode::OK);

    // Five different wrong passwords lock Chloe; the right one is refused.
    for i in 0..5 {
        let wrong = app
            .sign_in_elsewhere("chloe_ng@students.edu.sg", &format!("wrong-{i}"))
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .sign_in_elsewhere("chloe_ng@students.edu.sg", TEMP)
        .await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    app.clock.advance(15 * 60);
    let unlocked = app
        .sign_in_elsewhere("chloe_ng@students.edu.sg", TEMP)
        .await;
    assert_eq!(unlocked.status, StatusCode::OK);

    // Forgot password with two of Allen's three answers.
    let client = new_client();
    let started = app
        .call_with(&client, "start_reset", &[("username", ALLEN)])
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let state = app.call_with(&client, "reset_state", &[]).await.json();
    let answers: Vec<&str> = state["Questions"]["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| match q.as_str() {
            Some("food") => "ramen",
            Some("animal") => "SHARK",
            _ => " turquoise ",
        })
        .collect();
    let matched = app
        .call_with(
            &client,
            "answer_reset",
            &[("answer1", answers[0]), ("answer2", answers[1])],
        )
        .await;
    assert_eq!(matched.status, StatusCode::OK, "{}", matched.body);
    let done = app
        .call_with(
            &client,
            "reset_password",
            &[
                ("new_password", "Green-Turtle-Dives7"),
                ("confirm_password", "Green-Turtle-Dives7"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let signed = app.sign_in_elsewhere(ALLEN, "Green-Turtle-Dives7").await;
    assert_eq!(signed.location.as_deref(), Some("/portal?reset=1"));
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_database_goes_away_the_portal_says_so_and_comes_back_by_itself() {
    use sqlx::Connection as _;
    let db = PgDatabase::create().await;
    let url = db.url.clone();
    let app = spawn_app_with(move |c| c.database_url = url).await;
    let get = |path: &'static str| {
        let base = app.base.clone();
        async move {
            new_client()
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("request")
        }
    };
    assert_eq!(get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(get("/readyz").await.status(), StatusCode::OK);
    let staff = new_client();
    super::staff::onboard(&app, &staff, server::demo::DEMO_STAFF.1).await;

    // Close the database to connections and cut the open ones.
    let base = db
        .url
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("base");
    let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .expect("admin");
    let name = db.url.rsplit('/').next().expect("name").to_string();
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .await
        .expect("close");
    sqlx::query(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .execute(&mut admin)
    .await
    .expect("terminate");

    assert_eq!(
        get("/healthz").await.status(),
        StatusCode::OK,
        "the process is up"
    );
    let ready = get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let attempt = app.sign_in_elsewhere(ALLEN, TEMP).await;
    assert_eq!(
        attempt.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        attempt.body
    );
    assert_eq!(attempt.json(), serde_json::json!("Unavailable"));
    // The staff routes too: "try again in a moment", not "only for school staff".
    for path in [
        "/staff/letters.csv?id=1",
        "/staff",
        "/staff/class?name=P5%20Kindness",
    ] {
        let answer = staff
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("staff route");
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(
            answer
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("5"),
            "{path}"
        );
    }

    // The database comes back: so does the portal, without a restart.
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .await
        .expect("open");
    let mut ready = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        ready = get("/readyz").await.status();
        if ready == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ready, StatusCode::OK);
    assert_eq!(
        app.sign_in_elsewhere(ALLEN, TEMP).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_the_security_events_and_the_hash_queue() {
    let app = spawn_app().await;
    app.sign_in_elsewhere(ALLEN, "wrong").await;
    app.sign_in_elsewhere(ALLEN, TEMP).await;
    // Not on the portal's own address without the token: the same 404 as any
    // unknown address, with a wrong token too.
    for token in [None, Some("not-the-metrics-token")] {
        let mut request = new_client().get(format!("{}/metrics", app.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let refused = request.send().await.expect("metrics");
        assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{token:?}");
    }
    let text = app.metrics().await;
    // On the operations address (PORTAL_OPS_ADDR) no token is needed.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let ops = listener.local_addr().expect("addr");
    tokio::spawn(server::serve(
        listener,
        server::ops::private_routes(app.portal.clone()),
    ));
    let private = new_client()
        .get(format!("http://{ops}/metrics"))
        .send()
        .await
        .expect("ops metrics");
    assert_eq!(private.status(), StatusCode::OK);
    assert!(private
        .text()
        .await
        .expect("body")
        .contains("portal_events_total{kind=\"sign_in\"}"));
    for needle in [
        "portal_events_total{kind=\"sign_in\"}",
        "portal_events_total{kind=\"sign_in_failed\"}",
        "portal_hash_queue_depth",
        "portal_hash_running",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}
