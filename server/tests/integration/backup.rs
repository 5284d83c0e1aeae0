//! `server backup` and `server restore` (SQLite): a backup taken while fifty students
//! change their passwords and sign in restores into a database where every account
//! signs in with exactly one of its passwords, its answers and history intact; and
//! every way a restore or a backup can go wrong is refused, changing nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
use reqwest::StatusCode;
use sqlx::Row as _;

use crate::common::*;

fn server_command(database_url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run server")
}

async fn run(database_url: &str, args: &[&str]) -> Output {
    let url = database_url.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        server_command(&url, &args)
    })
    .await
    .expect("join")
}

/// Records a schema change this portal does not know, as a newer portal would have.
async fn as_if_written_by_a_newer_portal(pool: &sqlx::SqlitePool) {
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
         execution_time) VALUES (29991231000001, 'from the future', TRUE, X'00', 0)",
    )
    .execute(pool)
    .await
    .expect("future row");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `n`th password of student `i` (0: the letter's).
fn password(i: usize, n: usize) -> String {
    if n == 0 {
        TEMP.to_string()
    } else {
        format!("Kite-{i}-Flies-{n}Q")
    }
}

/// Answers and password history per login ID, as stored.
async fn credentials(pool: &sqlx::SqlitePool) -> BTreeMap<String, (Vec<String>, BTreeSet<String>)> {
    let mut out: BTreeMap<String, (Vec<String>, BTreeSet<String>)> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT a.login_id, s.question_id || '=' || s.answer_hash AS v FROM security_answers s \
         JOIN accounts a ON a.id = s.account_id ORDER BY a.login_id, s.question_id",
    )
    .fetch_all(pool)
    .await
    .expect("answers")
    {
        out.entry(row.get("login_id"))
            .or_default()
            .0
            .push(row.get("v"));
    }
    for row in sqlx::query(
        "SELECT a.login_id, h.password_hash FROM password_history h \
         JOIN accounts a ON a.id = h.account_id",
    )
    .fetch_all(pool)
    .await
    .expect("history")
    {
        out.entry(row.get("login_id"))
            .or_default()
            .1
            .insert(row.get("password_hash"));
    }
    out
}

/// One student's work: the first-login journey, then password changes (each after a
/// sign-in with the current one) until told to stop. Returns how many passwords they had.
async fn student(app_base: String, login: String, i: usize, stop: Arc<AtomicBool>) -> usize {
    let app = Caller::new(app_base);
    assert_eq!(
        app.post("sign_in", &[("username", &login), ("password", TEMP)])
            .await,
        StatusCode::OK
    );
    assert_eq!(
        app.post("setup_questions", &SEED_QUESTIONS).await,
        StatusCode::OK
    );
    assert_eq!(app.post("confirm_questions", &[]).await, StatusCode::OK);
    let first = password(i, 1);
    assert_eq!(
        app.post(
            "change_password",
            &[("new_password", &first), ("confirm_password", &first)]
        )
        .await,
        StatusCode::OK
    );
    let mut n = 1;
    // At least two changes, then on until the backup is done.
    while n < 3 || !stop.load(Ordering::SeqCst) {
        let app = Caller::new(app.base.clone());
        let current = password(i, n);
        let next = password(i, n + 1);
        assert_eq!(
            app.post("sign_in", &[("username", &login), ("password", &current)])
                .await,
            StatusCode::OK
        );
        let changed = app
            .post(
                "sspr_change_password",
                &[
                    ("current_password", &current),
                    ("new_password", &next),
                    ("confirm_password", &next),
                ],
            )
            .await;
        assert_eq!(changed, StatusCode::OK, "{login} {n}");
        n += 1;
        if n > 40 {
            break;
        }
    }
    n
}

/// A browser of its own, calling server functions.
struct Caller {
    base: String,
    client: reqwest::Client,
}

impl Caller {
    fn new(base: String) -> Self {
        Self {
            base,
            client: new_client(),
        }
    }

    async fn post(&self, endpoint: &str, form: &[(&str, &str)]) -> StatusCode {
        self.client
            .post(format!("{}/api/{endpoint}", self.base))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .expect("call")
            .status()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_during_password_changes_restores_every_account_whole() {
    let app = spawn_app().await;
    // Fifty students: the demo class and 28 more from a class list.
    let list = tempfile::NamedTempFile::new().expect("list");
    let mut csv = String::from("full_name,class\n");
    for i in 0..28u8 {
        let (a, b) = (char::from(b'A' + i / 26), char::from(b'a' + i % 26));
        csv.push_str(&format!("Backup {a}{b}{b} Student,P5 Kindness\n"));
    }
    std::fs::write(list.path(), csv).expect("write list");
    server::cli::import(&app.portal, list.path(), "DEMO", Some(TEMP), false)
        .await
        .expect("import");
    let pool = app.pool().await;
    let logins: Vec<String> = sqlx::query(
        "SELECT login_id FROM accounts WHERE role = 'student' ORDER BY login_id LIMIT 50",
    )
    .fetch_all(&pool)
    .await
    .expect("logins")
    .iter()
    .map(|r| r.get("login_id"))
    .collect();
    assert_eq!(logins.len(), 50);

    let stop = Arc::new(AtomicBool::new(false));
    let onboarded = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (i, login) in logins.iter().enumerate() {
        let (base, login, stop, onboarded) = (
            app.base.clone(),
            login.clone(),
            stop.clone(),
            onboarded.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let n = student(base, login.clone(), i, stop).await;
            onboarded.fetch_add(1, Ordering::SeqCst);
            (login, i, n)
        }));
    }
    // The backup starts once the first students are through their journey, and the
    // others keep changing passwords until it has finished.
    for _ in 0..400 {
        let with_answers: i64 =
            sqlx::query("SELECT COUNT(DISTINCT account_id) FROM security_answers")
                .fetch_one(&pool)
                .await
                .expect("count")
                .get(0);
        if with_answers >= 10 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let backup_dir = tempfile::tempdir().expect("dir");
    let backup_file = backup_dir.path().join("portal-backup.db");
    let backup = run(
        &app.database_url,
        &["backup", backup_file.to_str().expect("path")],
    )
    .await;
    let busy_during_backup = 50 - onboarded.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    assert!(
        text(&backup.stdout).starts_with("Backed up "),
        "{}",
        text(&backup.stdout)
    );
    assert!(
        busy_during_backup > 0,
        "every student had finished before the backup"
    );
    let mut students = Vec::new();
    for task in tasks {
        students.push(task.await.expect("student"));
    }
    let source = credentials(&pool).await;
    drop(pool);
    drop(app);

    let restored_dir = tempfile::tempdir().expect("dir");
    let restored_url = format!(
        "sqlite:{}",
        restored_dir.path().join("restored.db").display()
    );
    let restore = run(
        &restored_url,
        &["restore", backup_file.to_str().expect("path")],
    )
    .await;
    assert!(restore.status.success(), "{}", text(&restore.stderr));
    assert!(
        text(&restore.stdout).contains("Restored "),
        "{}",
        text(&restore.stdout)
    );

    let url = restored_url.clone();
    let app = spawn_app_with(move |c| c.database_url = url).await;
    let pool = app.pool().await;
    let restored = credentials(&pool).await;
    for (login, i, passwords) in students {
        let hash: String = sqlx::query("SELECT password_hash FROM accounts WHERE login_id = ?")
            .bind(&login)
            .fetch_one(&pool)
            .await
            .expect("account")
            .get(0);
        let parsed = PasswordHash::new(&hash).expect("hash");
        let matching: Vec<usize> = (0..=passwords)
            .filter(|n| {
                argon2::Argon2::default()
                    .verify_password(password(i, *n).as_bytes(), &parsed)
                    .is_ok()
            })
            .collect();
        assert_eq!(matching.len(), 1, "{login}: {matching:?}");
        let works = password(i, matching[0]);
        assert_eq!(
            app.sign_in_elsewhere(&login, &works).await.status,
            StatusCode::OK,
            "{login}"
        );
        let (answers, history) = restored.get(&login).cloned().unwrap_or_default();
        let (source_answers, source_history) = source.get(&login).cloned().unwrap_or_default();
        // Answers are set once, before the first change: all of them or none.
        if matching[0] > 0 {
            assert_eq!(answers, source_answers, "{login}");
        }
        assert!(answers.is_empty() || answers == source_answers, "{login}");
        assert!(history.is_subset(&source_history), "{login}");
        // Every earlier password is in the history (up to its length of five).
        assert!(history.len() >= matching[0].min(5), "{login}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_is_refused_while_the_database_is_in_use_and_for_a_bad_copy() {
    let app = spawn_app().await;
    app.complete_onboarding().await;
    let dir = tempfile::tempdir().expect("dir");
    let good = dir.path().join("good.db");
    let made = run(&app.database_url, &["backup", good.to_str().expect("path")]).await;
    assert!(made.status.success(), "{}", text(&made.stderr));

    // A backup never overwrites.
    let again = run(&app.database_url, &["backup", good.to_str().expect("path")]).await;
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("exists already"),
        "{}",
        text(&again.stderr)
    );

    // The server has the database open: refused, nothing changed.
    let before = std::fs::read(app.database_url.trim_start_matches("sqlite:")).expect("db");
    let refused = run(
        &app.database_url,
        &["restore", good.to_str().expect("path")],
    )
    .await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("is in use"),
        "{}",
        text(&refused.stderr)
    );
    let after = std::fs::read(app.database_url.trim_start_matches("sqlite:")).expect("db");
    assert_eq!(before, after);
    assert!(app.sign_in_elsewhere(ALLEN, NEW_PASSWORD).await.status == StatusCode::OK);

    let target = format!("sqlite:{}", dir.path().join("target.db").display());
    // A file that is no database; a damaged copy; a copy from a newer portal.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database").expect("junk");
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&good).expect("good");
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 4096] {
        *b = 0xA5;
    }
    std::fs::write(&damaged, bytes).expect("damaged");
    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).expect("copy");
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", newer.display()))
            .await
            .expect("newer");
        as_if_written_by_a_newer_portal(&pool).await;
        pool.close().await;
    }
    for (file, why) in [
        (&junk, "not a SQLite database"),
        (&damaged, "cannot be restored"),
        (&newer, "newer version of the portal"),
        (&dir.path().join("missing.db"), "there is no backup"),
    ] {
        let out = run(&target, &["restore", file.to_str().expect("path")]).await;
        assert!(!out.status.success(), "{file:?}");
        assert!(
            text(&out.stderr).contains(why),
            "{file:?}: {}",
            text(&out.stderr)
        );
        assert!(!dir.path().join("target.db").exists(), "{file:?}");
    }
    // The good one restores, and the database it replaces is kept.
    let restored = run(&target, &["restore", good.to_str().expect("path")]).await;
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let replaced = run(&target, &["restore", good.to_str().expect("path")]).await;
    assert!(replaced.status.success(), "{}", text(&replaced.stderr));
    assert!(
        text(&replaced.stdout).contains("is kept as"),
        "{}",
        text(&replaced.stdout)
    );

    // PostgreSQL has its own tools.
    let pg = run("postgres://postgres@127.0.0.1/none", &["backup", "x.db"]).await;
    assert!(!pg.status.success());
    assert!(text(&pg.stderr).contains("pg_dump"), "{}", text(&pg.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_portal_refuses_a_database_a_newer_one_wrote() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("portal.db").display());
    let own = url.clone();
    let app = spawn_app_with(move |c| c.database_url = own).await;
    let pool = app.pool().await;
    as_if_written_by_a_newer_portal(&pool).await;
    let accounts: i64 = sqlx::query("SELECT COUNT(*) FROM accounts")
        .fetch_one(&pool)
        .await
        .expect("count")
        .get(0);
    drop(pool);
    drop(app);
    let out = run(&url, &["accounts", "unlock", ALLEN]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("written by a newer version of the portal"),
        "{}",
        text(&out.stderr)
    );
    let pool = sqlx::SqlitePool::connect(&url).await.expect("pool");
    let after: i64 = sqlx::query("SELECT COUNT(*) FROM accounts")
        .fetch_one(&pool)
        .await
        .expect("count")
        .get(0);
    assert_eq!(accounts, after);
}

/// PostgreSQL's own tools, as the README says to use them: `pg_dump --format=custom`
/// of a running portal's database, `pg_restore` into a new one, and the portal on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_round_trips_through_pg_dump_and_pg_restore() {
    use super::postgres::PgDatabase;
    use super::self_service::Reset;
    let source = PgDatabase::create().await;
    let url = source.url.clone();
    let app = spawn_app_with(move |c| c.database_url = url).await;
    app.complete_onboarding().await;
    let dir = tempfile::tempdir().expect("dir");
    let dump = dir.path().join("portal.dump");
    // Taken while the server runs (pg_dump reads one consistent snapshot).
    let dumped = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&source.url)
        .output()
        .expect("pg_dump (Debian's postgresql-client)");
    assert!(dumped.status.success(), "{}", text(&dumped.stderr));
    drop(app);

    let target = PgDatabase::create().await;
    let restored = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(&target.url)
        .arg(&dump)
        .output()
        .expect("pg_restore");
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let url = target.url.clone();
    let app = spawn_app_with(move |c| c.database_url = url).await;
    assert_eq!(
        app.sign_in_elsewhere(ALLEN, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.sign_in_elsewhere(ALLEN, TEMP).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (reset, _) = Reset::start(&app, ALLEN).await;
    assert_eq!(reset.answer_rightly().await.status, StatusCode::OK);
}
