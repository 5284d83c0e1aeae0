//! The ports the server implements: account/session storage, secret hashing and the
//! clock. Services depend on these traits only, so tests can swap the clock and the
//! hashing cost, and SQLite and PostgreSQL can sit behind the same contract.

use async_trait::async_trait;

use domain::login_id::LoginId;
use domain::password::PasswordOwner;
use domain::provisioning::Role;
use domain::secret::Secret;

pub type AccountId = i64;
/// Unix time in seconds.
pub type Timestamp = i64;

/// An account as stored. The hash is never printed.
#[derive(Clone)]
pub struct Account {
    pub id: AccountId,
    pub login_id: LoginId,
    pub full_name: String,
    pub password_hash: String,
    pub temporary_password: bool,
    pub questions_set: bool,
    /// Until when sign-in is refused after too many wrong passwords.
    pub locked_until: Option<Timestamp>,
    /// When the password was reset with the security questions, until the next sign-in.
    pub reset_notice_at: Option<Timestamp>,
    pub role: Role,
    pub school_code: Option<String>,
    pub class_name: Option<String>,
    /// A temporary password stops working at this time.
    pub temporary_expires_at: Option<Timestamp>,
    pub last_sign_in_at: Option<Timestamp>,
}

impl Account {
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// Whose password it is: the name rule needs both names.
    pub fn owner(&self) -> PasswordOwner {
        PasswordOwner {
            full_name: self.full_name.clone(),
            login_id: self.login_id.to_string(),
        }
    }

    /// Still in the first-login journey: on the letter's password, or without answers.
    pub fn onboarding(&self) -> bool {
        self.temporary_password || !self.questions_set
    }

    /// Still on a temporary password whose time is over.
    pub fn temporary_expired(&self, now: Timestamp) -> bool {
        self.temporary_password && self.temporary_expires_at.is_some_and(|at| at <= now)
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
    /// The set-up screen's choices until confirmed: sealed with a key only this
    /// session's cookie token gives (see `ActiveSession::seal`), never in clear at rest.
    pub pending_questions: Option<String>,
    /// When the password was last typed in this session.
    pub reauth_at: Timestamp,
    /// "Set up security questions again" is in progress until then: it is started
    /// only under a recent sign-in and ends on its own.
    pub redo_until: Option<Timestamp>,
}

/// When a request uses its session, and the limits past which the session is over.
#[derive(Debug, Clone, Copy)]
pub struct SeenAt {
    pub now: Timestamp,
    pub idle_secs: i64,
    pub absolute_secs: i64,
}

/// A request's session as looked up: the record as it was before, its account, and
/// whether the look-up marked it as used (later than its last use and within both
/// limits: the store's one statement of that rule decides).
#[derive(Debug)]
pub struct RequestSession {
    pub record: SessionRecord,
    pub account: Account,
    pub touched: bool,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("account_id", &self.account_id)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("answers_pending", &self.pending_questions.is_some())
            .field("reauth_at", &self.reauth_at)
            .field("redo_until", &self.redo_until)
            .finish()
    }
}

/// A student as the staff pages list them.
#[derive(Debug, Clone)]
pub struct StudentStatus {
    pub id: AccountId,
    pub login_id: String,
    pub full_name: String,
    pub class_name: Option<String>,
    pub temporary_password: bool,
    pub questions_set: bool,
    pub last_sign_in_at: Option<Timestamp>,
    pub locked_until: Option<Timestamp>,
}

/// A new account, as provisioning or the demo seed creates it.
#[derive(Clone)]
pub struct NewAccount {
    pub login_id: String,
    pub full_name: String,
    pub password_hash: String,
    pub temporary_password: bool,
    pub role: Role,
    pub school_code: Option<String>,
    pub class_name: Option<String>,
    /// The school's register (index) number within the class, if the list gave one.
    pub register_no: Option<String>,
    pub temporary_expires_at: Option<Timestamp>,
}

/// One stored security answer: the question's id and the hash of the normalised answer.
#[derive(Clone)]
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

/// How a new password replaces the old one.
#[derive(Debug, Clone, Copy)]
pub struct PasswordReplacement<'a> {
    pub new_hash: &'a str,
    /// The session that continues (its token's hash); `None` ends every session (reset).
    pub new_session: Option<&'a [u8]>,
    /// How many earlier (non-temporary) hashes to keep in the history.
    pub history: usize,
    /// Set by a forgot-password reset: the next sign-in says so.
    pub reset: bool,
    /// The change's audit event, written in the same transaction.
    pub audit: &'a AuditEvent,
}

/// A forgot-password attempt in progress.
#[derive(Clone)]
pub struct ChallengeRecord {
    pub login_key: String,
    pub account_id: Option<AccountId>,
    /// The two answer slots asked, e.g. `[0, 2]`.
    pub slots: [usize; 2],
    pub created_at: Timestamp,
    pub verified_at: Option<Timestamp>,
}

impl std::fmt::Debug for ChallengeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengeRecord")
            .field("slots", &self.slots)
            .field("created_at", &self.created_at)
            .field("verified", &self.verified_at.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether a forgot-password answer may be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetClaim {
    Granted,
    Blocked { until: Timestamp },
}

/// The limit on wrong forgot-password answers per login ID: a leaky bucket that holds
/// `max_failures` wrong answers and empties by that many over `window_secs` (so the
/// rate that never blocks is `max_failures` per window, not per fixed hour); a full
/// bucket blocks the reset for `block_secs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetLimit {
    pub max_failures: u32,
    pub window_secs: i64,
    pub block_secs: i64,
}

impl Default for ResetLimit {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window_secs: 24 * 3600,
            block_secs: 24 * 3600,
        }
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

/// Accounts and their credentials: look-ups, creation, answers and password history.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    async fn account_by_login(&self, login_id: &LoginId) -> Result<Option<Account>, StoreError>;
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError>;
    async fn insert_account(
        &self,
        account: NewAccount,
        now: Timestamp,
    ) -> Result<AccountId, StoreError>;
    /// Inserts every account in one transaction: all of them, or none.
    async fn insert_accounts(
        &self,
        accounts: &[NewAccount],
        now: Timestamp,
    ) -> Result<Vec<AccountId>, StoreError>;
    async fn count_accounts(&self) -> Result<i64, StoreError>;
    /// How many accounts belong to no school or to a school other than `school`.
    async fn count_accounts_outside(&self, school: &str) -> Result<i64, StoreError>;
    /// Those of `login_ids` that exist (to pick the next free suffix).
    async fn existing_login_ids(&self, login_ids: &[String]) -> Result<Vec<String>, StoreError>;
    /// The students of `school` with exactly this class and full name (re-imports):
    /// with a register number, those with that number first, then those imported
    /// without one (an earlier list had no such column); oldest first.
    async fn students_named(
        &self,
        school: &str,
        class: &str,
        full_name: &str,
        register_no: Option<&str>,
    ) -> Result<Vec<Account>, StoreError>;
    /// The account's stored answers, by slot.
    async fn answers(&self, account: AccountId) -> Result<Vec<StoredAnswer>, StoreError>;
    /// Earlier password hashes that may not be chosen again.
    async fn password_history(&self, account: AccountId) -> Result<Vec<String>, StoreError>;
    /// Replaces the password: the old hash goes to the history (pruned to
    /// `history` entries plus every temporary one), the temporary flag is cleared, every
    /// session ends, `new_session` (if any) starts and the change's audit event is
    /// written — in one transaction.
    async fn replace_password(
        &self,
        account: AccountId,
        replacement: PasswordReplacement<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Replaces the account's answers, clears the session's pending choices and writes
    /// `audit`, in one transaction.
    async fn save_answers(
        &self,
        account: AccountId,
        answers: &[StoredAnswer],
        token_hash: &[u8],
        now: Timestamp,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
}

/// Portal sessions: started at sign-in, looked up and marked as used per request.
#[async_trait]
pub trait Sessions: Send + Sync + 'static {
    /// Ends a claimed check that found the right password: creates the session,
    /// records the sign-in time, clears the failure streak and lockouts, and swaps in
    /// `upgraded_hash` if the stored hash is still `old_hash`, and writes the sign-in's
    /// `audit` event — in one transaction.
    async fn start_session(
        &self,
        token_hash: &[u8],
        account: AccountId,
        now: Timestamp,
        upgrade: Option<HashUpgrade<'_>>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError>;
    /// A request's session and its account, in one look-up. With `seen`, the session is
    /// also marked as used at `seen.now` if it is still within its limits (in the same
    /// statement where the database allows it); past them it is left as it was, for
    /// the caller to end. The record is returned as it was before.
    async fn session_for_request(
        &self,
        token_hash: &[u8],
        seen: Option<SeenAt>,
    ) -> Result<Option<RequestSession>, StoreError>;
    async fn set_pending_questions(
        &self,
        token_hash: &[u8],
        pending: Option<&str>,
    ) -> Result<(), StoreError>;
    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError>;
    /// Records that the password was typed again in this session (SSPR sign-in).
    async fn set_reauth(&self, token_hash: &[u8], now: Timestamp) -> Result<(), StoreError>;
    /// Starts "set up security questions again" for this session until `until`, or
    /// ends it (`None`); either way any pending choices are dropped.
    async fn set_redo_questions(
        &self,
        token_hash: &[u8],
        until: Option<Timestamp>,
    ) -> Result<(), StoreError>;
}

/// The sign-in lockout: claims on password checks, failures, unlocks.
#[async_trait]
pub trait Lockout: Send + Sync + 'static {
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
    /// The same work as [`Lockout::claim_attempt`] for a login ID that has no account:
    /// claims a check on its own row (created if missing).
    async fn claim_unknown_attempt(
        &self,
        login_key: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// The same work as [`Lockout::record_failure`] for a login ID that has no account:
    /// ends the claim and counts the failure. Returns the failures counted so far.
    async fn unknown_attempt_failed(
        &self,
        login_key: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError>;
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
    /// Ends a claimed check that found the right password without starting a session
    /// (the SSPR's sign-in): clears the failure streak and swaps in an upgraded hash.
    async fn password_confirmed(
        &self,
        account: AccountId,
        upgrade: Option<HashUpgrade<'_>>,
    ) -> Result<(), StoreError>;
    /// Lifts a lockout and clears the failure streak. Returns whether the account was
    /// locked at `now`.
    async fn unlock(&self, account: AccountId, now: Timestamp) -> Result<bool, StoreError>;
}

/// Forgot password: the reset challenges and the per-login-ID limit on answers.
#[async_trait]
pub trait Resets: Send + Sync + 'static {
    async fn create_challenge(
        &self,
        token_hash: &[u8],
        challenge: &ChallengeRecord,
    ) -> Result<(), StoreError>;
    async fn challenge(&self, token_hash: &[u8]) -> Result<Option<ChallengeRecord>, StoreError>;
    /// A new pair of questions for the next attempt.
    async fn set_challenge_slots(
        &self,
        token_hash: &[u8],
        slots: [usize; 2],
    ) -> Result<(), StoreError>;
    async fn verify_challenge(&self, token_hash: &[u8], now: Timestamp) -> Result<(), StoreError>;
    async fn delete_challenge(&self, token_hash: &[u8]) -> Result<(), StoreError>;
    /// Claims one answer check for `login_key`, atomically (counted as a failure until
    /// [`Resets::reset_attempt_succeeded`] says otherwise), unless it is blocked.
    async fn claim_reset_attempt(
        &self,
        login_key: &str,
        now: Timestamp,
        limit: &ResetLimit,
    ) -> Result<ResetClaim, StoreError>;
    /// Ends a claimed check that failed; blocks the login ID at the limit.
    async fn reset_attempt_failed(
        &self,
        login_key: &str,
        now: Timestamp,
        limit: &ResetLimit,
    ) -> Result<Option<Timestamp>, StoreError>;
    /// Ends a claimed check that succeeded: the failures are forgotten.
    async fn reset_attempt_succeeded(&self, login_key: &str) -> Result<(), StoreError>;
}

/// What school staff do to accounts, and their schools, class lists and letters.
#[async_trait]
pub trait StaffRecords: Send + Sync + 'static {
    /// Adds a school; `false` if the code exists already.
    async fn add_school(&self, code: &str, name: &str) -> Result<bool, StoreError>;
    async fn school_name(&self, code: &str) -> Result<Option<String>, StoreError>;
    /// The students of a school (one class, or all), with where each stands.
    async fn students(
        &self,
        school: &str,
        class: Option<&str>,
    ) -> Result<Vec<StudentStatus>, StoreError>;
    /// A new temporary password from staff: the old hash goes to the history, the
    /// journey starts again, every session ends and any lockout is lifted.
    async fn reset_to_temporary(
        &self,
        account: AccountId,
        new_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Forgets the account's security answers (its sessions end).
    async fn clear_answers(&self, account: AccountId) -> Result<(), StoreError>;
    /// Practice mode only: puts a practice account back at the start of the journey in
    /// one transaction — `hash` as its temporary password (no expiry), no answers, no
    /// password history, no sessions, no failures or lockout.
    async fn restart_practice_account(
        &self,
        account: AccountId,
        hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    async fn save_import_batch(
        &self,
        school: &str,
        staff: AccountId,
        file: &[u8],
        now: Timestamp,
    ) -> Result<i64, StoreError>;
    /// The file and school of a batch uploaded by `staff`.
    async fn import_batch(
        &self,
        id: i64,
        staff: AccountId,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError>;
    async fn delete_import_batch(&self, id: i64) -> Result<(), StoreError>;
    async fn save_letters(
        &self,
        staff: AccountId,
        nonce: &[u8],
        sealed: &[u8],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// The sealed letters of `staff`, unless expired.
    async fn letters(
        &self,
        id: i64,
        staff: AccountId,
        now: Timestamp,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError>;
}

/// The audit trail.
#[async_trait]
pub trait Audit: Send + Sync + 'static {
    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError>;
    /// The account's audit trail, oldest first.
    async fn audit_history(&self, account: AccountId) -> Result<Vec<AuditEvent>, StoreError>;
}

/// The installation itself: its secret, readiness, retention.
#[async_trait]
pub trait Upkeep: Send + Sync + 'static {
    async fn installation_secret(&self) -> Result<Vec<u8>, StoreError>;
    /// Whether the database answers (one trivial statement: no table is read).
    async fn ping(&self) -> Result<(), StoreError>;
    /// Deletes what has expired (see [`Retention`]). Safe to run on several instances
    /// at once: every statement only deletes rows past a cutoff.
    async fn purge(&self, retention: &Retention) -> Result<Purged, StoreError>;
}

/// Single sign-on: the apps registered to sign in through the portal (OpenID Connect
/// clients) and the keys that sign their id tokens.
#[async_trait]
pub trait Federation: Send + Sync + 'static {
    /// Registers a client; [`StoreError::Conflict`] if its id is taken.
    async fn add_client(&self, client: &ClientRecord) -> Result<(), StoreError>;
    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError>;
    /// Every client, in the order they were registered.
    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError>;
    /// Removes a client; `false` if there was none with this id.
    async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError>;
    /// Stores `key` as the signing key of its algorithm unless one is active already
    /// (the first start; several instances may race, one wins). Whether it was stored.
    async fn add_first_signing_key(&self, key: &SigningKeyRecord) -> Result<bool, StoreError>;
    /// Retires the active key of `key`'s algorithm at `key.created_at` and makes `key`
    /// the active one, in one transaction. A concurrent rotation that won makes this
    /// one [`StoreError::Conflict`].
    async fn rotate_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError>;
    /// The active keys (first: the one that signs) and those retired after
    /// `retired_after`, newest first.
    async fn signing_keys(
        &self,
        retired_after: Timestamp,
    ) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// The account's `sub`: the one stored, else `candidate`, stored now (two racing
    /// first sign-ins store one and both get it).
    async fn subject(&self, account: AccountId, candidate: &str) -> Result<String, StoreError>;
    async fn add_code(&self, code: &CodeRecord) -> Result<(), StoreError>;
    async fn code(&self, code_hash: &[u8]) -> Result<Option<CodeRecord>, StoreError>;
    /// Redeems a code once, atomically with storing the access token issued for it:
    /// `true` if this call redeemed it and stored `token`. `false` if it had been
    /// redeemed before: then the tokens that redemption issued are revoked (deleted),
    /// in the same transaction, and `token` is not stored.
    async fn redeem_code(
        &self,
        code_hash: &[u8],
        now: Timestamp,
        token: &AccessTokenRecord,
    ) -> Result<bool, StoreError>;
    async fn access_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<AccessTokenRecord>, StoreError>;
}

/// An authorization code as stored (its SHA-256, never the code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub code_hash: Vec<u8>,
    pub client_id: String,
    pub account_id: AccountId,
    pub redirect_uri: String,
    /// The PKCE S256 challenge, if the app sent one.
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    /// The scopes granted, space-separated.
    pub scope: String,
    /// When the account last typed its password in the session that got the code.
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// When it was redeemed; a code is redeemed once.
    pub redeemed_at: Option<Timestamp>,
}

/// An access token as stored (its SHA-256), good for userinfo until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenRecord {
    pub token_hash: Vec<u8>,
    /// The code it was issued for: a replayed code revokes it.
    pub code_hash: Vec<u8>,
    pub client_id: String,
    pub account_id: AccountId,
    pub scope: String,
    pub expires_at: Timestamp,
}

/// An app registered for single sign-on, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    pub name: String,
    /// The SHA-256 (hex) of a confidential client's secret; `None` for a public client,
    /// which must prove itself with PKCE instead.
    pub secret_hash: Option<String>,
    /// Where the portal may send the browser back with a code: matched exactly.
    pub redirect_uris: Vec<String>,
    /// Who may sign in to the app and sees its tile.
    pub roles: Vec<Role>,
    /// The portal's tile for the app, if it has one.
    pub tile: Option<ClientTile>,
    /// The app's own page that signs in through the portal: where its tile leads.
    pub launch_uri: Option<String>,
    pub created_at: Timestamp,
}

/// An app's tile on the portal page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTile {
    pub title: String,
    pub description: Option<String>,
}

/// A key that signs id tokens. Its `Debug` never shows the private key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The key id published in the JWKS and in each token's header.
    pub kid: String,
    /// The JOSE algorithm (`RS256`).
    pub algorithm: String,
    /// The private key, PEM.
    pub private_pem: Secret,
    /// The public half, as the JWK the JWKS publishes (JSON).
    pub public_jwk: String,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("public_jwk", &self.public_jwk)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// Everything the services need from storage, one port per concern. The SQL store
/// implements them all; a test may implement them in memory ([`crate::memory`]).
pub trait Store:
    Accounts + Sessions + Lockout + Resets + StaffRecords + Audit + Upkeep + Federation
{
}

impl<T> Store for T where
    T: Accounts + Sessions + Lockout + Resets + StaffRecords + Audit + Upkeep + Federation
{
}

/// The cutoffs of one retention run: rows at or before each time go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub now: Timestamp,
    /// Sessions last seen at or before this (idle timeout)…
    pub sessions_idle_since: Timestamp,
    /// …or created at or before this (absolute timeout).
    pub sessions_created_before: Timestamp,
    /// Forgot-password attempts started at or before this.
    pub challenges_created_before: Timestamp,
    /// Class lists uploaded at or before this (their preview is long over).
    pub batches_created_before: Timestamp,
    /// Forgot-password limits whose bucket has emptied by then and are not blocked.
    pub reset_limits_idle_since: Timestamp,
    /// Sign-in counts of login IDs without an account, idle since.
    pub unknown_sign_ins_idle_since: Timestamp,
    /// Audit events older than this.
    pub audit_before: Timestamp,
    /// Signing keys retired at or before this: no token they signed is still valid.
    pub signing_keys_retired_before: Timestamp,
    /// Authorization codes and access tokens that expired at or before this.
    pub grants_expired_before: Timestamp,
}

/// How many rows one retention run removed, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub challenges: u64,
    pub letters: u64,
    pub batches: u64,
    pub reset_limits: u64,
    pub unknown_sign_ins: u64,
    pub audit_events: u64,
    pub signing_keys: u64,
    pub codes: u64,
    pub access_tokens: u64,
}

impl Purged {
    pub fn tables(&self) -> [(&'static str, u64); 10] {
        [
            ("sessions", self.sessions),
            ("reset_challenges", self.challenges),
            ("letter_batches", self.letters),
            ("import_batches", self.batches),
            ("reset_limits", self.reset_limits),
            ("unknown_sign_ins", self.unknown_sign_ins),
            ("audit_events", self.audit_events),
            ("oidc_signing_keys", self.signing_keys),
            ("oidc_codes", self.codes),
            ("oidc_access_tokens", self.access_tokens),
        ]
    }
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
    /// Hashes running and waiting now (for the metrics).
    fn load(&self) -> (usize, usize) {
        (0, 0)
    }
    /// Every worker busy and the queue full: a new hash would be refused. Lets a
    /// request be refused before it does any other work.
    fn saturated(&self) -> bool {
        false
    }
    /// Hashes it takes at once, running and waiting (beyond that: `Busy`).
    fn capacity(&self) -> usize {
        usize::MAX
    }
    /// Bytes of hash working memory the hasher holds (for the metrics).
    fn memory_bytes(&self) -> usize {
        0
    }
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}
