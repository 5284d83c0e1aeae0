//! Storage back-ends behind the [`portal_core::ports::Store`] trait, chosen by the
//! scheme of `DATABASE_URL`.

/// Statements written once for both back-ends: `$N` placeholders (sqlx binds `$N` to
/// argument N on SQLite as on PostgreSQL).
macro_rules! shared_sql {
    // Forgot-password answers per login ID: a leaky bucket in thousandths of a wrong
    // answer, holding `max_failures` and emptying by as much over `window_secs`.
    (claim_reset_attempt, $pool:expr, $login_key:expr, $now:expr, $limit:expr) => {{
        let limit: &portal_core::ports::ResetLimit = $limit;
        let (login_key, now): (&str, i64) = ($login_key, $now);
        let capacity = i64::from(limit.max_failures).saturating_mul(1000);
        // One statement: a new login ID starts with this answer in its bucket; an
        // existing one drains first, then takes it if there is room and no block.
        // Claimed as a wrong answer until `reset_attempt_succeeded` says otherwise.
        let claimed = sqlx::query(
            "INSERT INTO reset_limits (login_key, level, level_at) VALUES ($1, 1000, $2) \
             ON CONFLICT (login_key) DO UPDATE SET level = (CASE \
               WHEN reset_limits.level - ($2 - reset_limits.level_at) * $3 / $4 > 0 \
               THEN reset_limits.level - ($2 - reset_limits.level_at) * $3 / $4 \
               ELSE 0 END) + 1000, level_at = $2, blocked_until = NULL \
             WHERE (reset_limits.blocked_until IS NULL OR reset_limits.blocked_until <= $2) \
               AND (CASE \
               WHEN reset_limits.level - ($2 - reset_limits.level_at) * $3 / $4 > 0 \
               THEN reset_limits.level - ($2 - reset_limits.level_at) * $3 / $4 \
               ELSE 0 END) + 1000 <= $3 \
             RETURNING level",
        )
        .bind(login_key)
        .bind(now)
        .bind(capacity)
        .bind(limit.window_secs.max(1))
        .fetch_optional($pool)
        .await
        .map_err(db_error)?;
        if claimed.is_some() {
            return Ok(portal_core::ports::ResetClaim::Granted);
        }
        let blocked: Option<i64> =
            sqlx::query("SELECT blocked_until FROM reset_limits WHERE login_key = $1")
                .bind(login_key)
                .fetch_optional($pool)
                .await
                .map_err(db_error)?
                .map(|row| row.try_get("blocked_until"))
                .transpose()
                .map_err(db_error)?
                .flatten();
        let per_answer = limit.window_secs / i64::from(limit.max_failures.max(1));
        Ok(portal_core::ports::ResetClaim::Blocked {
            until: blocked
                .filter(|until| *until > now)
                .unwrap_or(now + per_answer),
        })
    }};
    // A claimed answer was wrong: a bucket with no room for another blocks the ID.
    (reset_attempt_failed, $pool:expr, $login_key:expr, $now:expr, $limit:expr) => {{
        let limit: &portal_core::ports::ResetLimit = $limit;
        let row = sqlx::query(
            "UPDATE reset_limits SET blocked_until = $1 + $2 \
             WHERE login_key = $3 AND level + 1000 > $4 \
               AND (blocked_until IS NULL OR blocked_until <= $1) \
             RETURNING blocked_until",
        )
        .bind($now)
        .bind(limit.block_secs)
        .bind($login_key)
        .bind(i64::from(limit.max_failures).saturating_mul(1000))
        .fetch_optional($pool)
        .await
        .map_err(db_error)?;
        row.map(|r| r.try_get("blocked_until").map_err(db_error))
            .transpose()
    }};
    // Which of these login IDs exist: exact look-ups on the unique index.
    (existing_login_ids, $pool:expr, $login_ids:expr) => {{
        let login_ids: &[String] = $login_ids;
        if login_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=login_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT login_id FROM accounts WHERE login_id IN ({})",
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in login_ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all($pool).await.map_err(db_error)?;
        rows.iter()
            .map(|r| r.try_get("login_id").map_err(db_error))
            .collect()
    }};
    // A class list's accounts, all in one transaction.
    (insert_accounts, $pool:expr, $accounts:expr, $now:expr) => {{
        let accounts: &[portal_core::ports::NewAccount] = $accounts;
        let mut tx = $pool.begin().await.map_err(db_error)?;
        let mut ids = Vec::with_capacity(accounts.len());
        for account in accounts {
            let row = sqlx::query(
                "INSERT INTO accounts (login_id, full_name, password_hash, password_temporary, \
                 created_at, role, school_code, class_name, temporary_expires_at, register_no) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(&account.login_id)
            .bind(&account.full_name)
            .bind(&account.password_hash)
            .bind(account.temporary_password)
            .bind($now)
            .bind(account.role.as_str())
            .bind(&account.school_code)
            .bind(&account.class_name)
            .bind(account.temporary_expires_at)
            .bind(&account.register_no)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
            ids.push(row.try_get("id").map_err(db_error)?);
        }
        tx.commit().await.map_err(db_error)?;
        Ok(ids)
    }};
    // A sign-in for a login ID without an account: the claim (one write, like the
    // account's claim)…
    (claim_unknown_attempt, $pool:expr, $login_key:expr, $now:expr) => {{
        sqlx::query(
            "INSERT INTO unknown_sign_ins (login_key, attempts_in_flight, claimed_at) \
             VALUES ($1, 1, $2) ON CONFLICT (login_key) DO UPDATE \
             SET attempts_in_flight = unknown_sign_ins.attempts_in_flight + 1, claimed_at = $2 \
             RETURNING login_key",
        )
        .bind($login_key)
        .bind($now)
        .fetch_one($pool)
        .await
        .map(|_| ())
        .map_err(db_error)
    }};
    // …and the counted failure (a transaction of two writes, like the account's).
    (unknown_attempt_failed, $pool:expr, $login_key:expr, $now:expr) => {{
        let mut tx = $pool.begin().await.map_err(db_error)?;
        sqlx::query(
            "UPDATE unknown_sign_ins SET attempts_in_flight = CASE \
             WHEN attempts_in_flight > 0 THEN attempts_in_flight - 1 ELSE 0 END \
             WHERE login_key = $1",
        )
        .bind($login_key)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let row = sqlx::query(
            "UPDATE unknown_sign_ins SET failed_count = failed_count + 1, last_failed_at = $2 \
             WHERE login_key = $1 RETURNING failed_count",
        )
        .bind($login_key)
        .bind($now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        match row {
            Some(row) => row.try_get("failed_count").map_err(db_error),
            None => Ok(0),
        }
    }};
    // Students already in a class: by name, and by register number when given (those
    // imported without one match any number, after the exact ones).
    (students_named, $pool:expr, $school:expr, $class:expr, $full_name:expr, $register:expr) => {{
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.role = 'student' \
             AND a.school_code = $1 AND a.class_name = $2 AND a.full_name = $3 \
             AND ($4 IS NULL OR a.register_no IS NULL OR a.register_no = $4) \
             ORDER BY CASE WHEN a.register_no = $4 THEN 0 ELSE 1 END, a.id"
        );
        let register: Option<&str> = $register;
        let rows = sqlx::query(&sql)
            .bind($school)
            .bind($class)
            .bind($full_name)
            .bind(register)
            .fetch_all($pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(account_from_row).collect()
    }};
    // Readiness: the database answers.
    // One statement, run for its effect.
    (execute, $sql:literal, $pool:expr $(, $arg:expr)* $(,)?) => {{
        sqlx::query($sql)
            $(.bind($arg))*
            .execute($pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }};
    // One `COUNT(*) AS n`.
    (count, $sql:literal, $pool:expr $(, $arg:expr)* $(,)?) => {{
        let row = sqlx::query($sql)
            $(.bind($arg))*
            .fetch_one($pool)
            .await
            .map_err(db_error)?;
        row.try_get("n").map_err(db_error)
    }};
    (add_school, $pool:expr, $code:expr, $name:expr) => {{
        let done =
            sqlx::query("INSERT INTO schools (code, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind($code)
                .bind($name)
                .execute($pool)
                .await
                .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }};
    (school_name, $pool:expr, $code:expr) => {{
        let row = sqlx::query("SELECT name FROM schools WHERE code = $1")
            .bind($code)
            .fetch_optional($pool)
            .await
            .map_err(db_error)?;
        row.map(|r| r.try_get("name").map_err(db_error)).transpose()
    }};
    (session, $pool:expr, $token_hash:expr) => {{
        let row = sqlx::query(&format!(
            "SELECT {} FROM sessions s WHERE s.token_hash = $1",
            $crate::store::SESSION_COLUMNS
        ))
        .bind($token_hash)
        .fetch_optional($pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map($crate::store::session_from_row).transpose()
    }};
    (ping, $pool:expr) => {{
        sqlx::query("SELECT 1")
            .execute($pool)
            .await
            .map(|_| ())
            .map_err(db_error)
    }};
    // The retention run (`Store::purge`).
    (purge, $pool:expr, $retention:expr) => {{
        let pool = $pool;
        let r: &portal_core::ports::Retention = $retention;
        let mut purged = portal_core::ports::Purged::default();
        purged.sessions =
            sqlx::query("DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2")
                .bind(r.sessions_idle_since)
                .bind(r.sessions_created_before)
                .execute(pool)
                .await
                .map_err(db_error)?
                .rows_affected();
        purged.challenges = sqlx::query("DELETE FROM reset_challenges WHERE created_at <= $1")
            .bind(r.challenges_created_before)
            .execute(pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        purged.letters = sqlx::query("DELETE FROM letter_batches WHERE expires_at <= $1")
            .bind(r.now)
            .execute(pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        purged.batches = sqlx::query("DELETE FROM import_batches WHERE created_at <= $1")
            .bind(r.batches_created_before)
            .execute(pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        purged.reset_limits = sqlx::query(
            "DELETE FROM reset_limits WHERE level_at <= $1 \
             AND (blocked_until IS NULL OR blocked_until <= $2)",
        )
        .bind(r.reset_limits_idle_since)
        .bind(r.now)
        .execute(pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        purged.unknown_sign_ins =
            sqlx::query("DELETE FROM unknown_sign_ins WHERE claimed_at <= $1")
                .bind(r.unknown_sign_ins_idle_since)
                .execute(pool)
                .await
                .map_err(db_error)?
                .rows_affected();
        // Old audit rows go in chunks, so a first run on a large table never holds
        // the database for long.
        loop {
            let removed = sqlx::query(
                "DELETE FROM audit_events WHERE id IN \
                 (SELECT id FROM audit_events WHERE at < $1 ORDER BY id LIMIT $2)",
            )
            .bind(r.audit_before)
            .bind(crate::store::AUDIT_PURGE_CHUNK)
            .execute(pool)
            .await
            .map_err(db_error)?
            .rows_affected();
            purged.audit_events += removed;
            if removed < crate::store::AUDIT_PURGE_CHUNK as u64 {
                break;
            }
        }
        Ok(purged)
    }};
}

pub mod postgres;
pub mod sqlite;

/// An account's columns (as `a`), with whether its answers are set.
const ACCOUNT_COLUMNS: &str =
    "a.id, a.login_id, a.full_name, a.password_hash, a.password_temporary, a.locked_until, \
     a.reset_notice_at, a.role, a.school_code, a.class_name, a.temporary_expires_at, \
     a.last_sign_in_at, \
     EXISTS (SELECT 1 FROM security_answers s WHERE s.account_id = a.id) AS questions_set";

/// A session's columns (as `s`), read by [`session_from_row`].
const SESSION_COLUMNS: &str = "s.account_id, s.created_at, s.last_seen_at, s.pending_questions, \
     COALESCE(s.reauth_at, s.created_at) AS reauth_at, s.redo_until";

/// The session with token hash `$1` and its account, with `extra` columns.
fn session_with_account_sql(extra: &str) -> String {
    format!(
        "SELECT {SESSION_COLUMNS}, {ACCOUNT_COLUMNS}{extra} \
         FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1"
    )
}

/// The one statement of the rule "a request marks its session as used": token hash
/// `$1`, at `$2`, if the request counts as use (`$3`), later than the last use and still
/// within the idle (`$4`) and absolute (`$5`) limits; past them the session is left for
/// the service to end.
const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen_at = $2 \
     WHERE token_hash = $1 AND $3 AND last_seen_at < $2 \
       AND $2 - last_seen_at < $4 AND $2 - created_at < $5";

/// A session record from a row holding [`SESSION_COLUMNS`].
fn session_from_row<R>(row: &R) -> Result<SessionRecord, StoreError>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let column = |e: sqlx::Error| StoreError::Other(e.to_string());
    Ok(SessionRecord {
        account_id: row.try_get("account_id").map_err(column)?,
        created_at: row.try_get("created_at").map_err(column)?,
        last_seen_at: row.try_get("last_seen_at").map_err(column)?,
        pending_questions: row.try_get("pending_questions").map_err(column)?,
        reauth_at: row.try_get("reauth_at").map_err(column)?,
        redo_until: row.try_get("redo_until").map_err(column)?,
    })
}

/// A reset challenge's two question slots as stored (`"0,2"`).
fn slots_text(slots: [usize; 2]) -> String {
    format!("{},{}", slots[0], slots[1])
}

/// The slots back from their stored text.
fn parse_slots(text: &str) -> Option<[usize; 2]> {
    let (a, b) = text.split_once(',')?;
    Some([a.parse().ok()?, b.parse().ok()?])
}

/// Old audit events deleted per statement.
const AUDIT_PURGE_CHUNK: i64 = 5000;

use std::sync::Arc;

use portal_core::ports::{SessionRecord, Store, StoreError};

/// Why the database could not be opened; printed to the operator at start-up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL {0:?} is not supported: use sqlite:PATH (e.g. sqlite:data/portal.db) or postgres://USER@HOST/DB")]
    UnsupportedScheme(String),
    #[error("could not create the directory {path:?} for the database: {reason}")]
    Directory { path: String, reason: String },
    #[error("could not open the database {url:?}: {reason}")]
    Open { url: String, reason: String },
}

/// Opens the store named by `url`, creating a SQLite file (and its directory) if missing,
/// and runs the migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, OpenError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::connect(url)
            .await
            .map_err(|e| OpenError::Open {
                url: redact(url),
                reason: e.to_string(),
            })?;
        return Ok(Arc::new(store));
    }
    if !url.starts_with("sqlite:") {
        return Err(OpenError::UnsupportedScheme(url.to_string()));
    }
    let path = sqlite_path(url);
    if path.is_empty() {
        return Err(OpenError::Open {
            url: url.to_string(),
            reason: "no file name".into(),
        });
    }
    if path != ":memory:" {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| OpenError::Directory {
                    path: parent.display().to_string(),
                    reason: e.to_string(),
                })?;
            }
        }
    }
    let store = sqlite::SqliteStore::connect(url)
        .await
        .map_err(|e| OpenError::Open {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    Ok(Arc::new(store))
}

/// The file part of a `sqlite:` URL (`sqlite://data/portal.db?mode=rwc` → `data/portal.db`).
fn sqlite_path(url: &str) -> &str {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let path = rest.trim_start_matches("//");
    path.split('?').next().unwrap_or_default()
}

/// The database file a `sqlite:` URL names; `None` for PostgreSQL, an in-memory
/// database or another scheme.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let path = sqlite_path(url);
    (!path.is_empty() && path != ":memory:" && !path.starts_with("file::memory:"))
        .then(|| std::path::PathBuf::from(path))
}

/// The lock file beside a SQLite database: every store and command that has the
/// database open holds a shared lock on it; a restore needs it alone.
pub fn lock_file(database: &std::path::Path) -> std::path::PathBuf {
    with_suffix(database, ".lock")
}

/// `path` with `suffix` added to its file name (`portal.db` → `portal.db-wal`).
pub fn with_suffix(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

fn open_lock_file(database: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_file(database))
}

/// Takes a shared lock on the database's lock file, for as long as the file is kept.
pub fn lock_in_use(database: &std::path::Path) -> Result<std::fs::File, StoreError> {
    let file = open_lock_file(database).map_err(|e| {
        StoreError::Unavailable(format!(
            "could not open the lock file {}: {e}",
            lock_file(database).display()
        ))
    })?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Unavailable(format!(
            "{} is being restored from a backup; start again when the restore has finished",
            database.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Unavailable(format!(
            "could not lock {}: {e}",
            lock_file(database).display()
        ))),
    }
}

/// Takes the database's lock file alone (for a restore); `None` while anything else has
/// the database open.
pub fn lock_alone(database: &std::path::Path) -> std::io::Result<Option<std::fs::File>> {
    let file = open_lock_file(database)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// A failed migration, in words an operator can act on; a database written by a newer
/// portal says so.
fn migration_error(
    error: sqlx::migrate::MigrateError,
    migrator: &sqlx::migrate::Migrator,
) -> StoreError {
    use sqlx::migrate::MigrateError;
    let newest = newest_version(migrator);
    match error {
        MigrateError::VersionMissing(version) if version > newest => {
            StoreError::Unavailable(newer_schema_message(version, newest))
        }
        MigrateError::VersionMissing(version) => StoreError::Unavailable(format!(
            "this database has schema version {version}, which this portal does not know \
             (it is not from a release of this portal); nothing was changed"
        )),
        MigrateError::VersionMismatch(version) => StoreError::Unavailable(format!(
            "this database's schema version {version} differs from this portal's; it was \
             written by a different build. Nothing was changed"
        )),
        other => StoreError::Unavailable(format!("migrations failed: {other}")),
    }
}

/// The newest schema version `migrator` knows.
pub fn newest_version(migrator: &sqlx::migrate::Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// What an older portal says of a database a newer one has written.
pub fn newer_schema_message(version: i64, newest: i64) -> String {
    format!(
        "this database was written by a newer version of the portal (schema version \
         {version}; this one knows versions up to {newest}). Run the newer version, or \
         restore a backup made with this one; nothing was changed"
    )
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
