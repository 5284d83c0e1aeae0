//! Upgrades keep every account: a database made with the first release's migrations
//! (`tests/fixtures/release-3c568aa`, that commit's files), filled through that schema
//! with accounts at every step of the journey, staff, sessions and batches, is opened by
//! today's server: every account keeps its state and signs in, a session stays signed
//! in, the answers still reset a password. On SQLite and on PostgreSQL.

use std::path::Path;

use domain::answers::normalise_answer;
use domain::secret::Secret;
use portal_core::ports::SecretHasher as _;
use reqwest::StatusCode;
use sqlx::Row as _;

use super::postgres::PgDatabase;
use super::self_service::{answer_for, Reset};
use crate::common::*;

const NOW: i64 = 1_800_000_000;
const FRESH: &str = "fresh_student@students.edu.sg";
const HALF_WAY: &str = "half_way@students.edu.sg";
const DONE: &str = "done_student@students.edu.sg";
const LOCKED: &str = "locked_student@students.edu.sg";
const TEACHER: &str = "upgrade_teacher@schools.gov.sg";
const HQ: &str = "upgrade_hq@hq.moe.gov.sg";
const SESSION_TOKEN: &str = "a-session-from-before-the-upgrade";

enum Db {
    Lite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

/// One statement, written once with `$N`, bound the same on both databases.
macro_rules! run {
    ($db:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $db {
            Db::Lite(pool) => {
                sqlx::query($sql)$(.bind($arg))*.execute(pool).await.expect($sql);
            }
            Db::Pg(pool) => {
                sqlx::query($sql)$(.bind($arg))*.execute(pool).await.expect($sql);
            }
        }
    };
}

macro_rules! id_of {
    ($db:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $db {
            Db::Lite(pool) => sqlx::query($sql)$(.bind($arg))*
                .fetch_one(pool).await.expect($sql).get::<i64, _>(0),
            Db::Pg(pool) => sqlx::query($sql)$(.bind($arg))*
                .fetch_one(pool).await.expect($sql).get::<i64, _>(0),
        }
    };
}

async fn old_schema(url: &str) -> Db {
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-3c568aa/migrations");
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.expect("pool");
        sqlx::migrate::Migrator::new(folder.join("postgres"))
            .await
            .expect("old migrations")
            .run(&pool)
            .await
            .expect("old schema");
        // The first release's PostgreSQL store wrote this at start-up.
        run!(
            &Db::Pg(pool.clone()),
            "INSERT INTO installation (id, secret) VALUES (1, $1)",
            vec![7u8; 32]
        );
        Db::Pg(pool)
    } else {
        let options = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .expect("url")
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.expect("pool");
        sqlx::migrate::Migrator::new(folder.join("sqlite"))
            .await
            .expect("old migrations")
            .run(&pool)
            .await
            .expect("old schema");
        Db::Lite(pool)
    }
}

/// Fills the old schema the way the first release did: hashes made the way it made
/// them (argon2id PHC strings, answers normalised then hashed).
async fn fill(db: &Db) {
    let hasher =
        server::crypto::Argon2Hasher::new(server::crypto::HashCost::TEST, 1, 16).expect("hasher");
    let hash = |s: &str| {
        let secret = Secret::new(s);
        let hasher = &hasher;
        async move { hasher.hash(&secret).await.expect("hash") }
    };
    let temp = hash(TEMP).await;
    let new = hash(NEW_PASSWORD).await;
    run!(
        db,
        "INSERT INTO schools (code, name) VALUES ($1, $2)",
        "UPG",
        "Upgrade Primary School"
    );
    let mut ids = std::collections::HashMap::new();
    for (login, name, role, password, temporary) in [
        (FRESH, "Fresh Student", "student", &temp, true),
        (HALF_WAY, "Half Way", "student", &temp, true),
        (DONE, "Done Student", "student", &new, false),
        (LOCKED, "Locked Student", "student", &new, false),
        (TEACHER, "Upgrade Teacher", "staff", &new, false),
        (HQ, "Upgrade Hq", "hq", &temp, true),
    ] {
        let id = id_of!(
            db,
            "INSERT INTO accounts (login_id, full_name, password_hash, password_temporary, \
             created_at, role, school_code, class_name, temporary_expires_at, \
             password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, 'UPG', $7, $8, $9) \
             RETURNING id",
            login,
            name,
            password.clone(),
            temporary,
            NOW - 86_400,
            role,
            (role == "student").then_some("P6 Courage"),
            temporary.then_some(NOW + 30 * 86_400),
            (!temporary).then_some(NOW - 3600),
        );
        ids.insert(login, id);
    }
    for login in [HALF_WAY, DONE, LOCKED, TEACHER] {
        for (slot, question) in ["food", "animal", "colour"].iter().enumerate() {
            let answer = hash(&normalise_answer(answer_for(question))).await;
            run!(
                db,
                "INSERT INTO security_answers (account_id, slot, question_id, answer_hash, set_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                ids[login],
                i64::try_from(slot).expect("slot"),
                *question,
                answer,
                NOW - 7200,
            );
        }
    }
    for login in [DONE, LOCKED, TEACHER] {
        run!(
            db,
            "INSERT INTO password_history (account_id, password_hash, temporary, replaced_at) \
             VALUES ($1, $2, $3, $4)",
            ids[login],
            temp.clone(),
            true,
            NOW - 3600,
        );
    }
    run!(
        db,
        "UPDATE accounts SET locked_until = $1, lockout_count = 1 WHERE id = $2",
        NOW + 900,
        ids[LOCKED]
    );
    run!(
        db,
        "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, reauth_at, \
         redo_questions) VALUES ($1, $2, $3, $4, $5, $6)",
        portal_core::service::token_hash(SESSION_TOKEN),
        ids[DONE],
        NOW - 120,
        NOW - 30,
        NOW - 120,
        false,
    );
    run!(
        db,
        "INSERT INTO audit_events (at, account_id, actor, kind, client, detail) \
         VALUES ($1, $2, 'self', 'sign_in', '127.0.0.1', NULL)",
        NOW - 120,
        ids[DONE]
    );
    run!(
        db,
        "INSERT INTO reset_limits (login_key, window_start, failures, blocked_until) \
         VALUES ('a-login-key', $1, 2, NULL)",
        NOW - 600
    );
    run!(
        db,
        "INSERT INTO import_batches (school_code, staff_id, file, created_at) \
         VALUES ('UPG', $1, $2, $3)",
        ids[TEACHER],
        b"full_name,class\nNew Pupil,P6 Courage\n".to_vec(),
        NOW - 300
    );
    run!(
        db,
        "INSERT INTO letter_batches (staff_id, nonce, sealed, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
        ids[TEACHER],
        vec![1u8; 12],
        vec![2u8; 48],
        NOW - 300,
        NOW + 3600
    );
}

async fn upgrade_keeps_every_account(url: String) {
    let db = old_schema(&url).await;
    fill(&db).await;
    match db {
        Db::Lite(pool) => pool.close().await,
        Db::Pg(pool) => pool.close().await,
    }
    let own = url.clone();
    let app = spawn_app_seeded(move |c| c.database_url = own, false).await;

    // Each account is where it was in the journey.
    for (login, password, step) in [
        (FRESH, TEMP, "/sspr/setup-questions"),
        (HALF_WAY, TEMP, "/sspr/change-password"),
        (DONE, NEW_PASSWORD, "/portal"),
        (TEACHER, NEW_PASSWORD, "/portal"),
        (HQ, TEMP, "/sspr/setup-questions"),
    ] {
        let signed = app.sign_in_elsewhere(login, password).await;
        assert_eq!(signed.status, StatusCode::OK, "{login}: {}", signed.body);
        assert_eq!(signed.location.as_deref(), Some(step), "{login}");
    }
    // A session from before the upgrade is still signed in (within its idle time).
    let page = new_client()
        .get(format!("{}/portal", app.base))
        .header(
            reqwest::header::COOKIE,
            format!("portal_session={SESSION_TOKEN}"),
        )
        .header(reqwest::header::ACCEPT, "text/html")
        .send()
        .await
        .expect("portal");
    assert_eq!(page.status(), StatusCode::OK, "{:?}", page.headers());

    // The teacher reaches the staff tools.
    let teacher = new_client();
    let signed = app
        .call_with(
            &teacher,
            "sign_in",
            &[("username", TEACHER), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK);
    let staff = app.call_with(&teacher, "staff_home", &[]).await;
    assert_eq!(staff.status, StatusCode::OK, "{}", staff.body);
    // The lockout holds, with the right password too, until it ends.
    assert_eq!(
        app.sign_in_elsewhere(LOCKED, NEW_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.clock.advance(901);
    assert_eq!(
        app.sign_in_elsewhere(LOCKED, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    // The answers set before the upgrade still reset the password.
    let (reset, started) = Reset::start(&app, DONE).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let matched = reset.answer_rightly().await;
    assert_eq!(matched.status, StatusCode::OK, "{}", matched.body);
    let done = reset.new_password(TEMP).await;
    assert_ne!(
        done.status,
        StatusCode::OK,
        "the letter's password is in the history"
    );
    let done = reset.new_password("Green-Turtle-Dives7").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        app.sign_in_elsewhere(DONE, "Green-Turtle-Dives7")
            .await
            .status,
        StatusCode::OK
    );
    // The old reset limit became a bucket holding its two wrong answers.
    let level = match &app.database_url {
        url if url.starts_with("postgres") => {
            let pool = sqlx::PgPool::connect(url).await.expect("pool");
            sqlx::query("SELECT level FROM reset_limits WHERE login_key = 'a-login-key'")
                .fetch_one(&pool)
                .await
                .expect("limit")
                .get::<i64, _>(0)
        }
        _ => sqlx::query("SELECT level FROM reset_limits WHERE login_key = 'a-login-key'")
            .fetch_one(&app.pool().await)
            .await
            .expect("limit")
            .get::<i64, _>(0),
    };
    assert_eq!(level, 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_release_sqlite_database_upgrades_keeping_every_account() {
    let dir = tempfile::tempdir().expect("dir");
    upgrade_keeps_every_account(format!("sqlite:{}", dir.path().join("old.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_release_postgres_database_upgrades_keeping_every_account() {
    let db = PgDatabase::create().await;
    upgrade_keeps_every_account(db.url.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_portal_refuses_a_postgres_database_a_newer_one_wrote() {
    let db = PgDatabase::create().await;
    let url = db.url.clone();
    let app = spawn_app_with(move |c| c.database_url = url).await;
    drop(app);
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
         execution_time) VALUES (29991231000001, 'from the future', TRUE, '\\x00', 0)",
    )
    .execute(&pool)
    .await
    .expect("future row");
    pool.close().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["accounts", "unlock", ALLEN])
        .env("DATABASE_URL", &db.url)
        .output()
        .expect("server");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("written by a newer version of the portal"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
