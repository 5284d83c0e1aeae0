//! A server killed with SIGKILL in the middle of 100 concurrent password changes leaves
//! every account either fully on its old password or fully on its new one, with its
//! answers and history intact — on SQLite and on PostgreSQL.

use std::time::Duration;

use reqwest::StatusCode;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::instances::{start, start_with, Instance};
use super::postgres::PgDatabase;
use crate::common::*;

const STUDENTS: usize = 100;
const OLD: &str = "Batch-Temp-2027";
const NEW: &str = "Green-Turtle-Dives7";

fn login(i: usize) -> String {
    format!("fault_pupil_{}@students.edu.sg", name_word(i))
}

/// Letters only: login IDs drop digits into suffixes otherwise.
fn name_word(i: usize) -> String {
    let a = char::from(b'a' + (i / 26) as u8);
    let b = char::from(b'a' + (i % 26) as u8);
    format!("{a}{b}")
}

fn import(database_url: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("fault.csv");
    let mut csv = String::from("full_name,class\n");
    for i in 0..STUDENTS {
        csv.push_str(&format!("Fault Pupil {},F1\n", name_word(i)));
    }
    std::fs::write(&file, csv).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args([
            "accounts",
            "import",
            file.to_str().expect("path"),
            "--school",
            "DEMO",
        ])
        .env("DATABASE_URL", database_url)
        .env("PORTAL_GENERIC_PASSWORD", OLD)
        .env("PORTAL_ARGON2_MEMORY_KIB", "256")
        .env("PORTAL_ARGON2_ITERATIONS", "1")
        .output()
        .expect("import");
    assert!(out.status.success(), "{out:?}");
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> StatusCode {
    client
        .post(format!("{base}/api/{endpoint}"))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or(StatusCode::BAD_GATEWAY)
}

/// Every student signed in and at "Change Password"; returns their clients.
async fn to_change_password(server: &Instance) -> Vec<reqwest::Client> {
    let mut clients = Vec::new();
    for i in 0..STUDENTS {
        let client = new_client();
        let login = login(i);
        assert_eq!(
            post(
                &client,
                &server.base,
                "sign_in",
                &[("username", &login), ("password", OLD)]
            )
            .await,
            StatusCode::OK,
            "{login}"
        );
        let questions = [
            ("question1", "food"),
            ("answer1", "Ramen"),
            ("question2", "animal"),
            ("answer2", "Shark"),
            ("question3", "colour"),
            ("answer3", "Turquoise"),
        ];
        assert_eq!(
            post(&client, &server.base, "setup_questions", &questions).await,
            StatusCode::OK
        );
        assert_eq!(
            post(&client, &server.base, "confirm_questions", &[]).await,
            StatusCode::OK
        );
        clients.push(client);
    }
    clients
}

async fn kill_during_changes(database_url: &str) -> (usize, usize) {
    // The production argon2 cost, so the 100 changes take a couple of seconds and the
    // kill lands among them; a queue large enough that none is refused as busy.
    let heavy = [
        ("PORTAL_ARGON2_MEMORY_KIB", "19456"),
        ("PORTAL_ARGON2_ITERATIONS", "2"),
        ("PORTAL_HASH_QUEUE", "512"),
    ];
    let server = start_with(database_url, true, 600, &heavy).await;
    import(database_url);
    let clients = to_change_password(&server).await;
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for client in clients {
        let base = server.base.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let status = post(
                &client,
                &base,
                "change_password",
                &[("new_password", NEW), ("confirm_password", NEW)],
            )
            .await;
            if status == StatusCode::OK {
                done.fetch_add(1, Ordering::SeqCst);
            }
            status
        }));
    }
    // Let a tenth of the changes finish, then pull the plug (SIGKILL) among the rest.
    for _ in 0..1200 {
        if done.load(Ordering::SeqCst) >= STUDENTS / 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut answered_ok = 0;
    for task in tasks {
        if task.await.expect("join") == StatusCode::OK {
            answered_ok += 1;
        }
    }
    drop(server);

    // Back up on the same database: exactly one of the two passwords works for each.
    let server = start(database_url, false, 600).await;
    let mut on_new = 0;
    for i in 0..STUDENTS {
        let login = login(i);
        let old = post(
            &new_client(),
            &server.base,
            "sign_in",
            &[("username", &login), ("password", OLD)],
        )
        .await;
        let new = post(
            &new_client(),
            &server.base,
            "sign_in",
            &[("username", &login), ("password", NEW)],
        )
        .await;
        let works = [old, new].iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(works, 1, "{login}: old {old}, new {new}");
        if new == StatusCode::OK {
            on_new += 1;
        }
    }
    assert!(
        on_new >= answered_ok,
        "every change the client saw succeed is kept"
    );
    // The kill really came in the middle: some changes done, not all.
    assert!(
        answered_ok >= STUDENTS / 10,
        "{answered_ok} done before the kill"
    );
    assert!(
        on_new < STUDENTS,
        "the kill came after every change was done"
    );
    (answered_ok, on_new)
}

async fn answers_and_history(database_url: &str) -> Vec<(i64, i64, bool)> {
    // (answers, history rows, still temporary) per student, through the right driver.
    let mut rows = Vec::new();
    if database_url.starts_with("postgres") {
        use sqlx::Row;
        let pool = sqlx::PgPool::connect(database_url).await.expect("pool");
        for i in 0..STUDENTS {
            let row = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM security_answers s WHERE s.account_id = a.id) AS n, \
                 (SELECT COUNT(*) FROM password_history h WHERE h.account_id = a.id) AS h, \
                 a.password_temporary AS t FROM accounts a WHERE a.login_id = $1",
            )
            .bind(login(i))
            .fetch_one(&pool)
            .await
            .expect("row");
            rows.push((row.get("n"), row.get("h"), row.get("t")));
        }
    } else {
        use sqlx::Row;
        let pool = sqlx::SqlitePool::connect(database_url).await.expect("pool");
        for i in 0..STUDENTS {
            let row = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM security_answers s WHERE s.account_id = a.id) AS n, \
                 (SELECT COUNT(*) FROM password_history h WHERE h.account_id = a.id) AS h, \
                 a.password_temporary AS t FROM accounts a WHERE a.login_id = ?",
            )
            .bind(login(i))
            .fetch_one(&pool)
            .await
            .expect("row");
            rows.push((row.get("n"), row.get("h"), row.get("t")));
        }
    }
    rows
}

async fn check(database_url: &str) {
    let (answered, kept) = kill_during_changes(database_url).await;
    for (n, (answers, history, temporary)) in answers_and_history(database_url)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(answers, 3, "student {n}: answers intact");
        // Changed: the temporary hash is in the history; not changed: nothing is.
        assert_eq!(history, i64::from(!temporary), "student {n}");
    }
    eprintln!("fault test: {answered} changes answered OK before the kill, {kept} kept, {} on the old password", STUDENTS - kept);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_password_changes_leaves_every_account_whole_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("fault.db").display());
    check(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_password_changes_leaves_every_account_whole_on_postgres() {
    let db = PgDatabase::create().await;
    check(&db.url).await;
}
