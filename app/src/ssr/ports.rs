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
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("login_id", &self.login_id)
            .field("temporary_password", &self.temporary_password)
            .field("questions_set", &self.questions_set)
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
    pub kind: &'static str,
    pub client: Option<String>,
    pub detail: Option<String>,
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

    /// Creates a session and records the sign-in time, in one transaction.
    async fn start_session(
        &self,
        token_hash: &[u8],
        account: AccountId,
        now: Timestamp,
    ) -> Result<(), StoreError>;
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
    /// Costs what a real verification costs, for accounts that do not exist.
    async fn verify_dummy(&self, secret: &Secret) -> Result<(), HashError>;
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}
