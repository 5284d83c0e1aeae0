//! Test fakes of the ports, in memory: [`MemoryStore`] (every store port), [`FakeHasher`]
//! (a fast stand-in for argon2) and [`FakeClock`] (a clock that moves only when told).
//!
//! **For tests only.** The hasher is one salted SHA-256 (no work factor at all) and the
//! store forgets everything when dropped. They live in the library, not behind
//! `cfg(test)`, so that the tests of every crate can use them: `portal_core`'s service
//! tests run on them in milliseconds, and the store's contract suite
//! (`server/store/tests/contract.rs`) runs the same assertions against [`MemoryStore`]
//! as against SQLite and PostgreSQL, which pins the fake to the SQL store's behaviour.
//!
//! [`MemoryStore`] follows the SQL store (`server/store/src/sql.rs`) statement by
//! statement: each method is one critical section under one mutex, so whatever the SQL
//! store does in one statement or one transaction is atomic here too, and a method that
//! fails (a unique key taken, a foreign key missing) changes nothing, as a rolled-back
//! transaction would. The constraints of the schema are kept: a login ID, session token
//! or challenge token taken is [`StoreError::Conflict`]; a row that refers to a missing
//! account or school is [`StoreError::Other`], as a foreign-key violation is.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::ports::{
    AccessTokenRecord, Account, AccountId, Accounts, Audit, AuditEvent, ChallengeRecord,
    ClientRecord, Clock, CodeRecord, FailureOutcome, Federation, HashError, HashUpgrade, Lockout,
    LockoutPolicy, NewAccount, PasswordReplacement, Purged, RequestSession, ResetClaim, ResetLimit,
    Resets, Retention, SecretHasher, SeenAt, SessionRecord, Sessions, SigningKeyRecord,
    StaffRecords, StoreError, StoredAnswer, StudentStatus, Timestamp, Upkeep, Verification,
};
use domain::login_id::LoginId;
use domain::provisioning::Role;
use domain::secret::Secret;

// ---- the store ------------------------------------------------------------------------

/// Every store port in memory, behaving like the SQL store (see the module's
/// documentation). For tests only.
pub struct MemoryStore {
    state: Mutex<State>,
    secret: Vec<u8>,
    unavailable: AtomicBool,
}

/// The "tables". Rows refer to each other by id, as in the schema.
#[derive(Default)]
struct State {
    accounts: BTreeMap<AccountId, AccountRow>,
    /// The unique index on `accounts.login_id` (as stored, case and all).
    login_ids: HashMap<String, AccountId>,
    /// `security_answers`: the answers of an account, by slot (0, 1, 2).
    answers: HashMap<AccountId, Vec<StoredAnswer>>,
    sessions: HashMap<Vec<u8>, SessionRow>,
    /// `sign_in_failures`: one row per (account, fingerprint), with when.
    failures: BTreeMap<(AccountId, Vec<u8>), Timestamp>,
    password_history: BTreeMap<i64, HistoryRow>,
    challenges: HashMap<Vec<u8>, ChallengeRecord>,
    reset_limits: HashMap<String, LimitRow>,
    unknown_sign_ins: HashMap<String, UnknownRow>,
    schools: HashMap<String, String>,
    import_batches: BTreeMap<i64, ImportRow>,
    letter_batches: BTreeMap<i64, LetterRow>,
    audit_events: BTreeMap<i64, AuditEvent>,
    /// `oidc_clients`, in the order they were registered.
    clients: Vec<ClientRecord>,
    /// `oidc_signing_keys`.
    signing_keys: Vec<SigningKeyRecord>,
    /// `oidc_subjects`: the `sub` of each account that signed in to an app.
    subjects: HashMap<AccountId, String>,
    /// `oidc_codes`, by their hash.
    codes: BTreeMap<Vec<u8>, CodeRecord>,
    /// `oidc_access_tokens`, by their hash.
    access_tokens: BTreeMap<Vec<u8>, AccessTokenRecord>,
    /// The last id given per table (ids start at 1 and are never reused).
    sequences: Sequences,
}

#[derive(Default)]
struct Sequences {
    accounts: i64,
    password_history: i64,
    import_batches: i64,
    letter_batches: i64,
    audit_events: i64,
}

fn next(sequence: &mut i64) -> i64 {
    *sequence = sequence.saturating_add(1);
    *sequence
}

struct AccountRow {
    login_id: String,
    full_name: String,
    password_hash: String,
    password_temporary: bool,
    /// Written as the SQL store writes it; no port reads it back.
    _created_at: Timestamp,
    password_changed_at: Option<Timestamp>,
    last_sign_in_at: Option<Timestamp>,
    failed_count: i64,
    attempts_in_flight: i64,
    claimed_at: Option<Timestamp>,
    locked_until: Option<Timestamp>,
    lockout_count: i64,
    reset_notice_at: Option<Timestamp>,
    role: Role,
    school_code: Option<String>,
    class_name: Option<String>,
    temporary_expires_at: Option<Timestamp>,
    register_no: Option<String>,
}

impl AccountRow {
    /// `attempts_in_flight` less one, never below zero (a claim ends).
    fn end_claim(&mut self) {
        self.attempts_in_flight = (self.attempts_in_flight - 1).max(0);
    }
}

struct SessionRow {
    account_id: AccountId,
    created_at: Timestamp,
    last_seen_at: Timestamp,
    pending_questions: Option<String>,
    reauth_at: Timestamp,
    redo_until: Option<Timestamp>,
}

impl SessionRow {
    fn record(&self) -> SessionRecord {
        SessionRecord {
            account_id: self.account_id,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            pending_questions: self.pending_questions.clone(),
            reauth_at: self.reauth_at,
            redo_until: self.redo_until,
        }
    }
}

struct HistoryRow {
    account_id: AccountId,
    password_hash: String,
    temporary: bool,
    _replaced_at: Timestamp,
}

/// A forgot-password bucket: `level` thousandths of a wrong answer as of `level_at`.
struct LimitRow {
    level: i64,
    level_at: Timestamp,
    blocked_until: Option<Timestamp>,
}

struct UnknownRow {
    attempts_in_flight: i64,
    claimed_at: Timestamp,
    failed_count: i64,
    _last_failed_at: Option<Timestamp>,
}

struct ImportRow {
    school_code: String,
    staff_id: AccountId,
    file: Vec<u8>,
    created_at: Timestamp,
}

struct LetterRow {
    staff_id: AccountId,
    nonce: Vec<u8>,
    sealed: Vec<u8>,
    _created_at: Timestamp,
    expires_at: Timestamp,
}

/// What a foreign-key violation is to the SQL store: neither a conflict nor an outage.
fn missing(what: &str) -> StoreError {
    StoreError::Other(format!(
        "FOREIGN KEY constraint failed: no such {what} (in-memory store)"
    ))
}

impl MemoryStore {
    /// An empty store with a random installation secret of its own.
    pub fn new() -> Self {
        let mut secret = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        Self {
            state: Mutex::new(State::default()),
            secret,
            unavailable: AtomicBool::new(false),
        }
    }

    /// Makes every call fail with [`StoreError::Unavailable`] (`true`), as a database
    /// that does not answer, until switched back (`false`). Nothing changes meanwhile.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Every audit event, oldest first, those of no account (the command line's) too:
    /// what a test reads where the port only gives one account's trail.
    pub fn all_audit_events(&self) -> Vec<AuditEvent> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.audit_events.values().cloned().collect()
    }

    /// The tables, for one method's critical section; refused while switched off.
    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "the in-memory store is switched off".into(),
            ));
        }
        // A panic elsewhere while holding the lock leaves the tables as whole rows.
        Ok(self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("unavailable", &self.unavailable.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl State {
    /// An account as the SQL store reads it (`ACCOUNT_COLUMNS`): the login ID parsed
    /// again, and whether any answers exist.
    fn account_out(&self, id: AccountId, row: &AccountRow) -> Result<Account, StoreError> {
        Ok(Account {
            id,
            login_id: LoginId::parse(&row.login_id).ok_or_else(|| {
                StoreError::Other(format!("malformed login ID {:?}", row.login_id))
            })?,
            full_name: row.full_name.clone(),
            password_hash: row.password_hash.clone(),
            temporary_password: row.password_temporary,
            questions_set: self.answers.get(&id).is_some_and(|a| !a.is_empty()),
            locked_until: row.locked_until,
            reset_notice_at: row.reset_notice_at,
            role: row.role,
            school_code: row.school_code.clone(),
            class_name: row.class_name.clone(),
            temporary_expires_at: row.temporary_expires_at,
            last_sign_in_at: row.last_sign_in_at,
        })
    }

    fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.accounts
            .get(&id)
            .map(|row| self.account_out(id, row))
            .transpose()
    }

    fn insert_accounts(
        &mut self,
        accounts: &[NewAccount],
        now: Timestamp,
    ) -> Result<Vec<AccountId>, StoreError> {
        // Every row's constraints first (the unique login ID, then the school's foreign
        // key, in the order the database checks them): one bad row, nothing goes in.
        let mut batch = std::collections::HashSet::new();
        for account in accounts {
            if self.login_ids.contains_key(&account.login_id)
                || !batch.insert(account.login_id.as_str())
            {
                return Err(StoreError::Conflict);
            }
            if let Some(school) = &account.school_code {
                if !self.schools.contains_key(school) {
                    return Err(missing("school"));
                }
            }
        }
        let mut ids = Vec::with_capacity(accounts.len());
        for account in accounts {
            let id = next(&mut self.sequences.accounts);
            self.login_ids.insert(account.login_id.clone(), id);
            self.accounts.insert(
                id,
                AccountRow {
                    login_id: account.login_id.clone(),
                    full_name: account.full_name.clone(),
                    password_hash: account.password_hash.clone(),
                    password_temporary: account.temporary_password,
                    _created_at: now,
                    password_changed_at: None,
                    last_sign_in_at: None,
                    failed_count: 0,
                    attempts_in_flight: 0,
                    claimed_at: None,
                    locked_until: None,
                    lockout_count: 0,
                    reset_notice_at: None,
                    role: account.role,
                    school_code: account.school_code.clone(),
                    class_name: account.class_name.clone(),
                    temporary_expires_at: account.temporary_expires_at,
                    register_no: account.register_no.clone(),
                },
            );
            ids.push(id);
        }
        Ok(ids)
    }

    /// Whether a new session row could go in: its token unused (`replacing`: except by
    /// a session of this account, deleted first in the same transaction), its account
    /// there.
    fn check_new_session(
        &self,
        token_hash: &[u8],
        account: AccountId,
        replacing: bool,
    ) -> Result<(), StoreError> {
        if let Some(existing) = self.sessions.get(token_hash) {
            if !(replacing && existing.account_id == account) {
                return Err(StoreError::Conflict);
            }
        }
        if !self.accounts.contains_key(&account) {
            return Err(missing("account"));
        }
        Ok(())
    }

    /// Whether `event` could go in (its account there: the foreign key).
    fn check_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        match event.account_id {
            Some(account) if !self.accounts.contains_key(&account) => Err(missing("account")),
            _ => Ok(()),
        }
    }

    fn insert_audit(&mut self, event: &AuditEvent) {
        let id = next(&mut self.sequences.audit_events);
        self.audit_events.insert(id, event.clone());
    }

    fn insert_session(&mut self, token_hash: &[u8], account: AccountId, now: Timestamp) {
        self.sessions.insert(
            token_hash.to_vec(),
            SessionRow {
                account_id: account,
                created_at: now,
                last_seen_at: now,
                pending_questions: None,
                reauth_at: now,
                redo_until: None,
            },
        );
    }

    /// The old hash goes to the history, as `INSERT … SELECT … FROM accounts` does.
    fn keep_in_history(&mut self, account: AccountId, now: Timestamp) {
        if let Some(row) = self.accounts.get(&account) {
            let entry = HistoryRow {
                account_id: account,
                password_hash: row.password_hash.clone(),
                temporary: row.password_temporary,
                _replaced_at: now,
            };
            let id = next(&mut self.sequences.password_history);
            self.password_history.insert(id, entry);
        }
    }

    fn delete_sessions_of(&mut self, account: AccountId) {
        self.sessions.retain(|_, s| s.account_id != account);
    }

    fn delete_failures_of(&mut self, account: AccountId) {
        self.failures.retain(|(a, _), _| *a != account);
    }

    fn delete_challenges_of(&mut self, account: AccountId) {
        self.challenges.retain(|_, c| c.account_id != Some(account));
    }

    /// A claimed check found the right password (`confirm_password` of the SQL store).
    fn confirm_password(&mut self, account: AccountId, upgrade: Option<HashUpgrade<'_>>) {
        if let Some(row) = self.accounts.get_mut(&account) {
            row.failed_count = 0;
            row.lockout_count = 0;
            row.locked_until = None;
            row.end_claim();
            if let Some(upgrade) = upgrade {
                if row.password_hash == upgrade.old_hash {
                    row.password_hash = upgrade.new_hash.to_string();
                }
            }
        }
        self.delete_failures_of(account);
    }
}

#[async_trait]
impl Accounts for MemoryStore {
    async fn account_by_login(&self, login_id: &LoginId) -> Result<Option<Account>, StoreError> {
        let s = self.state()?;
        match s.login_ids.get(login_id.as_str()) {
            Some(id) => s.account(*id),
            None => Ok(None),
        }
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.state()?.account(id)
    }

    async fn insert_account(
        &self,
        account: NewAccount,
        now: Timestamp,
    ) -> Result<AccountId, StoreError> {
        self.state()?
            .insert_accounts(std::slice::from_ref(&account), now)?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Other("the insert returned no id".into()))
    }

    async fn insert_accounts(
        &self,
        accounts: &[NewAccount],
        now: Timestamp,
    ) -> Result<Vec<AccountId>, StoreError> {
        self.state()?.insert_accounts(accounts, now)
    }

    async fn count_accounts(&self) -> Result<i64, StoreError> {
        let s = self.state()?;
        Ok(i64::try_from(s.accounts.len()).unwrap_or(i64::MAX))
    }

    async fn count_accounts_outside(&self, school: &str) -> Result<i64, StoreError> {
        let s = self.state()?;
        let outside = s
            .accounts
            .values()
            .filter(|a| a.school_code.as_deref() != Some(school))
            .count();
        Ok(i64::try_from(outside).unwrap_or(i64::MAX))
    }

    async fn existing_login_ids(&self, login_ids: &[String]) -> Result<Vec<String>, StoreError> {
        let s = self.state()?;
        let wanted: std::collections::HashSet<&str> =
            login_ids.iter().map(String::as_str).collect();
        Ok(s.accounts
            .values()
            .filter(|a| wanted.contains(a.login_id.as_str()))
            .map(|a| a.login_id.clone())
            .collect())
    }

    async fn students_named(
        &self,
        school: &str,
        class: &str,
        full_name: &str,
        register_no: Option<&str>,
    ) -> Result<Vec<Account>, StoreError> {
        let s = self.state()?;
        // `$4 IS NULL OR register_no IS NULL OR register_no = $4`, ordered by
        // `CASE WHEN register_no = $4 THEN 0 ELSE 1 END, id` (a NULL never equals).
        let mut found: Vec<(u8, AccountId)> = s
            .accounts
            .iter()
            .filter(|(_, a)| {
                a.role == Role::Student
                    && a.school_code.as_deref() == Some(school)
                    && a.class_name.as_deref() == Some(class)
                    && a.full_name == full_name
                    && (register_no.is_none()
                        || a.register_no.is_none()
                        || a.register_no.as_deref() == register_no)
            })
            .map(|(id, a)| {
                let exact = register_no.is_some() && a.register_no.as_deref() == register_no;
                (u8::from(!exact), *id)
            })
            .collect();
        found.sort_unstable();
        found
            .into_iter()
            .filter_map(|(_, id)| s.accounts.get(&id).map(|row| s.account_out(id, row)))
            .collect()
    }

    async fn answers(&self, account: AccountId) -> Result<Vec<StoredAnswer>, StoreError> {
        let s = self.state()?;
        Ok(s.answers.get(&account).cloned().unwrap_or_default())
    }

    async fn password_history(&self, account: AccountId) -> Result<Vec<String>, StoreError> {
        let s = self.state()?;
        Ok(s.password_history
            .values()
            .rev()
            .filter(|h| h.account_id == account)
            .map(|h| h.password_hash.clone())
            .collect())
    }

    async fn replace_password(
        &self,
        account: AccountId,
        replacement: PasswordReplacement<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut s = self.state()?;
        // The statements that can fail are the new session's and the audit event's
        // inserts: checked first, so a failure changes nothing (the transaction's
        // rollback).
        if let Some(token_hash) = replacement.new_session {
            s.check_new_session(token_hash, account, true)?;
        }
        s.check_audit(replacement.audit)?;
        s.keep_in_history(account, now);
        // Keep the newest `history` ordinary entries; temporary ones stay for good.
        let kept: std::collections::HashSet<i64> = s
            .password_history
            .iter()
            .rev()
            .filter(|(_, h)| h.account_id == account && !h.temporary)
            .take(replacement.history)
            .map(|(id, _)| *id)
            .collect();
        s.password_history
            .retain(|id, h| h.account_id != account || h.temporary || kept.contains(id));
        if let Some(row) = s.accounts.get_mut(&account) {
            row.password_hash = replacement.new_hash.to_string();
            row.password_temporary = false;
            row.password_changed_at = Some(now);
            if replacement.reset {
                // The failure streak's fingerprints stay (as in the SQL store): only
                // the counts and the lock go.
                row.reset_notice_at = Some(now);
                row.locked_until = None;
                row.failed_count = 0;
                row.lockout_count = 0;
            }
        }
        s.delete_sessions_of(account);
        if replacement.reset {
            s.delete_challenges_of(account);
        }
        if let Some(token_hash) = replacement.new_session {
            s.insert_session(token_hash, account, now);
        }
        s.insert_audit(replacement.audit);
        Ok(())
    }

    async fn save_answers(
        &self,
        account: AccountId,
        answers: &[StoredAnswer],
        token_hash: &[u8],
        _now: Timestamp,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut s = self.state()?;
        if !answers.is_empty() && !s.accounts.contains_key(&account) {
            return Err(missing("account"));
        }
        s.check_audit(audit)?;
        if answers.len() > domain::answers::QUESTION_COUNT {
            // `CHECK (slot BETWEEN 0 AND 2)`.
            return Err(StoreError::Other(
                "CHECK constraint failed: slot (in-memory store)".into(),
            ));
        }
        if answers.is_empty() {
            s.answers.remove(&account);
        } else {
            s.answers.insert(account, answers.to_vec());
        }
        if let Some(session) = s.sessions.get_mut(token_hash) {
            session.pending_questions = None;
            session.redo_until = None;
        }
        s.insert_audit(audit);
        Ok(())
    }
}

#[async_trait]
impl Sessions for MemoryStore {
    async fn start_session(
        &self,
        token_hash: &[u8],
        account: AccountId,
        now: Timestamp,
        upgrade: Option<HashUpgrade<'_>>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut s = self.state()?;
        s.check_new_session(token_hash, account, false)?;
        s.check_audit(audit)?;
        if let Some(row) = s.accounts.get_mut(&account) {
            row.last_sign_in_at = Some(now);
            row.reset_notice_at = None;
        }
        s.confirm_password(account, upgrade);
        s.insert_session(token_hash, account, now);
        s.insert_audit(audit);
        Ok(())
    }

    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .state()?
            .sessions
            .get(token_hash)
            .map(SessionRow::record))
    }

    async fn session_for_request(
        &self,
        token_hash: &[u8],
        seen: Option<SeenAt>,
    ) -> Result<Option<RequestSession>, StoreError> {
        let mut s = self.state()?;
        let Some(session) = s.sessions.get(token_hash) else {
            return Ok(None);
        };
        let record = session.record();
        let Some(row) = s.accounts.get(&record.account_id) else {
            return Ok(None);
        };
        let account = s.account_out(record.account_id, row)?;
        // `TOUCH_SESSION`: later than the last use and within both limits.
        let touched = match (seen, s.sessions.get_mut(token_hash)) {
            (Some(seen), Some(session))
                if session.last_seen_at < seen.now
                    && seen.now.saturating_sub(session.last_seen_at) < seen.idle_secs
                    && seen.now.saturating_sub(session.created_at) < seen.absolute_secs =>
            {
                session.last_seen_at = seen.now;
                true
            }
            _ => false,
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
        if let Some(session) = self.state()?.sessions.get_mut(token_hash) {
            session.pending_questions = pending.map(str::to_string);
        }
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.state()?.sessions.remove(token_hash);
        Ok(())
    }

    async fn set_reauth(&self, token_hash: &[u8], now: Timestamp) -> Result<(), StoreError> {
        if let Some(session) = self.state()?.sessions.get_mut(token_hash) {
            session.reauth_at = now;
        }
        Ok(())
    }

    async fn set_redo_questions(
        &self,
        token_hash: &[u8],
        until: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        if let Some(session) = self.state()?.sessions.get_mut(token_hash) {
            session.redo_until = until;
            session.pending_questions = None;
        }
        Ok(())
    }
}

#[async_trait]
impl Lockout for MemoryStore {
    async fn claim_attempt(
        &self,
        account: AccountId,
        now: Timestamp,
        max_failures: u32,
        stale_after: i64,
    ) -> Result<bool, StoreError> {
        let mut s = self.state()?;
        let Some(row) = s.accounts.get_mut(&account) else {
            return Ok(false);
        };
        // Claims older than `stale_after` no longer count (their server died).
        let stale_before = now.saturating_sub(stale_after);
        let in_flight = if row.claimed_at.is_none_or(|at| at < stale_before) {
            0
        } else {
            row.attempts_in_flight
        };
        let unlocked = row.locked_until.is_none_or(|until| until <= now);
        if unlocked && row.failed_count.saturating_add(in_flight) < i64::from(max_failures) {
            row.attempts_in_flight = in_flight.saturating_add(1);
            row.claimed_at = Some(now);
            Ok(true)
        } else {
            Ok(false)
        }
    }

    async fn claim_unknown_attempt(
        &self,
        login_key: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut s = self.state()?;
        s.unknown_sign_ins
            .entry(login_key.to_string())
            .and_modify(|row| {
                row.attempts_in_flight = row.attempts_in_flight.saturating_add(1);
                row.claimed_at = now;
            })
            .or_insert(UnknownRow {
                attempts_in_flight: 1,
                claimed_at: now,
                failed_count: 0,
                _last_failed_at: None,
            });
        Ok(())
    }

    async fn unknown_attempt_failed(
        &self,
        login_key: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut s = self.state()?;
        Ok(match s.unknown_sign_ins.get_mut(login_key) {
            Some(row) => {
                row.attempts_in_flight = (row.attempts_in_flight - 1).max(0);
                row.failed_count = row.failed_count.saturating_add(1);
                row._last_failed_at = Some(now);
                row.failed_count
            }
            None => 0,
        })
    }

    async fn release_attempt(&self, account: AccountId) -> Result<(), StoreError> {
        if let Some(row) = self.state()?.accounts.get_mut(&account) {
            row.end_claim();
        }
        Ok(())
    }

    async fn record_failure(
        &self,
        account: AccountId,
        fingerprint: &[u8],
        now: Timestamp,
        policy: &LockoutPolicy,
    ) -> Result<FailureOutcome, StoreError> {
        let mut s = self.state()?;
        let State {
            accounts, failures, ..
        } = &mut *s;
        // The failure row refers to the account: without one, the transaction fails.
        let row = accounts
            .get_mut(&account)
            .ok_or_else(|| missing("account"))?;
        row.end_claim();
        let key = (account, fingerprint.to_vec());
        if failures.contains_key(&key) {
            return Ok(FailureOutcome::Repeated);
        }
        failures.insert(key, now);
        row.failed_count = row.failed_count.saturating_add(1);
        if row.failed_count < i64::from(policy.max_failures) {
            return Ok(FailureOutcome::Counted {
                failures: u32::try_from(row.failed_count).unwrap_or(u32::MAX),
            });
        }
        let previous = u32::try_from(row.lockout_count).unwrap_or(u32::MAX);
        let until = now.saturating_add(policy.lock_duration(previous));
        row.locked_until = Some(until);
        row.lockout_count = row.lockout_count.saturating_add(1);
        row.failed_count = 0;
        failures.retain(|(a, _), _| *a != account);
        Ok(FailureOutcome::Locked { until })
    }

    async fn password_confirmed(
        &self,
        account: AccountId,
        upgrade: Option<HashUpgrade<'_>>,
    ) -> Result<(), StoreError> {
        self.state()?.confirm_password(account, upgrade);
        Ok(())
    }

    async fn unlock(&self, account: AccountId, now: Timestamp) -> Result<bool, StoreError> {
        let mut s = self.state()?;
        let was_locked = match s.accounts.get_mut(&account) {
            Some(row) => {
                let was_locked = row.locked_until.is_some_and(|until| until > now);
                row.failed_count = 0;
                row.lockout_count = 0;
                row.attempts_in_flight = 0;
                row.locked_until = None;
                was_locked
            }
            None => false,
        };
        s.delete_failures_of(account);
        Ok(was_locked)
    }
}

#[async_trait]
impl Resets for MemoryStore {
    async fn create_challenge(
        &self,
        token_hash: &[u8],
        challenge: &ChallengeRecord,
    ) -> Result<(), StoreError> {
        let mut s = self.state()?;
        if s.challenges.contains_key(token_hash) {
            return Err(StoreError::Conflict);
        }
        if let Some(account) = challenge.account_id {
            if !s.accounts.contains_key(&account) {
                return Err(missing("account"));
            }
        }
        s.challenges.insert(
            token_hash.to_vec(),
            ChallengeRecord {
                verified_at: None,
                ..challenge.clone()
            },
        );
        Ok(())
    }

    async fn challenge(&self, token_hash: &[u8]) -> Result<Option<ChallengeRecord>, StoreError> {
        Ok(self.state()?.challenges.get(token_hash).cloned())
    }

    async fn set_challenge_slots(
        &self,
        token_hash: &[u8],
        slots: [usize; 2],
    ) -> Result<(), StoreError> {
        if let Some(challenge) = self.state()?.challenges.get_mut(token_hash) {
            challenge.slots = slots;
        }
        Ok(())
    }

    async fn verify_challenge(&self, token_hash: &[u8], now: Timestamp) -> Result<(), StoreError> {
        if let Some(challenge) = self.state()?.challenges.get_mut(token_hash) {
            challenge.verified_at = Some(now);
        }
        Ok(())
    }

    async fn delete_challenge(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.state()?.challenges.remove(token_hash);
        Ok(())
    }

    async fn claim_reset_attempt(
        &self,
        login_key: &str,
        now: Timestamp,
        limit: &ResetLimit,
    ) -> Result<ResetClaim, StoreError> {
        let mut s = self.state()?;
        let capacity = i64::from(limit.max_failures).saturating_mul(1000);
        let window = limit.window_secs.max(1);
        let Some(row) = s.reset_limits.get_mut(login_key) else {
            // A new login ID starts with this answer in its bucket (whatever the size:
            // the SQL's INSERT has no condition, only its DO UPDATE has).
            s.reset_limits.insert(
                login_key.to_string(),
                LimitRow {
                    level: 1000,
                    level_at: now,
                    blocked_until: None,
                },
            );
            return Ok(ResetClaim::Granted);
        };
        // Drained since `level_at` (integer arithmetic as in SQL: multiply, then
        // divide, truncating), never below empty; then room for one more answer.
        let drained = now.saturating_sub(row.level_at).saturating_mul(capacity) / window;
        let level = row
            .level
            .saturating_sub(drained)
            .max(0)
            .saturating_add(1000);
        if row.blocked_until.is_none_or(|until| until <= now) && level <= capacity {
            row.level = level;
            row.level_at = now;
            row.blocked_until = None;
            return Ok(ResetClaim::Granted);
        }
        let per_answer = limit.window_secs / i64::from(limit.max_failures.max(1));
        Ok(ResetClaim::Blocked {
            until: row
                .blocked_until
                .filter(|until| *until > now)
                .unwrap_or(now.saturating_add(per_answer)),
        })
    }

    async fn reset_attempt_failed(
        &self,
        login_key: &str,
        now: Timestamp,
        limit: &ResetLimit,
    ) -> Result<Option<Timestamp>, StoreError> {
        let mut s = self.state()?;
        let capacity = i64::from(limit.max_failures).saturating_mul(1000);
        Ok(match s.reset_limits.get_mut(login_key) {
            // A bucket with no room for another answer blocks the ID (its level as
            // claimed, not drained again).
            Some(row)
                if row.level.saturating_add(1000) > capacity
                    && row.blocked_until.is_none_or(|until| until <= now) =>
            {
                let until = now.saturating_add(limit.block_secs);
                row.blocked_until = Some(until);
                Some(until)
            }
            _ => None,
        })
    }

    async fn reset_attempt_succeeded(&self, login_key: &str) -> Result<(), StoreError> {
        self.state()?.reset_limits.remove(login_key);
        Ok(())
    }
}

#[async_trait]
impl StaffRecords for MemoryStore {
    async fn add_school(&self, code: &str, name: &str) -> Result<bool, StoreError> {
        let mut s = self.state()?;
        if s.schools.contains_key(code) {
            return Ok(false);
        }
        s.schools.insert(code.to_string(), name.to_string());
        Ok(true)
    }

    async fn school_name(&self, code: &str) -> Result<Option<String>, StoreError> {
        Ok(self.state()?.schools.get(code).cloned())
    }

    async fn students(
        &self,
        school: &str,
        class: Option<&str>,
    ) -> Result<Vec<StudentStatus>, StoreError> {
        let s = self.state()?;
        let mut students: Vec<StudentStatus> = s
            .accounts
            .iter()
            .filter(|(_, a)| {
                a.role == Role::Student
                    && a.school_code.as_deref() == Some(school)
                    && class.is_none_or(|class| a.class_name.as_deref() == Some(class))
            })
            .map(|(id, a)| StudentStatus {
                id: *id,
                login_id: a.login_id.clone(),
                full_name: a.full_name.clone(),
                class_name: a.class_name.clone(),
                temporary_password: a.password_temporary,
                questions_set: s.answers.get(id).is_some_and(|x| !x.is_empty()),
                last_sign_in_at: a.last_sign_in_at,
                locked_until: a.locked_until,
            })
            .collect();
        // `ORDER BY class_name NULLS FIRST, full_name, id`: byte order, a missing class
        // first (the SQL says so: SQLite and PostgreSQL differ by default).
        students.sort_by(|a, b| {
            (&a.class_name, &a.full_name, a.id).cmp(&(&b.class_name, &b.full_name, b.id))
        });
        Ok(students)
    }

    async fn reset_to_temporary(
        &self,
        account: AccountId,
        new_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut s = self.state()?;
        // The old hash goes to the history, without pruning it (as the SQL store does).
        s.keep_in_history(account, now);
        if let Some(row) = s.accounts.get_mut(&account) {
            row.password_hash = new_hash.to_string();
            row.password_temporary = true;
            row.temporary_expires_at = Some(expires_at);
            row.password_changed_at = Some(now);
            row.failed_count = 0;
            row.lockout_count = 0;
            row.locked_until = None;
        }
        s.delete_sessions_of(account);
        s.delete_failures_of(account);
        s.delete_challenges_of(account);
        Ok(())
    }

    async fn clear_answers(&self, account: AccountId) -> Result<(), StoreError> {
        let mut s = self.state()?;
        s.answers.remove(&account);
        s.delete_sessions_of(account);
        s.delete_challenges_of(account);
        Ok(())
    }

    async fn restart_practice_account(
        &self,
        account: AccountId,
        hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut s = self.state()?;
        let login_key = match s.accounts.get_mut(&account) {
            Some(row) => {
                row.password_hash = hash.to_string();
                row.password_temporary = true;
                row.temporary_expires_at = None;
                row.password_changed_at = Some(now);
                row.failed_count = 0;
                row.lockout_count = 0;
                row.locked_until = None;
                row.attempts_in_flight = 0;
                row.claimed_at = None;
                row.last_sign_in_at = None;
                row.reset_notice_at = None;
                Some(row.login_id.clone())
            }
            None => None,
        };
        // Forgot-password attempts are counted per login ID (it may not exist).
        if let Some(login_key) = login_key {
            s.reset_limits.remove(&login_key);
        }
        s.answers.remove(&account);
        s.password_history.retain(|_, h| h.account_id != account);
        s.delete_sessions_of(account);
        s.delete_failures_of(account);
        s.delete_challenges_of(account);
        Ok(())
    }

    async fn save_import_batch(
        &self,
        school: &str,
        staff: AccountId,
        file: &[u8],
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut s = self.state()?;
        if !s.schools.contains_key(school) {
            return Err(missing("school"));
        }
        if !s.accounts.contains_key(&staff) {
            return Err(missing("account"));
        }
        let id = next(&mut s.sequences.import_batches);
        s.import_batches.insert(
            id,
            ImportRow {
                school_code: school.to_string(),
                staff_id: staff,
                file: file.to_vec(),
                created_at: now,
            },
        );
        Ok(id)
    }

    async fn import_batch(
        &self,
        id: i64,
        staff: AccountId,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Ok(self
            .state()?
            .import_batches
            .get(&id)
            .filter(|b| b.staff_id == staff)
            .map(|b| (b.school_code.clone(), b.file.clone())))
    }

    async fn delete_import_batch(&self, id: i64) -> Result<(), StoreError> {
        self.state()?.import_batches.remove(&id);
        Ok(())
    }

    async fn save_letters(
        &self,
        staff: AccountId,
        nonce: &[u8],
        sealed: &[u8],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut s = self.state()?;
        // Old batches go when new ones come (a statement of its own: it stays done even
        // if the insert then fails, as in the SQL store).
        s.letter_batches.retain(|_, l| l.expires_at > now);
        if !s.accounts.contains_key(&staff) {
            return Err(missing("account"));
        }
        let id = next(&mut s.sequences.letter_batches);
        s.letter_batches.insert(
            id,
            LetterRow {
                staff_id: staff,
                nonce: nonce.to_vec(),
                sealed: sealed.to_vec(),
                _created_at: now,
                expires_at,
            },
        );
        Ok(id)
    }

    async fn letters(
        &self,
        id: i64,
        staff: AccountId,
        now: Timestamp,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError> {
        Ok(self
            .state()?
            .letter_batches
            .get(&id)
            .filter(|l| l.staff_id == staff && l.expires_at > now)
            .map(|l| (l.nonce.clone(), l.sealed.clone())))
    }
}

#[async_trait]
impl Audit for MemoryStore {
    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        let mut s = self.state()?;
        s.check_audit(&event)?;
        s.insert_audit(&event);
        Ok(())
    }

    async fn audit_history(&self, account: AccountId) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(self
            .state()?
            .audit_events
            .values()
            .filter(|e| e.account_id == Some(account))
            .cloned()
            .collect())
    }
}

/// Removes the rows `expired` picks; returns how many went.
fn purge_map<K: Ord, V>(map: &mut BTreeMap<K, V>, expired: impl Fn(&V) -> bool) -> u64 {
    let before = map.len();
    map.retain(|_, v| !expired(v));
    u64::try_from(before - map.len()).unwrap_or(u64::MAX)
}

/// [`purge_map`] for a hash map.
fn purge_hash<K: std::hash::Hash + Eq, V>(
    map: &mut HashMap<K, V>,
    expired: impl Fn(&V) -> bool,
) -> u64 {
    let before = map.len();
    map.retain(|_, v| !expired(v));
    u64::try_from(before - map.len()).unwrap_or(u64::MAX)
}

#[async_trait]
impl Upkeep for MemoryStore {
    async fn installation_secret(&self) -> Result<Vec<u8>, StoreError> {
        self.state().map(|_| self.secret.clone())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.state().map(|_| ())
    }

    async fn purge(&self, r: &Retention) -> Result<Purged, StoreError> {
        let mut s = self.state()?;
        Ok(Purged {
            sessions: purge_hash(&mut s.sessions, |x| {
                x.last_seen_at <= r.sessions_idle_since || x.created_at <= r.sessions_created_before
            }),
            challenges: purge_hash(&mut s.challenges, |c| {
                c.created_at <= r.challenges_created_before
            }),
            letters: purge_map(&mut s.letter_batches, |l| l.expires_at <= r.now),
            batches: purge_map(&mut s.import_batches, |b| {
                b.created_at <= r.batches_created_before
            }),
            reset_limits: purge_hash(&mut s.reset_limits, |l| {
                l.level_at <= r.reset_limits_idle_since
                    && l.blocked_until.is_none_or(|until| until <= r.now)
            }),
            unknown_sign_ins: purge_hash(&mut s.unknown_sign_ins, |u| {
                u.claimed_at <= r.unknown_sign_ins_idle_since
            }),
            audit_events: purge_map(&mut s.audit_events, |e| e.at < r.audit_before),
            signing_keys: {
                let before = s.signing_keys.len();
                s.signing_keys.retain(|k| {
                    k.retired_at
                        .is_none_or(|at| at > r.signing_keys_retired_before)
                });
                (before - s.signing_keys.len()) as u64
            },
            codes: purge_map(&mut s.codes, |c| c.expires_at <= r.grants_expired_before),
            access_tokens: purge_map(&mut s.access_tokens, |t| {
                t.expires_at <= r.grants_expired_before
            }),
        })
    }
}

#[async_trait]
impl Federation for MemoryStore {
    async fn add_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        let mut s = self.state()?;
        if s.clients.iter().any(|c| c.client_id == client.client_id) {
            return Err(StoreError::Conflict);
        }
        s.clients.push(client.clone());
        Ok(())
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let s = self.state()?;
        Ok(s.clients.iter().find(|c| c.client_id == client_id).cloned())
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let s = self.state()?;
        let mut clients = s.clients.clone();
        // `ORDER BY created_at, client_id`
        clients.sort_by(|a, b| (a.created_at, &a.client_id).cmp(&(b.created_at, &b.client_id)));
        Ok(clients)
    }

    async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let mut s = self.state()?;
        let before = s.clients.len();
        s.clients.retain(|c| c.client_id != client_id);
        Ok(s.clients.len() < before)
    }

    async fn add_first_signing_key(&self, key: &SigningKeyRecord) -> Result<bool, StoreError> {
        let mut s = self.state()?;
        // `ON CONFLICT DO NOTHING` over the key id and the one active key per algorithm.
        let taken = s
            .signing_keys
            .iter()
            .any(|k| k.kid == key.kid || (k.algorithm == key.algorithm && k.retired_at.is_none()));
        if taken {
            return Ok(false);
        }
        s.signing_keys.push(active(key));
        Ok(true)
    }

    async fn rotate_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        let mut s = self.state()?;
        if s.signing_keys.iter().any(|k| k.kid == key.kid) {
            return Err(StoreError::Conflict);
        }
        for k in s.signing_keys.iter_mut() {
            if k.algorithm == key.algorithm && k.retired_at.is_none() {
                k.retired_at = Some(key.created_at);
            }
        }
        s.signing_keys.push(active(key));
        Ok(())
    }

    async fn signing_keys(
        &self,
        retired_after: Timestamp,
    ) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let s = self.state()?;
        let mut keys: Vec<SigningKeyRecord> = s
            .signing_keys
            .iter()
            .filter(|k| k.retired_at.is_none_or(|at| at > retired_after))
            .cloned()
            .collect();
        // `ORDER BY (retired_at IS NOT NULL), created_at DESC, kid`: the active key first.
        keys.sort_by(|a, b| {
            (a.retired_at.is_some(), b.created_at, &a.kid).cmp(&(
                b.retired_at.is_some(),
                a.created_at,
                &b.kid,
            ))
        });
        Ok(keys)
    }

    async fn subject(&self, account: AccountId, candidate: &str) -> Result<String, StoreError> {
        let mut s = self.state()?;
        if !s.accounts.contains_key(&account) {
            return Err(StoreError::Other("no such account".into()));
        }
        // `subject` is UNIQUE as well.
        if !s.subjects.contains_key(&account) && s.subjects.values().any(|v| v == candidate) {
            return Err(StoreError::Conflict);
        }
        Ok(s.subjects
            .entry(account)
            .or_insert_with(|| candidate.to_string())
            .clone())
    }

    async fn add_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        let mut s = self.state()?;
        if s.codes.contains_key(&code.code_hash) {
            return Err(StoreError::Conflict);
        }
        s.codes.insert(code.code_hash.clone(), code.clone());
        Ok(())
    }

    async fn code(&self, code_hash: &[u8]) -> Result<Option<CodeRecord>, StoreError> {
        Ok(self.state()?.codes.get(code_hash).cloned())
    }

    async fn redeem_code(
        &self,
        code_hash: &[u8],
        now: Timestamp,
        token: &AccessTokenRecord,
    ) -> Result<bool, StoreError> {
        let mut s = self.state()?;
        let first = match s.codes.get_mut(code_hash) {
            Some(code) if code.redeemed_at.is_none() => {
                code.redeemed_at = Some(now);
                true
            }
            _ => false,
        };
        if first {
            s.access_tokens.insert(
                token.token_hash.clone(),
                AccessTokenRecord {
                    code_hash: code_hash.to_vec(),
                    ..token.clone()
                },
            );
        } else {
            s.access_tokens.retain(|_, t| t.code_hash != code_hash);
        }
        Ok(first)
    }

    async fn access_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<AccessTokenRecord>, StoreError> {
        Ok(self.state()?.access_tokens.get(token_hash).cloned())
    }
}

/// A key as stored by an insert: active (the columns it names, no `retired_at`).
fn active(key: &SigningKeyRecord) -> SigningKeyRecord {
    SigningKeyRecord {
        retired_at: None,
        ..key.clone()
    }
}

// ---- the hasher -----------------------------------------------------------------------

/// The scheme of [`FakeHasher`]'s PHC-looking strings.
const FAKE_SCHEME: &str = "fake-sha256";
/// The version [`FakeHasher`] hashes with; a lower one is reported as outdated.
const FAKE_VERSION: u32 = 1;
/// Bytes of the digest kept as a wrong password's fingerprint (as the real hasher).
const FAKE_FINGERPRINT_BYTES: usize = 16;

/// A fast [`SecretHasher`] for tests: `$fake-sha256$v=1$<salt>$<digest>`, one salted
/// SHA-256, no work factor. It behaves like the argon2 hasher otherwise: a fresh salt
/// per hash, a wrong password's fingerprint that is the same for the same password under
/// the same stored hash (and differs under another salt), a malformed stored hash that
/// never matches, and an older version (see [`FakeHasher::outdated_phc`]) reported as
/// outdated. **Never for real secrets.**
#[derive(Debug, Default)]
pub struct FakeHasher {
    checks: AtomicUsize,
}

impl FakeHasher {
    pub fn new() -> Self {
        Self::default()
    }

    /// The hash of `secret` with a fresh salt, without awaiting (to set up accounts).
    pub fn phc(secret: &str) -> String {
        fake_phc(FAKE_VERSION, secret)
    }

    /// A hash of `secret` in an older version: it verifies, and [`SecretHasher::check`]
    /// says it should be upgraded (as an argon2 hash with weaker parameters).
    pub fn outdated_phc(secret: &str) -> String {
        fake_phc(FAKE_VERSION - 1, secret)
    }

    /// How many checks ran so far ([`SecretHasher::verify`], [`SecretHasher::check`]
    /// and [`SecretHasher::verify_dummy`]): each costs what one argon2 check would.
    pub fn checks(&self) -> usize {
        self.checks.load(Ordering::SeqCst)
    }

    fn check_now(&self, secret: &str, phc: &str) -> Verification {
        self.checks.fetch_add(1, Ordering::SeqCst);
        let malformed = Verification {
            matches: false,
            fingerprint: Vec::new(),
            outdated: true,
        };
        let Some((version, salt, expected)) = parse_fake_phc(phc) else {
            return malformed;
        };
        let digest = fake_digest(version, &salt, secret);
        let matches = digest.as_slice() == expected.as_slice();
        Verification {
            matches,
            fingerprint: if matches {
                Vec::new()
            } else {
                digest[..FAKE_FINGERPRINT_BYTES].to_vec()
            },
            outdated: version < FAKE_VERSION,
        }
    }
}

fn fake_digest(version: u32, salt: &[u8], secret: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"school-portal fake hasher\0")
        .chain_update(version.to_be_bytes())
        .chain_update(salt)
        .chain_update(secret.as_bytes())
        .finalize()
        .into()
}

fn fake_phc(version: u32, secret: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let digest = fake_digest(version, &salt, secret);
    format!(
        "${FAKE_SCHEME}$v={version}${}${}",
        b64.encode(salt),
        b64.encode(digest)
    )
}

/// The version, salt and digest of a [`FakeHasher`] string; `None` if malformed.
fn parse_fake_phc(phc: &str) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut parts = phc.strip_prefix('$')?.split('$');
    let (scheme, version, salt, digest) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if scheme != FAKE_SCHEME || parts.next().is_some() {
        return None;
    }
    let version = version.strip_prefix("v=")?.parse().ok()?;
    Some((version, b64.decode(salt).ok()?, b64.decode(digest).ok()?))
}

#[async_trait]
impl SecretHasher for FakeHasher {
    async fn hash(&self, secret: &Secret) -> Result<String, HashError> {
        Ok(Self::phc(secret.expose()))
    }

    async fn verify(&self, secret: &Secret, phc: &str) -> Result<bool, HashError> {
        Ok(self.check_now(secret.expose(), phc).matches)
    }

    async fn check(&self, secret: &Secret, phc: &str) -> Result<Verification, HashError> {
        Ok(self.check_now(secret.expose(), phc))
    }

    async fn verify_dummy(&self, secret: &Secret) -> Result<(), HashError> {
        // One digest, against nothing: counted like a check.
        self.checks.fetch_add(1, Ordering::SeqCst);
        let _ = fake_digest(FAKE_VERSION, b"dummy salt", secret.expose());
        Ok(())
    }
}

// ---- the clock ------------------------------------------------------------------------

/// A [`Clock`] for tests that moves only when told ([`FakeClock::advance`],
/// [`FakeClock::set`]); share it with `Arc`.
#[derive(Debug)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    /// Where [`FakeClock::default`] starts: 2027-01-15T08:00:00Z.
    pub const START: Timestamp = 1_800_000_000;

    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start))
    }

    /// Moves the clock `secs` seconds on (back, if negative).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    pub fn set(&self, now: Timestamp) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new(Self::START)
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        self.0.load(Ordering::SeqCst)
    }
}
