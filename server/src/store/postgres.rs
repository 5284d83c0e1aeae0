//! The PostgreSQL implementation of [`Store`], for deployments that run several server
//! instances on one database. The same statements as the SQLite store, in PostgreSQL's
//! dialect; the lockout claim and the other check-and-write steps are single
//! statements or transactions, so they hold across instances.

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
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};

pub struct PgStore {
    pool: PgPool,
}

/// This binary's PostgreSQL schema: the migrations it runs and knows.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl PgStore {
    /// Connects to the PostgreSQL database at `url`, runs the migrations and makes sure
    /// the installation secret exists.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| super::migration_error(e, &MIGRATOR))?;
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
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        // Connection exceptions (08…), shutdowns and "not accepting connections" (57P…,
        // 55000 for a database closed to connections): the database is away.
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "55000") =>
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
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    token_hash: &[u8],
    account: AccountId,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, reauth_at) \
         VALUES ($1, $2, $3, $4, $5)",
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
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    account: AccountId,
    upgrade: Option<HashUpgrade<'_>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE accounts SET failed_count = 0, lockout_count = 0, locked_until = NULL, \
         attempts_in_flight = GREATEST(attempts_in_flight - 1, 0) WHERE id = $1",
    )
    .bind(account)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM sign_in_failures WHERE account_id = $1")
        .bind(account)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    if let Some(upgrade) = upgrade {
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(upgrade.new_hash)
            .bind(account)
            .bind(upgrade.old_hash)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

fn account_from_row(row: &sqlx::postgres::PgRow) -> Result<Account, StoreError> {
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
impl Store for PgStore {
    async fn account_by_login(&self, login_id: &LoginId) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.login_id = $1");
        let row = sqlx::query(&sql)
            .bind(login_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1");
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
             SELECT id, password_hash, password_temporary, $1::bigint FROM accounts WHERE id = $2",
        )
        .bind(now)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "UPDATE accounts SET password_hash = $1, password_temporary = TRUE, \
             temporary_expires_at = $2, password_changed_at = $3, failed_count = 0, \
             lockout_count = 0, locked_until = NULL WHERE id = $4",
        )
        .bind(new_hash)
        .bind(expires_at)
        .bind(now)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        for sql in [
            "DELETE FROM sessions WHERE account_id = $1",
            "DELETE FROM sign_in_failures WHERE account_id = $1",
            "DELETE FROM reset_challenges WHERE account_id = $1",
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
            "UPDATE accounts SET password_hash = $1, password_temporary = TRUE, \
             temporary_expires_at = NULL, password_changed_at = $2::bigint, failed_count = 0, \
             lockout_count = 0, locked_until = NULL, attempts_in_flight = 0, claimed_at = NULL, \
             last_sign_in_at = NULL, reset_notice_at = NULL WHERE id = $3",
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
             (SELECT login_id FROM accounts WHERE id = $1)",
            "DELETE FROM security_answers WHERE account_id = $1",
            "DELETE FROM password_history WHERE account_id = $1",
            "DELETE FROM sessions WHERE account_id = $1",
            "DELETE FROM sign_in_failures WHERE account_id = $1",
            "DELETE FROM reset_challenges WHERE account_id = $1",
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
            "DELETE FROM security_answers WHERE account_id = $1",
            "DELETE FROM sessions WHERE account_id = $1",
            "DELETE FROM reset_challenges WHERE account_id = $1",
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
             FROM accounts a WHERE a.role = 'student' AND a.school_code = $1 \
             AND ($2::text IS NULL OR a.class_name = $2::text) ORDER BY a.class_name, a.full_name, a.id",
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
             VALUES ($1, $2, $3, $4) RETURNING id",
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
            "SELECT school_code, file FROM import_batches WHERE id = $1 AND staff_id = $2",
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
        sqlx::query("DELETE FROM letter_batches WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        let row = sqlx::query(
            "INSERT INTO letter_batches (staff_id, nonce, sealed, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
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
            "SELECT nonce, sealed FROM letter_batches WHERE id = $1 AND staff_id = $2 AND expires_at > $3",
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
                 attempts_in_flight = (CASE WHEN claimed_at IS NULL OR claimed_at < $1 \
                                       THEN 0 ELSE attempts_in_flight END) + 1, \
                 claimed_at = $2 \
             WHERE id = $3 \
               AND (locked_until IS NULL OR locked_until <= $2) \
               AND failed_count + (CASE WHEN claimed_at IS NULL OR claimed_at < $1 \
                                   THEN 0 ELSE attempts_in_flight END) < $4 \
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
            "UPDATE accounts SET attempts_in_flight = GREATEST(attempts_in_flight - 1, 0) WHERE id = $1",
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
            "UPDATE accounts SET attempts_in_flight = GREATEST(attempts_in_flight - 1, 0) WHERE id = $1",
        )
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let inserted = sqlx::query(
            "INSERT INTO sign_in_failures (account_id, fingerprint, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
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
            "UPDATE accounts SET failed_count = failed_count + 1 WHERE id = $1 \
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
                "UPDATE accounts SET locked_until = $1, lockout_count = lockout_count + 1, \
                 failed_count = 0 WHERE id = $2",
            )
            .bind(until)
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            sqlx::query("DELETE FROM sign_in_failures WHERE account_id = $1")
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
        sqlx::query(
            "UPDATE accounts SET last_sign_in_at = $1, reset_notice_at = NULL WHERE id = $2",
        )
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
             WHERE id = $1 RETURNING locked_until",
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
        sqlx::query("UPDATE accounts SET locked_until = NULL WHERE id = $1")
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query("DELETE FROM sign_in_failures WHERE account_id = $1")
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
             WHERE account_id = $1 ORDER BY id",
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
        // One round trip: the touch runs in the same statement (a data-modifying CTE);
        // the SELECT sees the session as it was before it.
        let sql = format!(
            "WITH touched AS ({TOUCH_SESSION} RETURNING 1) {}",
            session_with_account_sql(", EXISTS (SELECT 1 FROM touched) AS touched")
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .bind(seen.map_or(0, |s| s.now))
            .bind(seen.is_some())
            .bind(seen.map_or(0, |s| s.idle_secs))
            .bind(seen.map_or(0, |s| s.absolute_secs))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(|row| {
            Ok(RequestSession {
                record: session_from_row(&row)?,
                account: account_from_row(&row)?,
                touched: row.try_get("touched").map_err(db_error)?,
            })
        })
        .transpose()
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
        sqlx::query("DELETE FROM security_answers WHERE account_id = $1")
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        for (slot, answer) in answers.iter().enumerate() {
            sqlx::query(
                "INSERT INTO security_answers (account_id, slot, question_id, answer_hash, set_at) \
                 VALUES ($1, $2, $3, $4, $5)",
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
            "UPDATE sessions SET pending_questions = NULL, redo_until = NULL WHERE token_hash = $1",
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
            "SELECT question_id, answer_hash FROM security_answers WHERE account_id = $1 ORDER BY slot",
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
            "SELECT password_hash FROM password_history WHERE account_id = $1 ORDER BY id DESC",
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
             SELECT id, password_hash, password_temporary, $1::bigint FROM accounts WHERE id = $2",
        )
        .bind(now)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        // Keep the newest `history` ordinary entries; temporary ones stay for good.
        sqlx::query(
            "DELETE FROM password_history WHERE account_id = $1 AND temporary = FALSE AND id NOT IN \
             (SELECT id FROM password_history WHERE account_id = $1 AND temporary = FALSE \
              ORDER BY id DESC LIMIT $2)",
        )
        .bind(account)
        .bind(i64::try_from(replacement.history).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "UPDATE accounts SET password_hash = $1, password_temporary = FALSE, password_changed_at = $2, \
             reset_notice_at = CASE WHEN $3 THEN $2 ELSE reset_notice_at END, \
             locked_until = CASE WHEN $3 THEN NULL ELSE locked_until END, \
             failed_count = CASE WHEN $3 THEN 0 ELSE failed_count END, \
             lockout_count = CASE WHEN $3 THEN 0 ELSE lockout_count END WHERE id = $4",
        )
        .bind(replacement.new_hash)
        .bind(now)
        .bind(replacement.reset)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if replacement.reset {
            sqlx::query("DELETE FROM reset_challenges WHERE account_id = $1")
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
             VALUES ($1, $2, $3, $4, $5)",
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
             WHERE token_hash = $1",
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
