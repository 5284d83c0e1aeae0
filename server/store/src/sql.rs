//! The SQL store, written once: every statement and every transaction of the
//! [`Store`] port, in the SQL that SQLite and PostgreSQL both run (`$N` placeholders,
//! `ON CONFLICT`, `TRUE`/`FALSE`, `CAST`, `CASE` where one would write `MAX`/`GREATEST`).
//! [`sql_store!`] instantiates it for a back-end's pool (`sqlite.rs`, `postgres.rs`);
//! each back-end supplies only what really differs: how it connects, how its errors
//! read ([`db_error`](crate::sqlite) in each), and how a request's session look-up and
//! touch are combined (`look_up_session`).

/// Statements the store runs, each written once for both back-ends: `$N` placeholders (sqlx binds `$N` to
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
            $crate::SESSION_COLUMNS
        ))
        .bind($token_hash)
        .fetch_optional($pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map($crate::session_from_row).transpose()
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
            .bind(crate::AUDIT_PURGE_CHUNK)
            .execute(pool)
            .await
            .map_err(db_error)?
            .rows_affected();
            purged.audit_events += removed;
            if removed < crate::AUDIT_PURGE_CHUNK as u64 {
                break;
            }
        }
        purged.signing_keys =
            sqlx::query("DELETE FROM oidc_signing_keys WHERE retired_at <= $1")
                .bind(r.signing_keys_retired_before)
                .execute(pool)
                .await
                .map_err(db_error)?
                .rows_affected();
        purged.codes = sqlx::query("DELETE FROM oidc_codes WHERE expires_at <= $1")
            .bind(r.grants_expired_before)
            .execute(pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        purged.access_tokens = sqlx::query("DELETE FROM oidc_access_tokens WHERE expires_at <= $1")
            .bind(r.grants_expired_before)
            .execute(pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        Ok(purged)
    }};
}

/// Implements [`Store`](portal_core::ports::Store) for `$store` (a struct with a
/// `pool: sqlx::Pool<$db>` field) in a child module, from the one text below. The
/// back-end's module provides `db_error(sqlx::Error) -> StoreError` and
/// `look_up_session(&Pool, &[u8], Option<SeenAt>)`.
macro_rules! sql_store {
    ($store:ident, $db:ty) => {
        mod sql {
        use async_trait::async_trait;
        use domain::login_id::LoginId;
        use domain::provisioning::Role;
        use domain::secret::Secret;
        use portal_core::ports::{
            AccessTokenRecord, Accounts, Audit, ClientRecord, ClientTile, CodeRecord,
            Federation, Lockout, Resets, Sessions, SigningKeyRecord,
            StaffRecords, Upkeep,
            Account, AccountId, AuditEvent, ChallengeRecord, FailureOutcome, HashUpgrade,
            LockoutPolicy, NewAccount, PasswordReplacement, Purged, RequestSession, ResetClaim,
            ResetLimit, Retention, SeenAt, SessionRecord, StoreError, StoredAnswer,
            StudentStatus, Timestamp,
        };
        use sqlx::Row;

        use crate::{parse_slots, slots_text, ACCOUNT_COLUMNS};
        use super::db_error;

        /// A new session row, inside the caller's transaction (sign-in, password change).
        async fn insert_session(
            tx: &mut sqlx::Transaction<'_, $db>,
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

        /// An audit event: on its own (the pool), or inside the transaction of the
        /// change it records, so both are committed or neither.
        async fn insert_audit<'e, E>(executor: E, event: &AuditEvent) -> Result<(), StoreError>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            sqlx::query(
                "INSERT INTO audit_events (at, account_id, actor, kind, client, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(event.at)
            .bind(event.account_id)
            .bind(&event.actor)
            .bind(&event.kind)
            .bind(&event.client)
            .bind(&event.detail)
            .execute(executor)
            .await
            .map_err(db_error)?;
            Ok(())
        }

        /// A claimed check found the right password: end the claim, clear the failure streak
        /// and lockouts, and swap in an upgraded hash if the stored one is still the one checked.
        /// With `signed_in_at`, the same statement records the sign-in (and clears the
        /// "your password was reset" notice it showed).
        async fn confirm_password(
            tx: &mut sqlx::Transaction<'_, $db>,
            account: AccountId,
            upgrade: Option<HashUpgrade<'_>>,
            signed_in_at: Option<Timestamp>,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "UPDATE accounts SET failed_count = 0, lockout_count = 0, locked_until = NULL, \
                 attempts_in_flight = CASE WHEN attempts_in_flight > 0 THEN attempts_in_flight - 1 ELSE 0 END, \
                 last_sign_in_at = CASE WHEN $2 THEN $3 ELSE last_sign_in_at END, \
                 reset_notice_at = CASE WHEN $2 THEN NULL ELSE reset_notice_at END WHERE id = $1",
            )
            .bind(account)
            .bind(signed_in_at.is_some())
            .bind(signed_in_at.unwrap_or(0))
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

        fn account_from_row(row: &<$db as sqlx::Database>::Row) -> Result<Account, StoreError> {
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
        impl Accounts for super::$store {
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

            async fn count_accounts_outside(&self, school: &str) -> Result<i64, StoreError> {
                shared_sql!(
                    count,
                    "SELECT COUNT(*) AS n FROM accounts WHERE school_code IS NULL OR school_code <> $1",
                    &self.pool,
                    school
                )
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
                     SELECT id, password_hash, password_temporary, CAST($1 AS BIGINT) FROM accounts WHERE id = $2",
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
                insert_audit(&mut *tx, replacement.audit).await?;
                tx.commit().await.map_err(db_error)
            }

            async fn save_answers(
                &self,
                account: AccountId,
                answers: &[StoredAnswer],
                token_hash: &[u8],
                now: Timestamp,
                audit: &AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query("DELETE FROM security_answers WHERE account_id = $1")
                    .bind(account)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                // Every answer in one statement (one round trip, not one per answer).
                if !answers.is_empty() {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO security_answers (account_id, slot, question_id, answer_hash, set_at) ",
                    );
                    insert.push_values(answers.iter().enumerate(), |mut row, (slot, answer)| {
                        row.push_bind(account)
                            .push_bind(slot as i64)
                            .push_bind(&answer.question_id)
                            .push_bind(&answer.answer_hash)
                            .push_bind(now);
                    });
                    insert
                        .build()
                        .persistent(true)
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
                insert_audit(&mut *tx, audit).await?;
                tx.commit().await.map_err(db_error)
            }
        }

        #[async_trait]
        impl Sessions for super::$store {
            async fn start_session(
                &self,
                token_hash: &[u8],
                account: AccountId,
                now: Timestamp,
                upgrade: Option<HashUpgrade<'_>>,
                audit: &AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                confirm_password(&mut tx, account, upgrade, Some(now)).await?;
                insert_session(&mut tx, token_hash, account, now).await?;
                insert_audit(&mut *tx, audit).await?;
                tx.commit().await.map_err(db_error)
            }

            async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
                shared_sql!(session, &self.pool, token_hash)
            }

            async fn session_for_request(
                &self,
                token_hash: &[u8],
                seen: Option<SeenAt>,
            ) -> Result<Option<RequestSession>, StoreError> {
                // The one dialect difference: how the look-up and the touch are combined.
                let Some((row, touched)) = super::look_up_session(&self.pool, token_hash, seen).await?
                else {
                    return Ok(None);
                };
                Ok(Some(RequestSession {
                    record: crate::session_from_row(&row)?,
                    account: account_from_row(&row)?,
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
        }

        #[async_trait]
        impl Lockout for super::$store {
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
                    "UPDATE accounts SET attempts_in_flight = CASE WHEN attempts_in_flight > 0 THEN attempts_in_flight - 1 ELSE 0 END WHERE id = $1",
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
                    "UPDATE accounts SET attempts_in_flight = CASE WHEN attempts_in_flight > 0 THEN attempts_in_flight - 1 ELSE 0 END WHERE id = $1",
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

            async fn password_confirmed(
                &self,
                account: AccountId,
                upgrade: Option<HashUpgrade<'_>>,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                confirm_password(&mut tx, account, upgrade, None).await?;
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
        }

        #[async_trait]
        impl Resets for super::$store {
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
        }

        #[async_trait]
        impl StaffRecords for super::$store {
            async fn add_school(&self, code: &str, name: &str) -> Result<bool, StoreError> {
                shared_sql!(add_school, &self.pool, code, name)
            }

            async fn school_name(&self, code: &str) -> Result<Option<String>, StoreError> {
                shared_sql!(school_name, &self.pool, code)
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
                     AND (CAST($2 AS TEXT) IS NULL OR a.class_name = CAST($2 AS TEXT)) ORDER BY a.class_name NULLS FIRST, a.full_name, a.id",
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
                     SELECT id, password_hash, password_temporary, CAST($1 AS BIGINT) FROM accounts WHERE id = $2",
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

            async fn restart_practice_account(
                &self,
                account: AccountId,
                hash: &str,
                now: Timestamp,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query(
                    "UPDATE accounts SET password_hash = $1, password_temporary = TRUE, \
                     temporary_expires_at = NULL, password_changed_at = CAST($2 AS BIGINT), failed_count = 0, \
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
        }

        #[async_trait]
        impl Audit for super::$store {
            async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
                insert_audit(&self.pool, &event).await
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
        }

        #[async_trait]
        impl Upkeep for super::$store {
            async fn installation_secret(&self) -> Result<Vec<u8>, StoreError> {
                let row = sqlx::query("SELECT secret FROM installation WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_error)?;
                row.try_get("secret").map_err(db_error)
            }

            async fn ping(&self) -> Result<(), StoreError> {
                shared_sql!(ping, &self.pool)
            }

            async fn purge(&self, retention: &Retention) -> Result<Purged, StoreError> {
                shared_sql!(purge, &self.pool, retention)
            }
        }

        #[async_trait]
        impl Federation for super::$store {
            async fn add_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
                let roles: Vec<&str> = client.roles.iter().map(|role| role.as_str()).collect();
                sqlx::query(
                    "INSERT INTO oidc_clients (client_id, name, secret_hash, redirect_uris, roles, \
                     tile_title, tile_description, created_at, launch_uri) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&client.client_id)
                .bind(&client.name)
                .bind(&client.secret_hash)
                .bind(client.redirect_uris.join("\n"))
                .bind(roles.join(","))
                .bind(client.tile.as_ref().map(|tile| &tile.title))
                .bind(client.tile.as_ref().and_then(|tile| tile.description.as_ref()))
                .bind(client.created_at)
                .bind(&client.launch_uri)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(())
            }

            async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE client_id = $1");
                let row = sqlx::query(&sql)
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                row.as_ref().map(client_from_row).transpose()
            }

            async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
                let sql = format!(
                    "SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY created_at, client_id"
                );
                let rows = sqlx::query(&sql)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_error)?;
                rows.iter().map(client_from_row).collect()
            }

            async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM oidc_clients WHERE client_id = $1")
                    .bind(client_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn add_first_signing_key(
                &self,
                key: &SigningKeyRecord,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "INSERT INTO oidc_signing_keys (kid, algorithm, private_pem, public_jwk, \
                     created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(&key.kid)
                .bind(&key.algorithm)
                .bind(key.private_pem.expose())
                .bind(&key.public_jwk)
                .bind(key.created_at)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn rotate_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query(
                    "UPDATE oidc_signing_keys SET retired_at = $1 \
                     WHERE algorithm = $2 AND retired_at IS NULL",
                )
                .bind(key.created_at)
                .bind(&key.algorithm)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                sqlx::query(
                    "INSERT INTO oidc_signing_keys (kid, algorithm, private_pem, public_jwk, \
                     created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&key.kid)
                .bind(&key.algorithm)
                .bind(key.private_pem.expose())
                .bind(&key.public_jwk)
                .bind(key.created_at)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                tx.commit().await.map_err(db_error)
            }

            async fn signing_keys(
                &self,
                retired_after: Timestamp,
            ) -> Result<Vec<SigningKeyRecord>, StoreError> {
                let rows = sqlx::query(
                    "SELECT kid, algorithm, private_pem, public_jwk, created_at, retired_at \
                     FROM oidc_signing_keys WHERE retired_at IS NULL OR retired_at > $1 \
                     ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, \
                       created_at DESC, kid",
                )
                .bind(retired_after)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                rows.iter()
                    .map(|row| {
                        Ok(SigningKeyRecord {
                            kid: row.try_get("kid").map_err(db_error)?,
                            algorithm: row.try_get("algorithm").map_err(db_error)?,
                            private_pem: Secret::new(
                                row.try_get::<String, _>("private_pem").map_err(db_error)?,
                            ),
                            public_jwk: row.try_get("public_jwk").map_err(db_error)?,
                            created_at: row.try_get("created_at").map_err(db_error)?,
                            retired_at: row.try_get("retired_at").map_err(db_error)?,
                        })
                    })
                    .collect()
            }

            async fn subject(
                &self,
                account: AccountId,
                candidate: &str,
            ) -> Result<String, StoreError> {
                // Read first: after an account's first sign-on, every token and
                // userinfo call finds it without a write.
                let stored: Option<String> = sqlx::query_scalar(SUBJECT)
                        .bind(account)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_error)?;
                if let Some(subject) = stored {
                    return Ok(subject);
                }
                sqlx::query(
                    "INSERT INTO oidc_subjects (account_id, subject) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(account)
                .bind(candidate)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                sqlx::query_scalar(SUBJECT)
                    .bind(account)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_error)
            }

            async fn add_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO oidc_codes (code_hash, client_id, account_id, redirect_uri, \
                     code_challenge, nonce, scope, auth_time, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&code.code_hash)
                .bind(&code.client_id)
                .bind(code.account_id)
                .bind(&code.redirect_uri)
                .bind(&code.code_challenge)
                .bind(&code.nonce)
                .bind(&code.scope)
                .bind(code.auth_time)
                .bind(code.created_at)
                .bind(code.expires_at)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(())
            }

            async fn code(&self, code_hash: &[u8]) -> Result<Option<CodeRecord>, StoreError> {
                let row = sqlx::query(
                    "SELECT client_id, account_id, redirect_uri, code_challenge, nonce, scope, \
                     auth_time, created_at, expires_at, redeemed_at \
                     FROM oidc_codes WHERE code_hash = $1",
                )
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
                row.map(|row| {
                    Ok(CodeRecord {
                        code_hash: code_hash.to_vec(),
                        client_id: row.try_get("client_id").map_err(db_error)?,
                        account_id: row.try_get("account_id").map_err(db_error)?,
                        redirect_uri: row.try_get("redirect_uri").map_err(db_error)?,
                        code_challenge: row.try_get("code_challenge").map_err(db_error)?,
                        nonce: row.try_get("nonce").map_err(db_error)?,
                        scope: row.try_get("scope").map_err(db_error)?,
                        auth_time: row.try_get("auth_time").map_err(db_error)?,
                        created_at: row.try_get("created_at").map_err(db_error)?,
                        expires_at: row.try_get("expires_at").map_err(db_error)?,
                        redeemed_at: row.try_get("redeemed_at").map_err(db_error)?,
                    })
                })
                .transpose()
            }

            async fn redeem_code(
                &self,
                code_hash: &[u8],
                now: Timestamp,
                token: &AccessTokenRecord,
            ) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                // Of two redemptions at once, one sets `redeemed_at`; the other waits for
                // its commit (the row is locked) and then revokes what it issued.
                let first = sqlx::query(
                    "UPDATE oidc_codes SET redeemed_at = $1 \
                     WHERE code_hash = $2 AND redeemed_at IS NULL",
                )
                .bind(now)
                .bind(code_hash)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected()
                    == 1;
                if first {
                    sqlx::query(
                        "INSERT INTO oidc_access_tokens (token_hash, code_hash, client_id, \
                         account_id, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&token.token_hash)
                    .bind(code_hash)
                    .bind(&token.client_id)
                    .bind(token.account_id)
                    .bind(&token.scope)
                    .bind(token.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                } else {
                    sqlx::query("DELETE FROM oidc_access_tokens WHERE code_hash = $1")
                        .bind(code_hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)?;
                Ok(first)
            }

            async fn access_token(
                &self,
                token_hash: &[u8],
            ) -> Result<Option<AccessTokenRecord>, StoreError> {
                let row = sqlx::query(
                    "SELECT code_hash, client_id, account_id, scope, expires_at \
                     FROM oidc_access_tokens WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
                row.map(|row| {
                    Ok(AccessTokenRecord {
                        token_hash: token_hash.to_vec(),
                        code_hash: row.try_get("code_hash").map_err(db_error)?,
                        client_id: row.try_get("client_id").map_err(db_error)?,
                        account_id: row.try_get("account_id").map_err(db_error)?,
                        scope: row.try_get("scope").map_err(db_error)?,
                        expires_at: row.try_get("expires_at").map_err(db_error)?,
                    })
                })
                .transpose()
            }
        }

        /// An account's `sub`.
        const SUBJECT: &str = "SELECT subject FROM oidc_subjects WHERE account_id = $1";

        /// A client's columns, read by [`client_from_row`].
        const CLIENT_COLUMNS: &str = "client_id, name, secret_hash, redirect_uris, roles, \
             tile_title, tile_description, created_at, launch_uri";

        fn client_from_row(row: &<$db as sqlx::Database>::Row) -> Result<ClientRecord, StoreError> {
            let redirect_uris: String = row.try_get("redirect_uris").map_err(db_error)?;
            let roles: String = row.try_get("roles").map_err(db_error)?;
            let tile_title: Option<String> = row.try_get("tile_title").map_err(db_error)?;
            Ok(ClientRecord {
                client_id: row.try_get("client_id").map_err(db_error)?,
                name: row.try_get("name").map_err(db_error)?,
                secret_hash: row.try_get("secret_hash").map_err(db_error)?,
                redirect_uris: redirect_uris.lines().map(str::to_string).collect(),
                roles: roles
                    .split(',')
                    .filter(|name| !name.is_empty())
                    .map(|name| {
                        Role::parse(name)
                            .ok_or_else(|| StoreError::Other(format!("unknown role {name:?}")))
                    })
                    .collect::<Result<_, _>>()?,
                tile: match tile_title {
                    Some(title) => Some(ClientTile {
                        title,
                        description: row.try_get("tile_description").map_err(db_error)?,
                    }),
                    None => None,
                },
                launch_uri: row.try_get("launch_uri").map_err(db_error)?,
                created_at: row.try_get("created_at").map_err(db_error)?,
            })
        }
        }
    };
}
