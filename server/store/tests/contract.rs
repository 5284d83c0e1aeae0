//! The store contract: the same tests against SQLite, PostgreSQL and the in-memory fake
//! (`portal_core::memory::MemoryStore`, which `portal_core`'s service tests run on), so
//! every back-end keeps the behaviour the services rely on (accounts, sessions, the
//! lockout claim under parallel attempts, password history, the reset limits, staff
//! batches, audit), and the fake cannot drift from the SQL store. Every test here
//! applies to the fake: none opens a file or speaks SQL itself.
//!
//! PostgreSQL is the one on `PORTAL_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432`); each test gets a database of its own. These
//! tests fail, not skip, when it is unreachable.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use domain::login_id::LoginId;
use domain::provisioning::Role;
use domain::secret::Secret;
use portal_core::ports::{
    AccessTokenRecord, AccountId, AuditEvent, ChallengeRecord, ClientRecord, ClientTile,
    CodeRecord, FailureOutcome, HashUpgrade, LockoutPolicy, NewAccount, PasswordReplacement,
    Purged, RequestSession, ResetClaim, ResetLimit, Retention, SeenAt, SigningKeyRecord, Store,
    StoreError, StoredAnswer,
};

/// A fresh store of each kind, and whatever keeps it alive.
enum Backend {
    Sqlite { _dir: tempfile::TempDir },
    Postgres(String),
    Memory,
}

async fn sqlite() -> (Arc<dyn Store>, Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("contract.db").display());
    let store = store::open(&url).await.expect("sqlite store");
    (store, Backend::Sqlite { _dir: dir })
}

async fn postgres() -> (Arc<dyn Store>, Backend) {
    use sqlx::Connection as _;
    let base = std::env::var("PORTAL_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
    let name = format!("portal_contract_{}", uuid_like());
    let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required for these tests: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    let store = store::open(&format!("{base}/{name}"))
        .await
        .expect("postgres store");
    (store, Backend::Postgres(name))
}

/// The in-memory fake: nothing to keep alive.
async fn memory() -> (Arc<dyn Store>, Backend) {
    (
        Arc::new(portal_core::memory::MemoryStore::new()),
        Backend::Memory,
    )
}

fn uuid_like() -> String {
    use rand::Rng as _;
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| char::from(b'a' + rng.gen_range(0..26)))
        .collect()
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Postgres(name) = self {
            // Best effort: a leftover test database is harmless.
            let name = name.clone();
            let _ = std::process::Command::new("psql")
                .args(["-h", "127.0.0.1", "-U", "postgres", "-q", "-c"])
                .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .output();
        }
    }
}

/// The audit event a sign-in, an answer set or a password change writes with it.
fn recorded(account: AccountId, kind: &str) -> AuditEvent {
    AuditEvent {
        at: T0,
        account_id: Some(account),
        actor: "self".into(),
        kind: kind.into(),
        client: Some("127.0.0.1".into()),
        detail: None,
    }
}

/// Three stored answers, slots 0–2.
fn three_answers() -> [StoredAnswer; 3] {
    [0, 1, 2].map(|i| StoredAnswer {
        question_id: format!("q{i}"),
        answer_hash: format!("h{i}"),
    })
}

/// The kinds of the account's audit trail, oldest first.
async fn audit_kinds(store: &Arc<dyn Store>, account: AccountId) -> Vec<String> {
    store
        .audit_history(account)
        .await
        .expect("audit history")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn student(login: &str, name: &str) -> NewAccount {
    NewAccount {
        login_id: login.to_string(),
        full_name: name.to_string(),
        password_hash: "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaA".to_string(),
        temporary_password: true,
        role: Role::Student,
        school_code: None,
        class_name: None,
        register_no: None,
        temporary_expires_at: None,
    }
}

const T0: i64 = 1_800_000_000;

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _keep) = super::sqlite().await;
                    super::$name(store).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _keep) = super::postgres().await;
                    super::$name(store).await;
                }
            )*
        }
        mod on_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _keep) = super::memory().await;
                    super::$name(store).await;
                }
            )*
        }
    };
}

contract!(
    accounts_are_unique_by_login_id,
    sessions_live_and_die,
    parallel_claims_never_exceed_the_limit,
    distinct_failures_lock_and_a_success_clears,
    stale_claims_stop_counting,
    password_history_keeps_five_and_every_temporary_one,
    reset_limits_count_per_login_id,
    challenges_round_trip,
    schools_students_and_prefixes,
    staff_batches_are_scoped_and_letters_expire,
    audit_history_is_in_order,
    the_installation_secret_is_stable,
    a_practice_restart_clears_one_account_and_nothing_else,
    class_lists_go_in_whole_or_not_at_all,
    unknown_login_ids_are_claimed_and_counted,
    the_answer_bucket_empties_over_its_window,
    a_purge_deletes_what_expired_and_keeps_what_is_live,
    rows_that_break_the_schema_are_refused_and_change_nothing,
    a_sign_in_ends_its_claim_and_swaps_only_the_hash_it_checked,
    staff_actions_end_sessions_attempts_and_streaks,
    students_are_listed_by_class_then_name,
    clients_are_registered_listed_and_removed,
    one_signing_key_is_active_and_a_rotation_retires_it,
    codes_are_redeemed_once_and_a_replay_revokes,
);

async fn accounts_are_unique_by_login_id(store: Arc<dyn Store>) {
    let id = store
        .insert_account(student("allen_tan@students.edu.sg", "Allen Tan"), T0)
        .await
        .expect("insert");
    let again = store
        .insert_account(student("allen_tan@students.edu.sg", "Allen Tan"), T0)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    let by_login = store
        .account_by_login(&LoginId::parse("allen_tan@students.edu.sg").expect("id"))
        .await
        .expect("get")
        .expect("found");
    assert_eq!(by_login.id, id);
    assert!(by_login.temporary_password && !by_login.questions_set);
    assert_eq!(by_login.role, Role::Student);
    assert_eq!(
        store.account(id).await.expect("get").map(|a| a.id),
        Some(id)
    );
    assert!(store
        .account_by_login(&LoginId::parse("nobody@x.sg").expect("id"))
        .await
        .expect("get")
        .is_none());
    assert_eq!(store.count_accounts().await.expect("count"), 1);
}

async fn sessions_live_and_die(store: Arc<dyn Store>) {
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    let token = [7u8; 32];
    store
        .start_session(&token, id, T0, None, &recorded(id, "sign-in"))
        .await
        .expect("start");
    let s = store.session(&token).await.expect("get").expect("found");
    assert_eq!(
        (s.account_id, s.created_at, s.last_seen_at, s.reauth_at),
        (id, T0, T0, T0)
    );
    // A request's look-up: the session with its account, as it was; marked as used
    // when within its limits and later than its last use, never otherwise.
    let seen = |now| SeenAt {
        now,
        idle_secs: 100,
        absolute_secs: 1000,
    };
    let last_seen = |store: Arc<dyn Store>| async move {
        store
            .session(&token)
            .await
            .expect("get")
            .expect("s")
            .last_seen_at
    };
    let RequestSession {
        record, account, ..
    } = store
        .session_for_request(&token, Some(seen(T0 + 10)))
        .await
        .expect("look-up")
        .expect("found");
    assert_eq!((record.last_seen_at, account.id), (T0, id));
    assert_eq!(account.login_id.as_str(), "a@students.edu.sg");
    assert_eq!(last_seen(store.clone()).await, T0 + 10);
    store
        .session_for_request(&token, Some(seen(T0 + 5)))
        .await
        .expect("look-up");
    assert_eq!(
        last_seen(store.clone()).await,
        T0 + 10,
        "never back in time"
    );
    store
        .session_for_request(&token, None)
        .await
        .expect("look-up");
    assert_eq!(
        last_seen(store.clone()).await,
        T0 + 10,
        "not without `seen`"
    );
    store
        .session_for_request(&token, Some(seen(T0 + 10 + 100)))
        .await
        .expect("look-up");
    assert_eq!(last_seen(store.clone()).await, T0 + 10, "idle: left to end");
    store
        .session_for_request(&token, Some(seen(T0 + 99)))
        .await
        .expect("look-up");
    assert_eq!(last_seen(store.clone()).await, T0 + 99);
    store
        .session_for_request(
            &token,
            Some(SeenAt {
                now: T0 + 1000,
                idle_secs: 5000,
                absolute_secs: 1000,
            }),
        )
        .await
        .expect("look-up");
    assert_eq!(
        last_seen(store.clone()).await,
        T0 + 99,
        "too old: left to end"
    );
    assert!(store
        .session_for_request(&[9u8; 32], Some(seen(T0 + 100)))
        .await
        .expect("look-up")
        .is_none());
    store
        .set_pending_questions(&token, Some("[1]"))
        .await
        .expect("pending");
    store
        .set_redo_questions(&token, Some(T0 + 300))
        .await
        .expect("redo");
    let s = store.session(&token).await.expect("get").expect("s");
    assert!(s.redo_until == Some(T0 + 300) && s.pending_questions.is_none());
    store.set_reauth(&token, T0 + 20).await.expect("reauth");
    assert_eq!(
        store
            .session(&token)
            .await
            .expect("get")
            .expect("s")
            .reauth_at,
        T0 + 20
    );
    store
        .save_answers(id, &three_answers(), &token, T0, &recorded(id, "answers"))
        .await
        .expect("answers");
    let s = store.session(&token).await.expect("get").expect("s");
    assert_eq!(s.redo_until, None);
    assert!(
        store
            .account(id)
            .await
            .expect("a")
            .expect("a")
            .questions_set
    );
    assert_eq!(store.answers(id).await.expect("answers").len(), 3);
    store.delete_session(&token).await.expect("delete");
    assert!(store.session(&token).await.expect("get").is_none());
}

async fn parallel_claims_never_exceed_the_limit(store: Arc<dyn Store>) {
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    let mut tasks = Vec::new();
    for _ in 0..60 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_attempt(id, T0, 5, 60).await
        }));
    }
    let mut granted = 0;
    for task in tasks {
        if task.await.expect("join").expect("claim") {
            granted += 1;
        }
    }
    assert_eq!(granted, 5);
    // A released claim frees a guess.
    store.release_attempt(id).await.expect("release");
    assert!(store.claim_attempt(id, T0, 5, 60).await.expect("claim"));
    assert!(!store.claim_attempt(id, T0, 5, 60).await.expect("claim"));
}

async fn distinct_failures_lock_and_a_success_clears(store: Arc<dyn Store>) {
    let policy = LockoutPolicy {
        max_failures: 3,
        lock_secs: 100,
        max_lock_secs: 150,
    };
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    let fail = |fp: u8| {
        let store = store.clone();
        let policy = policy.clone();
        async move {
            assert!(store.claim_attempt(id, T0, 3, 60).await.expect("claim"));
            store
                .record_failure(id, &[fp; 16], T0, &policy)
                .await
                .expect("record")
        }
    };
    assert_eq!(fail(1).await, FailureOutcome::Counted { failures: 1 });
    assert_eq!(fail(1).await, FailureOutcome::Repeated);
    assert_eq!(fail(2).await, FailureOutcome::Counted { failures: 2 });
    assert_eq!(fail(3).await, FailureOutcome::Locked { until: T0 + 100 });
    assert!(!store
        .claim_attempt(id, T0 + 99, 3, 60)
        .await
        .expect("claim"));
    assert!(store
        .account(id)
        .await
        .expect("a")
        .expect("a")
        .is_locked(T0 + 99));
    // The second lockout is longer (capped at 150).
    for fp in 4..7 {
        assert!(store
            .claim_attempt(id, T0 + 100, 3, 60)
            .await
            .expect("claim"));
        store
            .record_failure(id, &[fp; 16], T0 + 100, &policy)
            .await
            .expect("record");
    }
    assert_eq!(
        store.account(id).await.expect("a").expect("a").locked_until,
        Some(T0 + 250)
    );
    assert!(store.unlock(id, T0 + 101).await.expect("unlock"));
    assert!(!store.unlock(id, T0 + 101).await.expect("unlock"));
    assert!(store
        .claim_attempt(id, T0 + 101, 3, 60)
        .await
        .expect("claim"));
    // A success ends the claim and upgrades the hash if it is still the old one.
    let old = store
        .account(id)
        .await
        .expect("a")
        .expect("a")
        .password_hash;
    store
        .start_session(
            &[9u8; 32],
            id,
            T0 + 102,
            Some(HashUpgrade {
                old_hash: &old,
                new_hash: "$argon2id$new",
            }),
            &recorded(id, "sign-in"),
        )
        .await
        .expect("start");
    let account = store.account(id).await.expect("a").expect("a");
    assert_eq!(account.password_hash, "$argon2id$new");
    assert_eq!(account.locked_until, None);
    for _ in 0..3 {
        assert!(store
            .claim_attempt(id, T0 + 103, 3, 60)
            .await
            .expect("claim"));
        store.release_attempt(id).await.expect("release");
    }
}

async fn stale_claims_stop_counting(store: Arc<dyn Store>) {
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    for _ in 0..5 {
        assert!(store.claim_attempt(id, T0, 5, 60).await.expect("claim"));
    }
    assert!(!store
        .claim_attempt(id, T0 + 59, 5, 60)
        .await
        .expect("claim"));
    // Their server died: a minute later they no longer count.
    assert!(store
        .claim_attempt(id, T0 + 61, 5, 60)
        .await
        .expect("claim"));
}

async fn password_history_keeps_five_and_every_temporary_one(store: Arc<dyn Store>) {
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    for n in 1..=7 {
        store
            .replace_password(
                id,
                PasswordReplacement {
                    new_hash: &format!("p{n}"),
                    new_session: Some(&[n; 32]),
                    history: 5,
                    reset: n == 7,
                    audit: &recorded(id, "password"),
                },
                T0 + i64::from(n),
            )
            .await
            .expect("replace");
    }
    let history = store.password_history(id).await.expect("history");
    // Newest first: p6..p2, and the temporary one (the seed hash) for good.
    assert_eq!(history.len(), 6, "{history:?}");
    assert_eq!(&history[..5], ["p6", "p5", "p4", "p3", "p2"]);
    let account = store.account(id).await.expect("a").expect("a");
    assert_eq!(account.password_hash, "p7");
    assert!(!account.temporary_password);
    assert_eq!(account.reset_notice_at, Some(T0 + 7));
    // Only the last session survives.
    assert!(store.session(&[6; 32]).await.expect("s").is_none());
    assert!(store.session(&[7; 32]).await.expect("s").is_some());
    store
        .reset_to_temporary(id, "temp2", T0 + 100, T0 + 8)
        .await
        .expect("reset");
    let account = store.account(id).await.expect("a").expect("a");
    assert!(account.temporary_password);
    assert_eq!(account.temporary_expires_at, Some(T0 + 100));
    assert!(store.session(&[7; 32]).await.expect("s").is_none());
}

async fn reset_limits_count_per_login_id(store: Arc<dyn Store>) {
    let limit = ResetLimit {
        max_failures: 2,
        window_secs: 100,
        block_secs: 1000,
    };
    let key = "nobody@students.edu.sg";
    for n in 0..2 {
        assert_eq!(
            store
                .claim_reset_attempt(key, T0, &limit)
                .await
                .expect("claim"),
            ResetClaim::Granted
        );
        let blocked = store
            .reset_attempt_failed(key, T0, &limit)
            .await
            .expect("failed");
        assert_eq!(blocked, (n == 1).then_some(T0 + 1000));
    }
    assert_eq!(
        store
            .claim_reset_attempt(key, T0 + 500, &limit)
            .await
            .expect("claim"),
        ResetClaim::Blocked { until: T0 + 1000 }
    );
    assert_eq!(
        store
            .claim_reset_attempt(key, T0 + 1000, &limit)
            .await
            .expect("claim"),
        ResetClaim::Granted
    );
    store.reset_attempt_succeeded(key).await.expect("ok");
    // Another login ID is not affected.
    assert_eq!(
        store
            .claim_reset_attempt("other@students.edu.sg", T0, &limit)
            .await
            .expect("claim"),
        ResetClaim::Granted
    );
}

async fn challenges_round_trip(store: Arc<dyn Store>) {
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    let token = [3u8; 32];
    store
        .create_challenge(
            &token,
            &ChallengeRecord {
                login_key: "a@students.edu.sg".into(),
                account_id: Some(id),
                slots: [0, 2],
                created_at: T0,
                verified_at: None,
            },
        )
        .await
        .expect("create");
    store
        .set_challenge_slots(&token, [1, 2])
        .await
        .expect("slots");
    store
        .verify_challenge(&token, T0 + 5)
        .await
        .expect("verify");
    let c = store.challenge(&token).await.expect("get").expect("found");
    assert_eq!(
        (c.slots, c.verified_at, c.account_id),
        ([1, 2], Some(T0 + 5), Some(id))
    );
    store.delete_challenge(&token).await.expect("delete");
    assert!(store.challenge(&token).await.expect("get").is_none());
}

async fn schools_students_and_prefixes(store: Arc<dyn Store>) {
    assert!(store.add_school("DEMO", "Demo School").await.expect("add"));
    assert!(!store.add_school("DEMO", "Again").await.expect("add"));
    assert_eq!(
        store.school_name("DEMO").await.expect("name").as_deref(),
        Some("Demo School")
    );
    for (login, name, class) in [
        ("allen_tan@students.edu.sg", "Allen Tan", "5B"),
        ("allen_tan1@students.edu.sg", "Allen Tan", "5C"),
        ("allenxtan@students.edu.sg", "Allen Xtan", "5B"),
    ] {
        let mut account = student(login, name);
        account.school_code = Some("DEMO".into());
        account.class_name = Some(class.into());
        store.insert_account(account, T0).await.expect("insert");
    }
    let mut ids = store
        .existing_login_ids(&[
            "allen_tan@students.edu.sg".into(),
            "allen_tan1@students.edu.sg".into(),
            "allen_tan2@students.edu.sg".into(),
            "allen_tan_@students.edu.sg".into(),
        ])
        .await
        .expect("ids");
    ids.sort();
    assert_eq!(
        ids,
        ["allen_tan1@students.edu.sg", "allen_tan@students.edu.sg"]
    );
    assert!(store
        .existing_login_ids(&[])
        .await
        .expect("none")
        .is_empty());
    let found = store
        .students_named("DEMO", "5C", "Allen Tan", None)
        .await
        .expect("find")
        .into_iter()
        .next()
        .expect("found");
    assert_eq!(found.login_id.as_str(), "allen_tan1@students.edu.sg");
    // Namesakes in one class, told apart by their register numbers.
    for (login, register) in [
        ("tan_wei_ling@students.edu.sg", "12"),
        ("tan_wei_ling1@students.edu.sg", "27"),
    ] {
        let mut account = student(login, "Tan Wei Ling");
        account.school_code = Some("DEMO".into());
        account.class_name = Some("5D".into());
        account.register_no = Some(register.into());
        store.insert_account(account, T0).await.expect("insert");
    }
    for (register, login) in [
        (Some("27"), Some("tan_wei_ling1@students.edu.sg")),
        (Some("12"), Some("tan_wei_ling@students.edu.sg")),
        (Some("3"), None),
        (None, Some("tan_wei_ling@students.edu.sg")),
    ] {
        let found = store
            .students_named("DEMO", "5D", "Tan Wei Ling", register)
            .await
            .expect("find");
        assert_eq!(
            found.first().map(|a| a.login_id.as_str()),
            login,
            "{register:?}"
        );
    }
    // Imported earlier without a register number: matches any number, after the exact.
    assert_eq!(
        store
            .students_named("DEMO", "5C", "Allen Tan", Some("9"))
            .await
            .expect("find")
            .len(),
        1
    );
    assert_eq!(
        store
            .students("DEMO", Some("5B"))
            .await
            .expect("students")
            .len(),
        2
    );
    assert_eq!(
        store.students("DEMO", None).await.expect("students").len(),
        5
    );
    assert!(store
        .students("OTHER", None)
        .await
        .expect("students")
        .is_empty());
}

async fn staff_batches_are_scoped_and_letters_expire(store: Arc<dyn Store>) {
    store.add_school("DEMO", "Demo").await.expect("school");
    let staff = store
        .insert_account(student("t@schools.gov.sg", "T T"), T0)
        .await
        .expect("staff");
    let other = store
        .insert_account(student("u@schools.gov.sg", "U U"), T0)
        .await
        .expect("other");
    let batch = store
        .save_import_batch("DEMO", staff, b"full_name,class\n", T0)
        .await
        .expect("batch");
    assert!(store
        .import_batch(batch, other)
        .await
        .expect("get")
        .is_none());
    let (school, file) = store
        .import_batch(batch, staff)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(
        (school.as_str(), file.as_slice()),
        ("DEMO", b"full_name,class\n".as_slice())
    );
    store.delete_import_batch(batch).await.expect("delete");
    assert!(store
        .import_batch(batch, staff)
        .await
        .expect("get")
        .is_none());
    let letters = store
        .save_letters(staff, &[1; 12], b"sealed", T0, T0 + 60)
        .await
        .expect("save");
    assert!(store
        .letters(letters, other, T0)
        .await
        .expect("get")
        .is_none());
    assert!(store
        .letters(letters, staff, T0 + 59)
        .await
        .expect("get")
        .is_some());
    assert!(store
        .letters(letters, staff, T0 + 60)
        .await
        .expect("get")
        .is_none());
}

async fn audit_history_is_in_order(store: Arc<dyn Store>) {
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    for (n, kind) in ["first", "second", "third"].into_iter().enumerate() {
        store
            .audit(AuditEvent {
                // Clocks of different instances disagree: the order is the order written.
                at: T0 - i64::try_from(n).unwrap_or(0),
                account_id: Some(id),
                actor: "self".into(),
                kind: kind.into(),
                client: Some("127.0.0.1".into()),
                detail: None,
            })
            .await
            .expect("audit");
    }
    let kinds: Vec<String> = store
        .audit_history(id)
        .await
        .expect("history")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["first", "second", "third"]);
}

async fn the_installation_secret_is_stable(store: Arc<dyn Store>) {
    let first = store.installation_secret().await.expect("secret");
    assert_eq!(first.len(), 32);
    assert_eq!(store.installation_secret().await.expect("secret"), first);
}

/// "Reset this practice account": the account is back at the start (temporary hash, no
/// answers, history, sessions or forgot-password count); another account keeps all.
async fn a_practice_restart_clears_one_account_and_nothing_else(store: Arc<dyn Store>) {
    let limit = ResetLimit {
        max_failures: 2,
        window_secs: 1000,
        block_secs: 1000,
    };
    let mut ids = Vec::new();
    for (n, login) in [(1_u8, "a@students.edu.sg"), (2, "b@students.edu.sg")] {
        let id = store
            .insert_account(student(login, "A B"), T0)
            .await
            .expect("insert");
        store
            .replace_password(
                id,
                PasswordReplacement {
                    new_hash: "changed",
                    new_session: Some(&[n; 32]),
                    history: 5,
                    reset: false,
                    audit: &recorded(id, "password"),
                },
                T0 + 1,
            )
            .await
            .expect("replace");
        store
            .save_answers(
                id,
                &three_answers(),
                &[n; 32],
                T0 + 2,
                &recorded(id, "answers"),
            )
            .await
            .expect("answers");
        store
            .claim_reset_attempt(login, T0 + 3, &limit)
            .await
            .expect("claim");
        assert_eq!(
            store
                .reset_attempt_failed(login, T0 + 3, &limit)
                .await
                .expect("failed"),
            None
        );
        ids.push(id);
    }
    store
        .restart_practice_account(ids[0], "temp", T0 + 4)
        .await
        .expect("restart");

    let a = store.account(ids[0]).await.expect("a").expect("a");
    assert_eq!(a.password_hash, "temp");
    assert!(a.temporary_password);
    assert_eq!(a.temporary_expires_at, None);
    assert!(store.answers(ids[0]).await.expect("answers").is_empty());
    assert!(store.password_history(ids[0]).await.expect("h").is_empty());
    assert!(store.session(&[1; 32]).await.expect("s").is_none());
    // Its forgot-password count starts again: one more failure does not block it…
    store
        .claim_reset_attempt("a@students.edu.sg", T0 + 5, &limit)
        .await
        .expect("claim");
    assert_eq!(
        store
            .reset_attempt_failed("a@students.edu.sg", T0 + 5, &limit)
            .await
            .expect("failed"),
        None
    );
    // …while the other account keeps everything, its count included.
    let b = store.account(ids[1]).await.expect("b").expect("b");
    assert_eq!(b.password_hash, "changed");
    assert_eq!(store.answers(ids[1]).await.expect("answers").len(), 3);
    assert!(!store.password_history(ids[1]).await.expect("h").is_empty());
    assert!(store.session(&[2; 32]).await.expect("s").is_some());
    store
        .claim_reset_attempt("b@students.edu.sg", T0 + 5, &limit)
        .await
        .expect("claim");
    assert_eq!(
        store
            .reset_attempt_failed("b@students.edu.sg", T0 + 5, &limit)
            .await
            .expect("failed"),
        Some(T0 + 5 + 1000)
    );
    // Both belong to no school: both count as outside the practice school.
    assert_eq!(store.count_accounts_outside("DEMO").await.expect("n"), 2);
}

async fn class_lists_go_in_whole_or_not_at_all(store: Arc<dyn Store>) {
    store
        .insert_account(student("b@students.edu.sg", "B B"), T0)
        .await
        .expect("insert");
    let batch = [
        student("a@students.edu.sg", "A A"),
        student("b@students.edu.sg", "B B"),
        student("c@students.edu.sg", "C C"),
    ];
    let refused = store.insert_accounts(&batch, T0).await;
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
    assert_eq!(
        store.count_accounts().await.expect("n"),
        1,
        "nothing went in"
    );
    let ids = store
        .insert_accounts(&[batch[0].clone(), batch[2].clone()], T0)
        .await
        .expect("insert");
    assert_eq!(ids.len(), 2);
    let a = store.account(ids[0]).await.expect("a").expect("a");
    assert_eq!(a.login_id.as_str(), "a@students.edu.sg");
    assert_eq!(store.count_accounts().await.expect("n"), 3);
}

async fn the_answer_bucket_empties_over_its_window(store: Arc<dyn Store>) {
    let limit = ResetLimit {
        max_failures: 2,
        window_secs: 100,
        block_secs: 1000,
    };
    let key = "leaky@students.edu.sg";
    let wrong = |at: i64| {
        let store = store.clone();
        let limit = limit.clone();
        async move {
            let claim = store
                .claim_reset_attempt(key, at, &limit)
                .await
                .expect("claim");
            assert_eq!(claim, ResetClaim::Granted, "at {at}");
            store
                .reset_attempt_failed(key, at, &limit)
                .await
                .expect("failed")
        }
    };
    // One wrong answer, then half the window: the bucket has emptied by one.
    assert_eq!(wrong(T0).await, None);
    assert_eq!(wrong(T0 + 50).await, None);
    // Two within a moment: full, blocked.
    assert_eq!(wrong(T0 + 51).await, Some(T0 + 51 + 1000));
    assert_eq!(
        store
            .claim_reset_attempt(key, T0 + 60, &limit)
            .await
            .expect("claim"),
        ResetClaim::Blocked {
            until: T0 + 51 + 1000
        }
    );
}

async fn a_purge_deletes_what_expired_and_keeps_what_is_live(store: Arc<dyn Store>) {
    store.add_school("DEMO", "Demo").await.expect("school");
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    // Old and new: sessions, challenges, letters, batches, limits, audit events, signing
    // keys (one retired long ago, one retired recently, the active one).
    store
        .add_first_signing_key(&signing_key("k-old", T0))
        .await
        .expect("key");
    store
        .rotate_signing_key(&signing_key("k-recent", T0 + 100))
        .await
        .expect("rotate");
    store
        .rotate_signing_key(&signing_key("k-active", T0 + 900))
        .await
        .expect("rotate");
    // Codes and access tokens: one of each expired, one of each live.
    for (n, expires) in [(1u8, T0 + 60), (2u8, T0 + 1060)] {
        let code = code_record(n, id, T0, expires);
        store.add_code(&code).await.expect("code");
        store
            .redeem_code(&code.code_hash, T0, &access_token(n + 10, &code, expires))
            .await
            .expect("redeem");
    }
    store
        .start_session(&[1; 32], id, T0, None, &recorded(id, "sign-in"))
        .await
        .expect("old");
    store
        .start_session(
            &[2; 32],
            id,
            T0 + 900,
            None,
            &AuditEvent {
                at: T0 + 900,
                ..recorded(id, "sign-in")
            },
        )
        .await
        .expect("new");
    for (token, at) in [([3u8; 32], T0), ([4u8; 32], T0 + 900)] {
        store
            .create_challenge(
                &token,
                &ChallengeRecord {
                    login_key: "a@students.edu.sg".into(),
                    account_id: Some(id),
                    slots: [0, 1],
                    created_at: at,
                    verified_at: None,
                },
            )
            .await
            .expect("challenge");
    }
    // (Saving letters deletes expired ones: the old batch is saved last.)
    let new_letters = store
        .save_letters(id, &[1; 12], b"y", T0, T0 + 2000)
        .await
        .expect("letters");
    let old_letters = store
        .save_letters(id, &[1; 12], b"x", T0, T0 + 60)
        .await
        .expect("letters");
    store
        .save_import_batch("DEMO", id, b"old", T0)
        .await
        .expect("batch");
    let new_batch = store
        .save_import_batch("DEMO", id, b"new", T0 + 900)
        .await
        .expect("batch");
    // A login ID still blocked keeps its bucket, however old.
    block_login_key(&store, "blocked@students.edu.sg", T0).await;
    store
        .claim_unknown_attempt("gone@students.edu.sg", T0)
        .await
        .expect("claim");
    store
        .claim_unknown_attempt("tried@students.edu.sg", T0 + 900)
        .await
        .expect("claim");
    let limit = ResetLimit::default();
    store
        .claim_reset_attempt("old@students.edu.sg", T0, &limit)
        .await
        .expect("claim");
    store
        .claim_reset_attempt("new@students.edu.sg", T0 + 900, &limit)
        .await
        .expect("claim");
    for at in [T0, T0 + 900] {
        store
            .audit(AuditEvent {
                at,
                account_id: Some(id),
                actor: "self".into(),
                kind: "sign_in".into(),
                client: None,
                detail: None,
            })
            .await
            .expect("audit");
    }
    let now = T0 + 1000;
    let retention = Retention {
        now,
        sessions_idle_since: now - 240,
        sessions_created_before: now - 8 * 3600,
        challenges_created_before: now - 900,
        batches_created_before: now - 500,
        reset_limits_idle_since: now - 500,
        unknown_sign_ins_idle_since: now - 500,
        audit_before: now - 500,
        signing_keys_retired_before: now - 500,
        grants_expired_before: now,
    };
    let purged = store.purge(&retention).await.expect("purge");
    assert_eq!(
        purged,
        Purged {
            sessions: 1,
            challenges: 1,
            letters: 1,
            batches: 1,
            reset_limits: 1,
            unknown_sign_ins: 1,
            // The old sign-in's and the old event.
            audit_events: 2,
            signing_keys: 1,
            codes: 1,
            access_tokens: 1,
        }
    );
    assert!(store.code(&[2; 32]).await.expect("code").is_some());
    assert!(store.code(&[1; 32]).await.expect("code").is_none());
    assert!(store
        .access_token(&[12; 32])
        .await
        .expect("token")
        .is_some());
    assert!(store
        .access_token(&[11; 32])
        .await
        .expect("token")
        .is_none());
    let kept: Vec<String> = store
        .signing_keys(0)
        .await
        .expect("keys")
        .into_iter()
        .map(|key| key.kid)
        .collect();
    assert_eq!(kept, ["k-active", "k-recent"]);
    assert!(store.session(&[2; 32]).await.expect("s").is_some());
    assert!(store.session(&[1; 32]).await.expect("s").is_none());
    assert!(matches!(
        store
            .claim_reset_attempt("blocked@students.edu.sg", now, &ResetLimit::default())
            .await
            .expect("claim"),
        ResetClaim::Blocked { .. }
    ));
    assert!(store.challenge(&[4; 32]).await.expect("c").is_some());
    assert!(store
        .letters(new_letters, id, now)
        .await
        .expect("l")
        .is_some());
    assert!(store
        .letters(old_letters, id, T0)
        .await
        .expect("l")
        .is_none());
    assert!(store
        .import_batch(new_batch, id)
        .await
        .expect("b")
        .is_some());
    // The new sign-in's and the new event.
    assert_eq!(store.audit_history(id).await.expect("audit").len(), 2);
    // A second run (another instance) finds nothing left to delete.
    assert_eq!(
        store.purge(&retention).await.expect("purge"),
        Purged::default()
    );
}

async fn unknown_login_ids_are_claimed_and_counted(store: Arc<dyn Store>) {
    let key = "nobody@students.edu.sg";
    for n in 1..=3 {
        store.claim_unknown_attempt(key, T0).await.expect("claim");
        assert_eq!(
            store
                .unknown_attempt_failed(key, T0 + 1)
                .await
                .expect("failed"),
            n
        );
    }
    // Another ID has its own count.
    store
        .claim_unknown_attempt("other@students.edu.sg", T0)
        .await
        .expect("claim");
    assert_eq!(
        store
            .unknown_attempt_failed("other@students.edu.sg", T0)
            .await
            .expect("failed"),
        1
    );
}

/// Fills `key`'s answer bucket at `at` until it blocks (for a day by default).
async fn block_login_key(store: &Arc<dyn Store>, key: &str, at: i64) {
    let limit = ResetLimit::default();
    for _ in 0..limit.max_failures {
        store
            .claim_reset_attempt(key, at, &limit)
            .await
            .expect("claim");
        store
            .reset_attempt_failed(key, at, &limit)
            .await
            .expect("failed");
    }
    assert!(matches!(
        store
            .claim_reset_attempt(key, at, &limit)
            .await
            .expect("claim"),
        ResetClaim::Blocked { .. }
    ));
}

/// What the schema refuses: a login ID or token taken is a conflict; a row that refers
/// to a missing account or school is another error (a foreign key). Either way the
/// transaction changes nothing.
async fn rows_that_break_the_schema_are_refused_and_change_nothing(store: Arc<dyn Store>) {
    let mut nowhere = student("a@students.edu.sg", "A A");
    nowhere.school_code = Some("NOWHERE".into());
    let refused = store.insert_account(nowhere, T0).await;
    assert!(matches!(refused, Err(StoreError::Other(_))), "{refused:?}");
    let twice = [
        student("b@students.edu.sg", "B B"),
        student("b@students.edu.sg", "B B"),
    ];
    let refused = store.insert_accounts(&twice, T0).await;
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
    assert_eq!(store.count_accounts().await.expect("n"), 0);

    let id = store
        .insert_account(student("c@students.edu.sg", "C C"), T0)
        .await
        .expect("insert");
    store
        .start_session(&[1; 32], id, T0, None, &recorded(id, "sign-in"))
        .await
        .expect("start");
    let again = store
        .start_session(&[1; 32], id, T0 + 1, None, &recorded(id, "sign-in again"))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    let account = store.account(id).await.expect("a").expect("a");
    assert_eq!(account.last_sign_in_at, Some(T0), "rolled back");
    assert_eq!(
        audit_kinds(&store, id).await,
        ["sign-in"],
        "the refused sign-in's audit event went with it"
    );
    assert_eq!(
        store
            .session(&[1; 32])
            .await
            .expect("s")
            .map(|s| s.created_at),
        Some(T0)
    );

    let ghost = id + 1000;
    let refused = store
        .start_session(&[2; 32], ghost, T0, None, &recorded(ghost, "sign-in"))
        .await;
    assert!(matches!(refused, Err(StoreError::Other(_))), "{refused:?}");
    assert!(store.session(&[2; 32]).await.expect("s").is_none());
    let refused = store
        .record_failure(ghost, &[1; 16], T0, &LockoutPolicy::default())
        .await;
    assert!(matches!(refused, Err(StoreError::Other(_))), "{refused:?}");
    let challenge = |account_id| ChallengeRecord {
        login_key: "c@students.edu.sg".into(),
        account_id,
        slots: [0, 1],
        created_at: T0,
        verified_at: None,
    };
    let refused = store
        .create_challenge(&[3; 32], &challenge(Some(ghost)))
        .await;
    assert!(matches!(refused, Err(StoreError::Other(_))), "{refused:?}");
    store
        .create_challenge(&[3; 32], &challenge(Some(id)))
        .await
        .expect("challenge");
    let refused = store.create_challenge(&[3; 32], &challenge(None)).await;
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
    let refused = store.save_import_batch("NOWHERE", id, b"x", T0).await;
    assert!(matches!(refused, Err(StoreError::Other(_))), "{refused:?}");

    // A change and its audit event go in together or not at all: an event the schema
    // refuses (its account does not exist) takes the change back with it.
    let before = store.account(id).await.expect("a").expect("a");
    let trail = audit_kinds(&store, id).await;
    let refused = store
        .start_session(&[4; 32], id, T0 + 5, None, &recorded(ghost, "sign-in"))
        .await;
    assert!(matches!(refused, Err(StoreError::Other(_))), "{refused:?}");
    assert!(store.session(&[4; 32]).await.expect("s").is_none());
    let refused = store
        .save_answers(
            id,
            &three_answers(),
            &[1; 32],
            T0 + 5,
            &recorded(ghost, "answers"),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Other(_))), "{refused:?}");
    assert!(store.answers(id).await.expect("answers").is_empty());
    let refused = store
        .replace_password(
            id,
            PasswordReplacement {
                new_hash: "never stored",
                new_session: Some(&[5; 32]),
                history: 5,
                reset: false,
                audit: &recorded(ghost, "password"),
            },
            T0 + 5,
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Other(_))), "{refused:?}");
    let after = store.account(id).await.expect("a").expect("a");
    assert_eq!(after.password_hash, before.password_hash);
    assert_eq!(after.last_sign_in_at, before.last_sign_in_at);
    assert!(after.temporary_password);
    assert!(store.password_history(id).await.expect("h").is_empty());
    assert!(
        store.session(&[1; 32]).await.expect("s").is_some(),
        "still signed in"
    );
    assert!(store.session(&[5; 32]).await.expect("s").is_none());
    assert_eq!(audit_kinds(&store, id).await, trail);
}

/// A right password ends its claim (sign-in or the SSPR's sign-in); an upgraded hash
/// replaces only the hash that was checked; the sign-in is recorded and a reset's
/// notice shown once.
async fn a_sign_in_ends_its_claim_and_swaps_only_the_hash_it_checked(store: Arc<dyn Store>) {
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    store
        .replace_password(
            id,
            PasswordReplacement {
                new_hash: "reset",
                new_session: None,
                history: 5,
                reset: true,
                audit: &recorded(id, "password"),
            },
            T0 + 1,
        )
        .await
        .expect("replace");
    assert_eq!(
        store
            .account(id)
            .await
            .expect("a")
            .expect("a")
            .reset_notice_at,
        Some(T0 + 1)
    );
    assert!(store.claim_attempt(id, T0 + 2, 5, 60).await.expect("claim"));
    store
        .start_session(
            &[1; 32],
            id,
            T0 + 2,
            Some(HashUpgrade {
                old_hash: "not the stored one",
                new_hash: "upgraded",
            }),
            &recorded(id, "sign-in"),
        )
        .await
        .expect("start");
    let account = store.account(id).await.expect("a").expect("a");
    assert_eq!(account.password_hash, "reset");
    assert_eq!(account.reset_notice_at, None);
    assert_eq!(account.last_sign_in_at, Some(T0 + 2));
    assert!(store.claim_attempt(id, T0 + 2, 5, 60).await.expect("claim"));
    store
        .password_confirmed(
            id,
            Some(HashUpgrade {
                old_hash: "reset",
                new_hash: "upgraded",
            }),
        )
        .await
        .expect("confirmed");
    assert_eq!(
        store
            .account(id)
            .await
            .expect("a")
            .expect("a")
            .password_hash,
        "upgraded"
    );
    // Both claims ended: all five guesses are free again.
    for _ in 0..5 {
        assert!(store.claim_attempt(id, T0 + 3, 5, 60).await.expect("claim"));
    }
    assert!(!store.claim_attempt(id, T0 + 3, 5, 60).await.expect("claim"));
}

/// Clearing the answers ends the sessions and forgot-password attempts; a staff reset
/// gives a temporary password again, keeps the old hash in the history, ends the
/// sessions and forgets the failure streak and earlier lockouts.
async fn staff_actions_end_sessions_attempts_and_streaks(store: Arc<dyn Store>) {
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    let seed_hash = store
        .account(id)
        .await
        .expect("a")
        .expect("a")
        .password_hash;
    store
        .start_session(&[1; 32], id, T0, None, &recorded(id, "sign-in"))
        .await
        .expect("start");
    store
        .save_answers(id, &three_answers(), &[1; 32], T0, &recorded(id, "answers"))
        .await
        .expect("answers");
    store
        .create_challenge(
            &[5; 32],
            &ChallengeRecord {
                login_key: "a@students.edu.sg".into(),
                account_id: Some(id),
                slots: [0, 1],
                created_at: T0,
                verified_at: None,
            },
        )
        .await
        .expect("challenge");
    store.clear_answers(id).await.expect("clear");
    assert!(store.answers(id).await.expect("answers").is_empty());
    assert!(
        !store
            .account(id)
            .await
            .expect("a")
            .expect("a")
            .questions_set
    );
    assert!(store.session(&[1; 32]).await.expect("s").is_none());
    assert!(store.challenge(&[5; 32]).await.expect("c").is_none());

    let policy = LockoutPolicy {
        max_failures: 2,
        lock_secs: 100,
        max_lock_secs: 1000,
    };
    let fail = |fp: u8, at: i64| {
        let store = store.clone();
        let policy = policy.clone();
        async move {
            assert!(store.claim_attempt(id, at, 2, 60).await.expect("claim"));
            store
                .record_failure(id, &[fp; 16], at, &policy)
                .await
                .expect("record")
        }
    };
    store
        .start_session(&[2; 32], id, T0, None, &recorded(id, "sign-in"))
        .await
        .expect("start");
    assert_eq!(fail(1, T0).await, FailureOutcome::Counted { failures: 1 });
    assert_eq!(
        fail(2, T0).await,
        FailureOutcome::Locked { until: T0 + 100 }
    );
    assert_eq!(
        fail(3, T0 + 100).await,
        FailureOutcome::Counted { failures: 1 }
    );
    store
        .reset_to_temporary(id, "temp2", T0 + 500, T0 + 101)
        .await
        .expect("reset");
    let account = store.account(id).await.expect("a").expect("a");
    assert_eq!(account.password_hash, "temp2");
    assert!(account.temporary_password);
    assert_eq!(account.temporary_expires_at, Some(T0 + 500));
    assert_eq!(account.locked_until, None);
    assert_eq!(
        store.password_history(id).await.expect("history"),
        [seed_hash]
    );
    assert!(store.session(&[2; 32]).await.expect("s").is_none());
    // The same wrong password counts again, and the next lockout is a first one.
    assert_eq!(
        fail(3, T0 + 102).await,
        FailureOutcome::Counted { failures: 1 }
    );
    assert_eq!(
        fail(4, T0 + 102).await,
        FailureOutcome::Locked {
            until: T0 + 102 + 100
        }
    );
}

/// The class view's order: by class (none first), then name, then age (names chosen so
/// that every collation sorts them alike); staff and other schools' students are not
/// listed.
async fn students_are_listed_by_class_then_name(store: Arc<dyn Store>) {
    for code in ["DEMO", "OTHER"] {
        store.add_school(code, code).await.expect("school");
    }
    let mut ids = Vec::new();
    for (login, name, class, school, role) in [
        (
            "amy_ng@students.edu.sg",
            "Amy Ng",
            "5B",
            "DEMO",
            Role::Student,
        ),
        (
            "cai_lin@students.edu.sg",
            "Cai Lin",
            "5A",
            "DEMO",
            Role::Student,
        ),
        (
            "ben_ong@students.edu.sg",
            "Ben Ong",
            "5A",
            "DEMO",
            Role::Student,
        ),
        (
            "amy_ng1@students.edu.sg",
            "Amy Ng",
            "5B",
            "DEMO",
            Role::Student,
        ),
        (
            "dan_tay@students.edu.sg",
            "Dan Tay",
            "5A",
            "OTHER",
            Role::Student,
        ),
        ("eve_ho@schools.gov.sg", "Eve Ho", "5A", "DEMO", Role::Staff),
    ] {
        let mut account = student(login, name);
        account.class_name = Some(class.into());
        account.school_code = Some(school.into());
        account.role = role;
        ids.push(store.insert_account(account, T0).await.expect("insert"));
    }
    // A student without a class (an account made by hand) comes first on every back-end.
    let mut classless = student("zoe_lim@students.edu.sg", "Zoe Lim");
    classless.class_name = None;
    classless.school_code = Some("DEMO".into());
    store.insert_account(classless, T0).await.expect("insert");
    let listed: Vec<(String, String)> = store
        .students("DEMO", None)
        .await
        .expect("students")
        .into_iter()
        .map(|s| (s.class_name.unwrap_or_default(), s.login_id))
        .collect();
    assert_eq!(
        listed,
        [
            ("", "zoe_lim@students.edu.sg"),
            ("5A", "ben_ong@students.edu.sg"),
            ("5A", "cai_lin@students.edu.sg"),
            ("5B", "amy_ng@students.edu.sg"),
            ("5B", "amy_ng1@students.edu.sg"),
        ]
        .map(|(class, login)| (class.to_string(), login.to_string()))
    );
    let five_b: Vec<i64> = store
        .students("DEMO", Some("5B"))
        .await
        .expect("students")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(five_b, [ids[0], ids[3]]);
    assert_eq!(store.count_accounts_outside("DEMO").await.expect("n"), 1);
}

fn client(id: &str, created_at: i64) -> ClientRecord {
    ClientRecord {
        client_id: id.to_string(),
        name: format!("App {id}"),
        secret_hash: Some("ab".repeat(32)),
        redirect_uris: vec![
            format!("https://{id}.example/callback"),
            "http://127.0.0.1:8080/cb?x=1".to_string(),
        ],
        roles: vec![Role::Student, Role::Staff],
        tile: Some(ClientTile {
            title: "Student Learning Space".into(),
            description: Some("Lessons and homework".into()),
        }),
        launch_uri: Some(format!("https://{id}.example/")),
        created_at,
    }
}

fn code_record(n: u8, account: AccountId, at: i64, expires_at: i64) -> CodeRecord {
    CodeRecord {
        code_hash: vec![n; 32],
        client_id: "app".into(),
        account_id: account,
        redirect_uri: "https://app.example/callback".into(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        nonce: Some(format!("nonce {n}")),
        scope: "openid school".into(),
        auth_time: at - 5,
        created_at: at,
        expires_at,
        redeemed_at: None,
    }
}

fn access_token(n: u8, code: &CodeRecord, expires_at: i64) -> AccessTokenRecord {
    AccessTokenRecord {
        token_hash: vec![n; 32],
        code_hash: code.code_hash.clone(),
        client_id: code.client_id.clone(),
        account_id: code.account_id,
        scope: code.scope.clone(),
        expires_at,
    }
}

/// Single sign-on's grants: a code reads back as issued, is redeemed once (the access
/// token stored with it), a second redemption revokes that token and stores nothing;
/// of eight racing redemptions exactly one wins; a subject, once stored, never changes.
async fn codes_are_redeemed_once_and_a_replay_revokes(store: Arc<dyn Store>) {
    store.add_school("DEMO", "Demo").await.expect("school");
    let id = store
        .insert_account(student("a@students.edu.sg", "A B"), T0)
        .await
        .expect("insert");
    let other = store
        .insert_account(student("b@students.edu.sg", "B C"), T0)
        .await
        .expect("insert");
    let code = code_record(7, id, T0, T0 + 60);
    store.add_code(&code).await.expect("add");
    assert_eq!(
        store.code(&code.code_hash).await.expect("read"),
        Some(code.clone())
    );
    assert_eq!(store.code(&[9; 32]).await.expect("read"), None);
    assert!(
        store.add_code(&code).await.is_err(),
        "a code hash is unique"
    );

    let first = access_token(70, &code, T0 + 300);
    assert!(store
        .redeem_code(&code.code_hash, T0 + 1, &first)
        .await
        .expect("redeem"));
    assert_eq!(
        store.access_token(&first.token_hash).await.expect("token"),
        Some(first.clone())
    );
    assert_eq!(
        store
            .code(&code.code_hash)
            .await
            .expect("read")
            .and_then(|c| c.redeemed_at),
        Some(T0 + 1)
    );
    let second = access_token(71, &code, T0 + 300);
    assert!(!store
        .redeem_code(&code.code_hash, T0 + 2, &second)
        .await
        .expect("replay"));
    assert_eq!(
        store.access_token(&first.token_hash).await.expect("t"),
        None
    );
    assert_eq!(
        store.access_token(&second.token_hash).await.expect("t"),
        None
    );

    // Racing redemptions of one code: one wins.
    let raced = code_record(8, id, T0, T0 + 60);
    store.add_code(&raced).await.expect("add");
    let mut tasks = Vec::new();
    for n in 0..8u8 {
        let store = store.clone();
        let token = access_token(80 + n, &raced, T0 + 300);
        let hash = raced.code_hash.clone();
        tasks.push(tokio::spawn(async move {
            store
                .redeem_code(&hash, T0 + 1, &token)
                .await
                .expect("redeem")
        }));
    }
    let mut won = 0;
    for task in tasks {
        if task.await.expect("task") {
            won += 1;
        }
    }
    assert_eq!(won, 1);

    let subject = store.subject(id, "subject-a").await.expect("subject");
    assert_eq!(subject, "subject-a");
    assert_eq!(
        store.subject(id, "another").await.expect("again"),
        "subject-a"
    );
    assert_eq!(
        store.subject(other, "subject-b").await.expect("b"),
        "subject-b"
    );
}

/// Single sign-on's registry: a client reads back exactly as registered (a public one
/// without secret or tile too), ids are unique, the list is in registration order.
async fn clients_are_registered_listed_and_removed(store: Arc<dyn Store>) {
    let confidential = client("sls", T0 + 1);
    let mut public = client("email", T0);
    public.secret_hash = None;
    public.tile = None;
    public.roles = vec![Role::Student];
    store.add_client(&confidential).await.expect("add");
    store.add_client(&public).await.expect("add");
    assert_eq!(
        store.client("sls").await.expect("read"),
        Some(confidential.clone())
    );
    assert_eq!(
        store.client("email").await.expect("read"),
        Some(public.clone())
    );
    assert_eq!(store.client("nope").await.expect("read"), None);
    assert!(matches!(
        store.add_client(&client("sls", T0 + 2)).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.clients().await.expect("list"),
        vec![public.clone(), confidential.clone()]
    );
    assert!(store.remove_client("sls").await.expect("remove"));
    assert!(!store.remove_client("sls").await.expect("remove again"));
    assert_eq!(store.clients().await.expect("list"), vec![public]);
}

fn signing_key(kid: &str, created_at: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.to_string(),
        algorithm: "RS256".to_string(),
        private_pem: Secret::new(format!("-----BEGIN RSA PRIVATE KEY-----\n{kid}\n")),
        public_jwk: format!(r#"{{"kty":"RSA","kid":"{kid}"}}"#),
        created_at,
        retired_at: None,
    }
}

fn kids(keys: Vec<SigningKeyRecord>) -> Vec<String> {
    keys.into_iter().map(|key| key.kid).collect()
}

/// One key per algorithm signs: the first start stores one key however many instances
/// race; a rotation retires it at the new key's time; the active key is listed first
/// (even when the rotating host's clock is behind), and a retired one only while it is
/// recent enough.
async fn one_signing_key_is_active_and_a_rotation_retires_it(store: Arc<dyn Store>) {
    assert!(store.signing_keys(0).await.expect("keys").is_empty());
    // Eight instances start at once: one key is stored.
    let starts: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .add_first_signing_key(&signing_key(&format!("k1-{n}"), T0))
                    .await
                    .expect("first start")
            })
        })
        .collect();
    let mut stored = 0;
    for start in starts {
        stored += usize::from(start.await.expect("task"));
    }
    assert_eq!(stored, 1);
    let first = store.signing_keys(0).await.expect("keys");
    assert_eq!(first.len(), 1);
    let first = first[0].clone();

    let second = signing_key("k2", T0 + 100);
    store.rotate_signing_key(&second).await.expect("rotate");
    let retired = SigningKeyRecord {
        retired_at: Some(T0 + 100),
        ..first.clone()
    };
    assert_eq!(
        store.signing_keys(T0).await.expect("keys"),
        vec![second.clone(), retired]
    );
    assert_eq!(
        store.signing_keys(T0 + 100).await.expect("keys"),
        vec![second.clone()]
    );

    // A rotation on a host whose clock is behind: its key is still the one listed first.
    store
        .rotate_signing_key(&signing_key("k3", T0 + 50))
        .await
        .expect("rotate");
    assert_eq!(kids(store.signing_keys(0).await.expect("keys"))[0], "k3");
    // The same key id twice is refused, and changes nothing.
    assert!(store
        .rotate_signing_key(&signing_key("k2", T0 + 200))
        .await
        .is_err());
    assert_eq!(kids(store.signing_keys(0).await.expect("keys"))[0], "k3");

    // Four rotations at once: each is whole or refused as a conflict ("run it again"),
    // and one key is active afterwards.
    let rotations: Vec<_> = (0..4)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .rotate_signing_key(&signing_key(&format!("k4-{n}"), T0 + 300))
                    .await
            })
        })
        .collect();
    let mut done = 0;
    for rotation in rotations {
        match rotation.await.expect("task") {
            Ok(()) => done += 1,
            Err(StoreError::Conflict) => {}
            Err(other) => panic!("a rotation failed otherwise: {other}"),
        }
    }
    assert!(done >= 1);
    let active: Vec<SigningKeyRecord> = store
        .signing_keys(0)
        .await
        .expect("keys")
        .into_iter()
        .filter(|key| key.retired_at.is_none())
        .collect();
    assert_eq!(active.len(), 1);
    assert!(active[0].kid.starts_with("k4-"));
}
