//! The ports the server implements: account/session storage, secret hashing and the
//! clock. Services depend on these traits only, so tests can swap the clock and the
//! hashing cost, and SQLite and PostgreSQL can sit behind the same contract.

use async_trait::async_trait;

use crate::domain::secret::Secret;

pub type AccountId = i64;
/// Unix time in seconds.
pub type Timestamp = i64;

/// An account as stored. The hash is never printed.
#[derive(Clone)]
pub struct Account {
    pub id: AccountId,
    pub login_id: String,
    pub full_name: String,
    pub password_hash: String,
    pub temporary_password: bool,
    pub questions_set: bool,
    /// Until when sign-in is refused after too many wrong passwords.
    pub locked_until: Option<Timestamp>,
}

impl Account {
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("login_id", &self.login_id)
            .field("temporary_password", &self.temporary_password)
            .field("questions_set", &self.questions_set)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// A server-side session, found by the hash of its cookie token.
#[derive(Clone)]
pub struct SessionRecord {
    pub account_id: AccountId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// The set-up screen's choices (JSON of `[ChosenQuestion; 3]`) until confirmed.
    pub pending_questions: Option<String>,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("account_id", &self.account_id)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("answers_pending", &self.pending_questions.is_some())
            .finish()
    }
}

/// A new account, as provisioning or the demo seed creates it.
pub struct NewAccount {
    pub login_id: String,
    pub full_name: String,
    pub password_hash: String,
    pub temporary_password: bool,
}

/// One stored security answer: the question's id and the hash of the normalised answer.
pub struct StoredAnswer {
    pub question_id: String,
    pub answer_hash: String,
}

/// A security-relevant event. Never holds a password, answer or token.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub at: Timestamp,
    pub account_id: Option<AccountId>,
    /// Who acted: the account itself, a staff login ID, or "system".
    pub actor: String,
    pub kind: String,
    pub client: Option<String>,
    pub detail: Option<String>,
}

/// When wrong passwords lock an account, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Distinct wrong passwords in a row that lock the account.
    pub max_failures: u32,
    /// The first lockout's length, in seconds.
    pub lock_secs: i64,
    /// Each further lockout (without a successful sign-in between) doubles the length,
    /// up to this many seconds.
    pub max_lock_secs: i64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_secs: 15 * 60,
            max_lock_secs: 4 * 60 * 60,
        }
    }
}

impl LockoutPolicy {
    /// How long the lockout after `previous` earlier ones lasts.
    pub fn lock_duration(&self, previous: u32) -> i64 {
        let factor = 1_i64 << previous.min(30);
        self.lock_secs
            .saturating_mul(factor)
            .min(self.max_lock_secs.max(self.lock_secs))
    }
}

/// What a wrong password did to the account's failure count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// A new wrong password: the streak is now this long.
    Counted { failures: u32 },
    /// The same wrong password as earlier in the streak: not counted again.
    Repeated,
    /// This failure reached the limit: the account is locked until then.
    Locked { until: Timestamp },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("a record with this key exists already")]
    Conflict,
    #[error("database error: {0}")]
    Other(String),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn account_by_login(&self, login_id: &str) -> Result<Option<Account>, StoreError>;
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError>;
    async fn insert_account(
        &self,
        account: NewAccount,
        now: Timestamp,
    ) -> Result<AccountId, StoreError>;
    async fn count_accounts(&self) -> Result<i64, StoreError>;

    /// Claims the right to check one password against the account, atomically: granted
    /// only when the account is not locked and its failures so far plus the checks
    /// already running stay under `max_failures`. Parallel attempts therefore never get
    /// more guesses than the limit. A claim older than `stale_after` seconds (its
    /// server died mid-check) no longer counts.
    async fn claim_attempt(
        &self,
        account: AccountId,
        now: Timestamp,
        max_failures: u32,
        stale_after: i64,
    ) -> Result<bool, StoreError>;

    /// Gives a claim back when the check did not run (the hasher was busy).
    async fn release_attempt(&self, account: AccountId) -> Result<(), StoreError>;

    /// Ends a claimed check that found a wrong password: counts it unless the same
    /// wrong password (`fingerprint`) is already in the streak, and locks the account
    /// when the streak reaches the policy's limit — in one transaction.
    async fn record_failure(
        &self,
        account: AccountId,
        fingerprint: &[u8],
        now: Timestamp,
        policy: &LockoutPolicy,
    ) -> Result<FailureOutcome, StoreError>;

    /// Ends a claimed check that found the right password: creates the session,
    /// records the sign-in time, clears the failure streak and lockouts, and swaps in
    /// `upgraded_hash` if the stored hash is still `old_hash` — in one transaction.
    async fn start_session(
        &self,
        token_hash: &[u8],
        account: AccountId,
        now: Timestamp,
        upgrade: Option<HashUpgrade<'_>>,
    ) -> Result<(), StoreError>;

    /// Lifts a lockout and clears the failure streak. Returns whether the account was
    /// locked at `now`.
    async fn unlock(&self, account: AccountId, now: Timestamp) -> Result<bool, StoreError>;

    /// The account's audit trail, oldest first.
    async fn audit_history(&self, account: AccountId) -> Result<Vec<AuditEvent>, StoreError>;
    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError>;
    async fn touch_session(&self, token_hash: &[u8], now: Timestamp) -> Result<(), StoreError>;
    async fn set_pending_questions(
        &self,
        token_hash: &[u8],
        pending: Option<&str>,
    ) -> Result<(), StoreError>;
    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError>;

    /// Replaces the account's answers and clears the session's pending choices,
    /// in one transaction.
    async fn save_answers(
        &self,
        account: AccountId,
        answers: &[StoredAnswer],
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Sets the new password hash, clears the temporary flag, ends every session of
    /// the account and starts the new one, in one transaction: the account is either
    /// fully on the old credentials or fully on the new ones.
    async fn complete_password_change(
        &self,
        account: AccountId,
        new_hash: &str,
        new_token_hash: &[u8],
        now: Timestamp,
    ) -> Result<(), StoreError>;

    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError>;
}

/// A stored hash made with weaker parameters, and its replacement.
#[derive(Debug, Clone, Copy)]
pub struct HashUpgrade<'a> {
    pub old_hash: &'a str,
    pub new_hash: &'a str,
}

/// The result of checking a password against a stored hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// When it does not match: a short fingerprint of the wrong password under the
    /// stored hash's own salt and cost (see the `sign_in_failures` table).
    pub fingerprint: Vec<u8>,
    /// The stored hash uses weaker parameters than the hasher's current ones.
    pub outdated: bool,
}

impl std::fmt::Debug for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verification")
            .field("matches", &self.matches)
            .field("outdated", &self.outdated)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Too many hashes are queued; the caller should answer 503 and retry later.
    #[error("the password hasher is busy")]
    Busy,
    #[error("hashing failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait SecretHasher: Send + Sync + 'static {
    /// A PHC string (argon2id with its parameters).
    async fn hash(&self, secret: &Secret) -> Result<String, HashError>;
    /// Whether `secret` matches `phc`. A malformed `phc` is `Ok(false)`.
    async fn verify(&self, secret: &Secret, phc: &str) -> Result<bool, HashError>;
    /// Checks a sign-in password: whether it matches, a fingerprint when it does not,
    /// and whether the stored hash should be upgraded.
    async fn check(&self, secret: &Secret, phc: &str) -> Result<Verification, HashError>;
    /// Costs what a real verification costs, for accounts that do not exist.
    async fn verify_dummy(&self, secret: &Secret) -> Result<(), HashError>;
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}
