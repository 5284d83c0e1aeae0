//! The SQL store on PostgreSQL, for deployments that run several server instances on
//! one database: the statements of `sql.rs`, whose lockout claim and other
//! check-and-write steps are single statements or transactions, so they hold across
//! instances. Here only what is PostgreSQL's own: connecting, the installation secret,
//! what its errors mean, and the session look-up in one round trip.

use std::str::FromStr;
use std::time::Duration;

use portal_core::ports::{SeenAt, StoreError};

use crate::{session_with_account_sql, TOUCH_SESSION};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};

pub struct PgStore {
    pool: PgPool,
}

/// This binary's PostgreSQL schema: the migrations it runs and knows (its own folder's
/// and `migrations/shared`'s, by version).
pub static MIGRATOR: std::sync::LazyLock<sqlx::migrate::Migrator> =
    std::sync::LazyLock::new(|| crate::with_shared(&OWN_MIGRATIONS));

static OWN_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

impl PgStore {
    /// Connects to the PostgreSQL database at `url`, runs the migrations and makes sure
    /// the installation secret exists.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
        let pool_options = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5));
        let pool = crate::connect_and_migrate(pool_options, options, &MIGRATOR).await?;
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        // The first instance to start writes it; the others keep that one.
        sqlx::query("INSERT INTO installation (id, secret) VALUES (1, $1) ON CONFLICT DO NOTHING")
            .bind(secret.as_slice())
            .execute(&pool)
            .await
            .map_err(db_error)?;
        Ok(Self { pool })
    }
}

fn db_error(error: sqlx::Error) -> StoreError {
    // Connection exceptions (08…), shutdowns and "not accepting connections" (57P…,
    // 55000 for a database closed to connections): the database is away.
    crate::store_error(error, |code| {
        code.starts_with("08") || code.starts_with("57P") || code == "55000"
    })
}

/// A request's session row (session and account columns) and whether the request
/// marked it as used: one round trip, the touch in the same statement (a data-modifying
/// CTE); the SELECT sees the session as it was before it.
async fn look_up_session(
    pool: &PgPool,
    token_hash: &[u8],
    seen: Option<SeenAt>,
) -> Result<Option<(PgRow, bool)>, StoreError> {
    // Built once: this runs on every request with a session cookie.
    static LOOK_UP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "WITH touched AS ({TOUCH_SESSION} RETURNING 1) {}",
            session_with_account_sql(", EXISTS (SELECT 1 FROM touched) AS touched")
        )
    });
    let query = sqlx::query(LOOK_UP.as_str())
        .bind(token_hash)
        .bind(seen.map_or(0, |s| s.now))
        .bind(seen.is_some())
        .bind(seen.map_or(0, |s| s.idle_secs))
        .bind(seen.map_or(0, |s| s.absolute_secs));
    match query.fetch_optional(pool).await.map_err(db_error)? {
        Some(row) => {
            let touched = row.try_get("touched").map_err(db_error)?;
            Ok(Some((row, touched)))
        }
        None => Ok(None),
    }
}

sql_store!(PgStore, sqlx::Postgres);
