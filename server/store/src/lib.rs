//! The portal's SQL store: one implementation of [`portal_core::ports::Store`]
//! (`sql.rs`), instantiated for SQLite (the embedded default) and PostgreSQL (several
//! instances on one database), chosen by the scheme of `DATABASE_URL`; the lock file
//! that tells a restore the database is in use; and migration errors an operator can act
//! on. The contract suite (`tests/contract.rs`) runs against both, and against the
//! in-memory fake of `portal_core` the service tests use.

#[macro_use]
mod sql;
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

/// What a database error means to the services: a unique violation is a conflict, a
/// database that does not answer (no connection, or `unavailable(code)` for the
/// back-end's own codes) is "try again in a moment", anything else is internal.
fn store_error(error: sqlx::Error, unavailable: fn(&str) -> bool) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::Database(db) if db.code().is_some_and(|code| unavailable(&code)) => {
            StoreError::Unavailable(error.to_string())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Other(error.to_string()),
    }
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

/// The migrations both databases run, written once (new tables go here): each store
/// runs them after its own, in version order.
static SHARED_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/shared");

/// A store's migrations: its own folder's and the shared ones, by version.
fn with_shared(own: &sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
    let mut migrations: Vec<sqlx::migrate::Migration> = own
        .iter()
        .chain(SHARED_MIGRATIONS.iter())
        .cloned()
        .collect();
    migrations.sort_by_key(|migration| migration.version);
    sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(migrations),
        ..sqlx::migrate::Migrator::DEFAULT
    }
}

/// A pooled connection used this recently is handed out without a liveness check.
///
/// sqlx's default checks every connection with a round trip before handing it out (and
/// again when it comes back), so a one-statement request cost the database three round
/// trips; under the first-day peak that was a quarter of PostgreSQL's work. A connection
/// back in the pool for less than this was answering a moment ago; one idle for longer
/// (when a restarted or failed-over database may have dropped it) is still checked, and
/// one that fails the check is replaced before anyone sees it. (The same rule as
/// HikariCP's `aliveBypassWindowMs`.) A connection lost within the window fails that one
/// statement, which the portal reports as "try again in a moment", and sqlx drops it.
const LIVENESS_BYPASS: std::time::Duration = std::time::Duration::from_millis(500);

/// Connects `options`' pool and brings its schema up to `migrator`'s (refusing a newer
/// one).
async fn connect_and_migrate<DB>(
    pool: sqlx::pool::PoolOptions<DB>,
    options: <DB::Connection as sqlx::Connection>::Options,
    migrator: &sqlx::migrate::Migrator,
) -> Result<sqlx::Pool<DB>, StoreError>
where
    DB: sqlx::Database,
    DB::Connection: sqlx::migrate::Migrate,
{
    let pool = pool
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= LIVENESS_BYPASS {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    migrator
        .run(&pool)
        .await
        .map_err(|e| migration_error(e, migrator))?;
    Ok(pool)
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

#[cfg(test)]
mod tests {
    /// Each store runs its own folder's migrations and the shared folder's by version: a
    /// version used twice (in two folders) would fail only at run time.
    #[test]
    fn every_migration_version_is_used_once() {
        for (name, migrator) in [
            ("SQLite", &*crate::sqlite::MIGRATOR),
            ("PostgreSQL", &*crate::postgres::MIGRATOR),
        ] {
            let versions: Vec<i64> = migrator.iter().map(|m| m.version).collect();
            assert!(
                versions.windows(2).all(|pair| pair[0] < pair[1]),
                "{name}: {versions:?}"
            );
            assert!(
                migrator
                    .iter()
                    .any(|m| m.description.contains("single sign on")),
                "{name} runs the shared migrations"
            );
        }
    }
}
