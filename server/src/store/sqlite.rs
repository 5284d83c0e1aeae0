//! The SQLite implementation of [`Store`]: the embedded default for one school or a demo.
//! WAL mode and a busy timeout let concurrent requests share one file safely.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use domain::login_id::LoginId;
use domain::provisioning::Role;
use portal_core::ports::{
    Account, AccountId, AuditEvent, ChallengeRecord, FailureOutcome, HashUpgrade, LockoutPolicy,
    NewAccount, PasswordReplacement, Purged, RequestSession, ResetClaim, ResetLimit, Retention,
    SeenAt, SessionRecord, Store, StoreError, StoredAnswer, StudentStatus, Timestamp,
};

use super::{
    parse_slots, session_from_row, session_with_account_sql, slots_text, ACCOUNT_COLUMNS,
    TOUCH_SESSION,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

pub struct SqliteStore {
    pool: SqlitePool,
    /// A shared lock on the database's lock file while the store is open, so that a
    /// restore ([`crate::backup::restore`]) can tell that the database is in use.
    _in_use: Option<std::fs::File>,
}

/// This binary's SQLite schema: the migrations it runs and knows.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let in_use = match super::sqlite_file(url) {
            Some(file) => Some(super::lock_in_use(&file)?),
            None => None,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| super::migration_error(e, &MIGRATOR))?;
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
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        // SQLITE_BUSY and SQLITE_LOCKED (and their extended codes): another connection
        // held the database past the busy timeout. Nothing was changed: "try again in a
        // moment", like a database that does not answer.
        sqlx::Error::Database(db)
            if db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6)) =>
        {
            StoreError::Unavailable(error.to_string())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Other(error.to_string()),
    }
}

/// A new session row, inside the caller's transaction (sign-in, password change).
async fn insert_session(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    token_hash: &[u8],
    account: AccountId,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, reauth_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(token_hash)
    .bind(account)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// A claimed check found the right password: end the claim, clear the failure streak
/// and lockouts, and swap in an upgraded hash if the stored one is still the one checked.
async fn confirm_password(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    account: AccountId,
    upgrade: Option<HashUpgrade<'_>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE accounts SET failed_count = 0, lockout_count = 0, locked_until = NULL, \
         attempts_in_flight = MAX(attempts_in_flight - 1, 0) WHERE id = ?",
    )
    .bind(account)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM sign_in_failures WHERE account_id = ?")
        .bind(account)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    if let Some(upgrade) = upgrade {
        sqlx::query("UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?")
            .bind(upgrade.new_hash)
            .bind(account)
            .bind(upgrade.old_hash)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

fn account_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Account, StoreError> {
    Ok(Account {
        id: row.try_get("id").map_err(db_error)?,
        login_id: {
            let login_id: String = row.try_get("login_id").map_err(db_error)?;
            LoginId::parse(&login_id)
                .ok_or_else(|| StoreError::Other(format!("malformed login ID {login_id:?}")))?
        },
        full_name: row.try_get("full_name").map_err(db_error)?,
        password_hash: row.try_get("password_hash").map_err(db_error)?,
        temporary_password: row.try_get("password_temporary").map_err(db_error)?,
        questions_set: row.try_get("questions_set").map_err(db_error)?,
        locked_until: row.try_get("locked_until").map_err(db_error)?,
        reset_notice_at: row.try_get("reset_notice_at").map_err(db_error)?,
        role: {
            let role: String = row.try_get("role").map_err(db_error)?;
            Role::parse(&role).ok_or_else(|| StoreError::Other(format!("unknown role {role:?}")))?
        },
        school_code: row.try_get("school_code").map_err(db_error)?,
        class_name: row.try_get("class_name").map_err(db_error)?,
        temporary_expires_at: row.try_get("temporary_expires_at").map_err(db_error)?,
        last_sign_in_at: row.try_get("last_sign_in_at").map_err(db_error)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn account_by_login(&self, login_id: &LoginId) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.login_id = ?");
        let row = sqlx::query(&sql)
            .bind(login_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn insert_account(
        &self,
        account: NewAccount,
        now: Timestamp,
    ) -> Result<AccountId, StoreError> {
        self.insert_accounts(std::slice::from_ref(&account), now)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Other("the insert returned no id".into()))
    }

    async fn insert_accounts(
        &self,
        accounts: &[NewAccount],
        now: Timestamp,
    ) -> Result<Vec<AccountId>, StoreError> {
        shared_sql!(insert_accounts, &self.pool, accounts, now)
    }

    async fn count_accounts(&self) -> Result<i64, StoreError> {
        shared_sql!(count, "SELECT COUNT(*) AS n FROM accounts", &self.pool)
    }

    async fn add_school(&self, code: &str, name: &str) -> Result<bool, StoreError> {
        shared_sql!(add_school, &self.pool, code, name)
    }

    async fn school_name(&self, code: &str) -> Result<Option<String>, StoreError> {
        shared_sql!(school_name, &self.pool, code)
    }

    async fn existing_login_ids(&self, login_ids: &[String]) -> Result<Vec<String>, StoreError> {
        shared_sql!(existing_login_ids, &self.pool, login_ids)
    }

    async fn students_named(
        &self,
        school: &str,
        class: &str,
        full_name: &str,
        register_no: Option<&str>,
    ) -> Result<Vec<Account>, StoreError> {
        shared_sql!(
            students_named,
            &self.pool,
            school,
            class,
            full_name,
            register_no
        )
    }

    async fn reset_to_temporary(
        &self,
        account: AccountId,
        new_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(
            "INSERT INTO password_history (account_id, password_hash, temporary, replaced_at) \
             SELECT id, password_hash, password_temporary, ? FROM accounts WHERE id = ?",
        )
        .bind(now)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "UPDATE accounts SET password_hash = ?, password_temporary = 1, \
             temporary_expires_at = ?, password_changed_at = ?, failed_count = 0, \
             lockout_count = 0, locked_until = NULL WHERE id = ?",
        )
        .bind(new_hash)
        .bind(expires_at)
        .bind(now)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        for sql in [
            "DELETE FROM sessions WHERE account_id = ?",
            "DELETE FROM sign_in_failures WHERE account_id = ?",
            "DELETE FROM reset_challenges WHERE account_id = ?",
        ] {
            sqlx::query(sql)
                .bind(account)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn restart_practice_account(
        &self,
        account: AccountId,
        hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(
            "UPDATE accounts SET password_hash = ?, password_temporary = 1, \
             temporary_expires_at = NULL, password_changed_at = ?, failed_count = 0, \
             lockout_count = 0, locked_until = NULL, attempts_in_flight = 0, claimed_at = NULL, \
             last_sign_in_at = NULL, reset_notice_at = NULL WHERE id = ?",
        )
        .bind(hash)
        .bind(now)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        for sql in [
            // Forgot-password attempts are counted per login ID (it may not exist).
            "DELETE FROM reset_limits WHERE login_key = \
             (SELECT login_id FROM accounts WHERE id = ?)",
            "DELETE FROM security_answers WHERE account_id = ?",
            "DELETE FROM password_history WHERE account_id = ?",
            "DELETE FROM sessions WHERE account_id = ?",
            "DELETE FROM sign_in_failures WHERE account_id = ?",
            "DELETE FROM reset_challenges WHERE account_id = ?",
        ] {
            sqlx::query(sql)
                .bind(account)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn count_accounts_outside(&self, school: &str) -> Result<i64, StoreError> {
        shared_sql!(
            count,
            "SELECT COUNT(*) AS n FROM accounts WHERE school_code IS NULL OR school_code <> $1",
            &self.pool,
            school
        )
    }

    async fn clear_answers(&self, account: AccountId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        for sql in [
            "DELETE FROM security_answers WHERE account_id = ?",
            "DELETE FROM sessions WHERE account_id = ?",
            "DELETE FROM reset_challenges WHERE account_id = ?",
        ] {
            sqlx::query(sql)
                .bind(account)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn students(
        &self,
        school: &str,
        class: Option<&str>,
    ) -> Result<Vec<StudentStatus>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.login_id, a.full_name, a.class_name, a.password_temporary, \
             a.last_sign_in_at, a.locked_until, \
             EXISTS (SELECT 1 FROM security_answers s WHERE s.account_id = a.id) AS questions_set \
             FROM accounts a WHERE a.role = 'student' AND a.school_code = ?1 \
             AND (?2 IS NULL OR a.class_name = ?2) ORDER BY a.class_name, a.full_name, a.id",
        )
        .bind(school)
        .bind(class)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                Ok(StudentStatus {
                    id: row.try_get("id").map_err(db_error)?,
                    login_id: row.try_get("login_id").map_err(db_error)?,
                    full_name: row.try_get("full_name").map_err(db_error)?,
                    class_name: row.try_get("class_name").map_err(db_error)?,
                    temporary_password: row.try_get("password_temporary").map_err(db_error)?,
                    questions_set: row.try_get("questions_set").map_err(db_error)?,
                    last_sign_in_at: row.try_get("last_sign_in_at").map_err(db_error)?,
                    locked_until: row.try_get("locked_until").map_err(db_error)?,
                })
            })
            .collect()
    }

    async fn save_import_batch(
        &self,
        school: &str,
        staff: AccountId,
        file: &[u8],
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO import_batches (school_code, staff_id, file, created_at) \
             VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(school)
        .bind(staff)
        .bind(file)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        row.try_get("id").map_err(db_error)
    }

    async fn import_batch(
        &self,
        id: i64,
        staff: AccountId,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row = sqlx::query(
            "SELECT school_code, file FROM import_batches WHERE id = ? AND staff_id = ?",
        )
        .bind(id)
        .bind(staff)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.map(|r| {
            Ok((
                r.try_get("school_code").map_err(db_error)?,
                r.try_get("file").map_err(db_error)?,
            ))
        })
        .transpose()
    }

    async fn delete_import_batch(&self, id: i64) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "DELETE FROM import_batches WHERE id = $1",
            &self.pool,
            id
        )
    }

    async fn save_letters(
        &self,
        staff: AccountId,
        nonce: &[u8],
        sealed: &[u8],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<i64, StoreError> {
        // Old batches go when new ones come.
        sqlx::query("DELETE FROM letter_batches WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        let row = sqlx::query(
            "INSERT INTO letter_batches (staff_id, nonce, sealed, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(staff)
        .bind(nonce)
        .bind(sealed)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        row.try_get("id").map_err(db_error)
    }

    async fn letters(
        &self,
        id: i64,
        staff: AccountId,
        now: Timestamp,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError> {
        let row = sqlx::query(
            "SELECT nonce, sealed FROM letter_batches WHERE id = ? AND staff_id = ? AND expires_at > ?",
        )
        .bind(id)
        .bind(staff)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.map(|r| {
            Ok((
                r.try_get("nonce").map_err(db_error)?,
                r.try_get("sealed").map_err(db_error)?,
            ))
        })
        .transpose()
    }

    async fn claim_attempt(
        &self,
        account: AccountId,
        now: Timestamp,
        max_failures: u32,
        stale_after: i64,
    ) -> Result<bool, StoreError> {
        // One statement, so the check and the claim cannot be split by another request.
        let row = sqlx::query(
            "UPDATE accounts SET \
                 attempts_in_flight = (CASE WHEN claimed_at IS NULL OR claimed_at < ?1 \
                                       THEN 0 ELSE attempts_in_flight END) + 1, \
                 claimed_at = ?2 \
             WHERE id = ?3 \
               AND (locked_until IS NULL OR locked_until <= ?2) \
               AND failed_count + (CASE WHEN claimed_at IS NULL OR claimed_at < ?1 \
                                   THEN 0 ELSE attempts_in_flight END) < ?4 \
             RETURNING id",
        )
        .bind(now - stale_after)
        .bind(now)
        .bind(account)
        .bind(i64::from(max_failures))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.is_some())
    }

    async fn claim_unknown_attempt(
        &self,
        login_key: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        shared_sql!(claim_unknown_attempt, &self.pool, login_key, now)
    }

    async fn unknown_attempt_failed(
        &self,
        login_key: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        shared_sql!(unknown_attempt_failed, &self.pool, login_key, now)
    }

    async fn release_attempt(&self, account: AccountId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET attempts_in_flight = MAX(attempts_in_flight - 1, 0) WHERE id = ?",
        )
        .bind(account)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn record_failure(
        &self,
        account: AccountId,
        fingerprint: &[u8],
        now: Timestamp,
        policy: &LockoutPolicy,
    ) -> Result<FailureOutcome, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // The first statement writes, so the transaction holds the write lock from here.
        sqlx::query(
            "UPDATE accounts SET attempts_in_flight = MAX(attempts_in_flight - 1, 0) WHERE id = ?",
        )
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO sign_in_failures (account_id, fingerprint, at) VALUES (?, ?, ?)",
        )
        .bind(account)
        .bind(fingerprint)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if inserted == 0 {
            tx.commit().await.map_err(db_error)?;
            return Ok(FailureOutcome::Repeated);
        }
        let row = sqlx::query(
            "UPDATE accounts SET failed_count = failed_count + 1 WHERE id = ? \
             RETURNING failed_count, lockout_count",
        )
        .bind(account)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        let failures: i64 = row.try_get("failed_count").map_err(db_error)?;
        let lockouts: i64 = row.try_get("lockout_count").map_err(db_error)?;
        let outcome = if failures >= i64::from(policy.max_failures) {
            let until = now + policy.lock_duration(u32::try_from(lockouts).unwrap_or(u32::MAX));
            sqlx::query(
                "UPDATE accounts SET locked_until = ?, lockout_count = lockout_count + 1, \
                 failed_count = 0 WHERE id = ?",
            )
            .bind(until)
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            sqlx::query("DELETE FROM sign_in_failures WHERE account_id = ?")
                .bind(account)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            FailureOutcome::Locked { until }
        } else {
            FailureOutcome::Counted {
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
            }
        };
        tx.commit().await.map_err(db_error)?;
        Ok(outcome)
    }

    async fn start_session(
        &self,
        token_hash: &[u8],
        account: AccountId,
        now: Timestamp,
        upgrade: Option<HashUpgrade<'_>>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("UPDATE accounts SET last_sign_in_at = ?, reset_notice_at = NULL WHERE id = ?")
            .bind(now)
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        confirm_password(&mut tx, account, upgrade).await?;
        insert_session(&mut tx, token_hash, account, now).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn password_confirmed(
        &self,
        account: AccountId,
        upgrade: Option<HashUpgrade<'_>>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        confirm_password(&mut tx, account, upgrade).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn unlock(&self, account: AccountId, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let row = sqlx::query(
            "UPDATE accounts SET failed_count = 0, lockout_count = 0, attempts_in_flight = 0 \
             WHERE id = ? RETURNING locked_until",
        )
        .bind(account)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let was_locked = match row {
            Some(row) => row
                .try_get::<Option<i64>, _>("locked_until")
                .map_err(db_error)?
                .is_some_and(|until| until > now),
            None => false,
        };
        sqlx::query("UPDATE accounts SET locked_until = NULL WHERE id = ?")
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query("DELETE FROM sign_in_failures WHERE account_id = ?")
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(was_locked)
    }

    async fn audit_history(&self, account: AccountId) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, account_id, actor, kind, client, detail FROM audit_events \
             WHERE account_id = ? ORDER BY id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    at: row.try_get("at").map_err(db_error)?,
                    account_id: row.try_get("account_id").map_err(db_error)?,
                    actor: row.try_get("actor").map_err(db_error)?,
                    kind: row.try_get("kind").map_err(db_error)?,
                    client: row.try_get("client").map_err(db_error)?,
                    detail: row.try_get("detail").map_err(db_error)?,
                })
            })
            .collect()
    }

    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        shared_sql!(session, &self.pool, token_hash)
    }

    async fn session_for_request(
        &self,
        token_hash: &[u8],
        seen: Option<SeenAt>,
    ) -> Result<Option<RequestSession>, StoreError> {
        // SQLite is in the process: the look-up and the touch are two cheap statements.
        let row = sqlx::query(&session_with_account_sql(""))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let record = session_from_row(&row)?;
        let account = account_from_row(&row)?;
        let touched = match seen {
            Some(seen) => {
                sqlx::query(TOUCH_SESSION)
                    .bind(token_hash)
                    .bind(seen.now)
                    .bind(true)
                    .bind(seen.idle_secs)
                    .bind(seen.absolute_secs)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?
                    .rows_affected()
                    == 1
            }
            None => false,
        };
        Ok(Some(RequestSession {
            record,
            account,
            touched,
        }))
    }

    async fn set_pending_questions(
        &self,
        token_hash: &[u8],
        pending: Option<&str>,
    ) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "UPDATE sessions SET pending_questions = $1 WHERE token_hash = $2",
            &self.pool,
            pending,
            token_hash
        )
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "DELETE FROM sessions WHERE token_hash = $1",
            &self.pool,
            token_hash
        )
    }

    async fn save_answers(
        &self,
        account: AccountId,
        answers: &[StoredAnswer],
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("DELETE FROM security_answers WHERE account_id = ?")
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        for (slot, answer) in answers.iter().enumerate() {
            sqlx::query(
                "INSERT INTO security_answers (account_id, slot, question_id, answer_hash, set_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(account)
            .bind(slot as i64)
            .bind(&answer.question_id)
            .bind(&answer.answer_hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        sqlx::query(
            "UPDATE sessions SET pending_questions = NULL, redo_until = NULL WHERE token_hash = ?",
        )
        .bind(token_hash)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn set_reauth(&self, token_hash: &[u8], now: Timestamp) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "UPDATE sessions SET reauth_at = $1 WHERE token_hash = $2",
            &self.pool,
            now,
            token_hash
        )
    }

    async fn set_redo_questions(
        &self,
        token_hash: &[u8],
        until: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "UPDATE sessions SET redo_until = $1, pending_questions = NULL WHERE token_hash = $2",
            &self.pool,
            until,
            token_hash
        )
    }

    async fn answers(&self, account: AccountId) -> Result<Vec<StoredAnswer>, StoreError> {
        let rows = sqlx::query(
            "SELECT question_id, answer_hash FROM security_answers WHERE account_id = ? ORDER BY slot",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                Ok(StoredAnswer {
                    question_id: row.try_get("question_id").map_err(db_error)?,
                    answer_hash: row.try_get("answer_hash").map_err(db_error)?,
                })
            })
            .collect()
    }

    async fn password_history(&self, account: AccountId) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT password_hash FROM password_history WHERE account_id = ? ORDER BY id DESC",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| row.try_get("password_hash").map_err(db_error))
            .collect()
    }

    async fn replace_password(
        &self,
        account: AccountId,
        replacement: PasswordReplacement<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(
            "INSERT INTO password_history (account_id, password_hash, temporary, replaced_at) \
             SELECT id, password_hash, password_temporary, ? FROM accounts WHERE id = ?",
        )
        .bind(now)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        // Keep the newest `history` ordinary entries; temporary ones stay for good.
        sqlx::query(
            "DELETE FROM password_history WHERE account_id = ?1 AND temporary = 0 AND id NOT IN \
             (SELECT id FROM password_history WHERE account_id = ?1 AND temporary = 0 \
              ORDER BY id DESC LIMIT ?2)",
        )
        .bind(account)
        .bind(i64::try_from(replacement.history).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "UPDATE accounts SET password_hash = ?1, password_temporary = 0, password_changed_at = ?2, \
             reset_notice_at = CASE WHEN ?3 THEN ?2 ELSE reset_notice_at END, \
             locked_until = CASE WHEN ?3 THEN NULL ELSE locked_until END, \
             failed_count = CASE WHEN ?3 THEN 0 ELSE failed_count END, \
             lockout_count = CASE WHEN ?3 THEN 0 ELSE lockout_count END WHERE id = ?4",
        )
        .bind(replacement.new_hash)
        .bind(now)
        .bind(replacement.reset)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query("DELETE FROM sessions WHERE account_id = ?")
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if replacement.reset {
            sqlx::query("DELETE FROM reset_challenges WHERE account_id = ?")
                .bind(account)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        if let Some(token_hash) = replacement.new_session {
            insert_session(&mut tx, token_hash, account, now).await?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn installation_secret(&self) -> Result<Vec<u8>, StoreError> {
        let row = sqlx::query("SELECT secret FROM installation WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        row.try_get("secret").map_err(db_error)
    }

    async fn create_challenge(
        &self,
        token_hash: &[u8],
        challenge: &ChallengeRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO reset_challenges (token_hash, login_key, account_id, slots, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(&challenge.login_key)
        .bind(challenge.account_id)
        .bind(slots_text(challenge.slots))
        .bind(challenge.created_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn challenge(&self, token_hash: &[u8]) -> Result<Option<ChallengeRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT login_key, account_id, slots, created_at, verified_at FROM reset_challenges \
             WHERE token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.map(|row| {
            let slots: String = row.try_get("slots").map_err(db_error)?;
            Ok(ChallengeRecord {
                login_key: row.try_get("login_key").map_err(db_error)?,
                account_id: row.try_get("account_id").map_err(db_error)?,
                slots: parse_slots(&slots)
                    .ok_or_else(|| StoreError::Other(format!("bad slots {slots:?}")))?,
                created_at: row.try_get("created_at").map_err(db_error)?,
                verified_at: row.try_get("verified_at").map_err(db_error)?,
            })
        })
        .transpose()
    }

    async fn set_challenge_slots(
        &self,
        token_hash: &[u8],
        slots: [usize; 2],
    ) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "UPDATE reset_challenges SET slots = $1 WHERE token_hash = $2",
            &self.pool,
            slots_text(slots),
            token_hash
        )
    }

    async fn verify_challenge(&self, token_hash: &[u8], now: Timestamp) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "UPDATE reset_challenges SET verified_at = $1 WHERE token_hash = $2",
            &self.pool,
            now,
            token_hash
        )
    }

    async fn delete_challenge(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "DELETE FROM reset_challenges WHERE token_hash = $1",
            &self.pool,
            token_hash
        )
    }

    async fn claim_reset_attempt(
        &self,
        login_key: &str,
        now: Timestamp,
        limit: &ResetLimit,
    ) -> Result<ResetClaim, StoreError> {
        shared_sql!(claim_reset_attempt, &self.pool, login_key, now, limit)
    }

    async fn reset_attempt_failed(
        &self,
        login_key: &str,
        now: Timestamp,
        limit: &ResetLimit,
    ) -> Result<Option<Timestamp>, StoreError> {
        shared_sql!(reset_attempt_failed, &self.pool, login_key, now, limit)
    }

    async fn reset_attempt_succeeded(&self, login_key: &str) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "DELETE FROM reset_limits WHERE login_key = $1",
            &self.pool,
            login_key
        )
    }

    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        shared_sql!(
            execute,
            "INSERT INTO audit_events (at, account_id, actor, kind, client, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &self.pool,
            event.at,
            event.account_id,
            &event.actor,
            &event.kind,
            &event.client,
            &event.detail
        )
    }

    async fn ping(&self) -> Result<(), StoreError> {
        shared_sql!(ping, &self.pool)
    }

    async fn purge(&self, retention: &Retention) -> Result<Purged, StoreError> {
        shared_sql!(purge, &self.pool, retention)
    }
}
