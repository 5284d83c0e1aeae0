//! The SQL store on SQLite: the embedded default for one school or a demo. The
//! statements are `sql.rs`'s; here only what is SQLite's own: opening the file (WAL mode
//! and a busy timeout let concurrent requests share it safely), the lock file a restore
//! checks, what its errors mean, and the session look-up.

use std::str::FromStr;
use std::time::Duration;

use portal_core::ports::{SeenAt, StoreError};

use crate::{session_with_account_sql, TOUCH_SESSION};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::SqlitePool;

pub struct SqliteStore {
    pool: SqlitePool,
    /// A shared lock on the database's lock file while the store is open, so that a
    /// restore (the server's `backup::restore`) can tell that the database is in use.
    _in_use: Option<std::fs::File>,
}

/// This binary's SQLite schema: the migrations it runs and knows (its own folder's
/// and `migrations/shared`'s, by version).
pub static MIGRATOR: std::sync::LazyLock<sqlx::migrate::Migrator> =
    std::sync::LazyLock::new(|| crate::with_shared(&OWN_MIGRATIONS));

static OWN_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let in_use = match crate::sqlite_file(url) {
            Some(file) => Some(crate::lock_in_use(&file)?),
            None => None,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool_options = SqlitePoolOptions::new().max_connections(8);
        let pool = crate::connect_and_migrate(pool_options, options, &MIGRATOR).await?;
        Ok(Self {
            pool,
            _in_use: in_use,
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn db_error(error: sqlx::Error) -> StoreError {
    // SQLITE_BUSY and SQLITE_LOCKED (and their extended codes): another connection held
    // the database past the busy timeout. Nothing was changed: "try again in a moment",
    // like a database that does not answer.
    crate::store_error(error, |code| {
        code.parse::<i32>()
            .is_ok_and(|code| matches!(code & 0xff, 5 | 6))
    })
}

/// A request's session row (session and account columns) and whether the request
/// marked it as used. SQLite is in the process and has no data-modifying CTE: two cheap
/// statements.
async fn look_up_session(
    pool: &SqlitePool,
    token_hash: &[u8],
    seen: Option<SeenAt>,
) -> Result<Option<(SqliteRow, bool)>, StoreError> {
    // Built once: this runs on every request with a session cookie.
    static LOOK_UP: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| session_with_account_sql(""));
    let look_up = sqlx::query(LOOK_UP.as_str()).bind(token_hash);
    let Some(row) = look_up.fetch_optional(pool).await.map_err(db_error)? else {
        return Ok(None);
    };
    let Some(seen) = seen else {
        return Ok(Some((row, false)));
    };
    let touch = sqlx::query(TOUCH_SESSION)
        .bind(token_hash)
        .bind(seen.now)
        .bind(true)
        .bind(seen.idle_secs)
        .bind(seen.absolute_secs);
    let touched = touch.execute(pool).await.map_err(db_error)?.rows_affected() == 1;
    Ok(Some((row, touched)))
}

sql_store!(SqliteStore, sqlx::Sqlite);
