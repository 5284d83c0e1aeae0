//! The services, on top of the ports: one [`Portal`] shared by every request, its use
//! cases a file each — signing in and the lockout (`sign_in.rs`), the session behind a
//! request (`sessions.rs`), the first-login journey (`journey.rs`), self-service and
//! forgot password (`self_service.rs`), operations and practice mode (`operations.rs`),
//! retention (`retention.rs`), single sign-on's registry and keys (`federation.rs`);
//! staff work is in [`crate::staff`] and class lists in
//! [`crate::provisioning`]. Server functions and the page guard are thin wrappers
//! around these; every step check happens here.

use std::sync::Arc;

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use super::ports::{
    Account, AuditEvent, Clock, HashError, LockoutPolicy, PasswordReplacement, ResetLimit,
    SecretHasher, SessionRecord, Store, StoreError, Timestamp,
};

pub mod authorization;
pub mod federation;
mod journey;
mod operations;
mod retention;
mod self_service;
mod sessions;
mod sign_in;

use super::throttle::{ClientThrottle, ThrottleSettings};
use domain::answers::{ChosenQuestion, QUESTION_COUNT};
use domain::audit::AuditKind;
use domain::journey::JourneyState;
use domain::password::{check_new_password, PasswordOwner, PasswordPolicy, Violation};
use domain::secret::Secret;
pub use operations::{PracticeAccount, PracticeSeed};
use proto::error::AppError;
pub use retention::IMPORT_BATCH_SECS;

/// Settings the services need; the server fills them from its configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A session with no request for this long is over (the seed's "Idle Timeout: 4 minutes").
    pub idle_timeout_secs: i64,
    /// A session is over this long after sign-in, however active.
    pub absolute_timeout_secs: i64,
    pub policy: PasswordPolicy,
    /// Mark the cookie `Secure` (and use the `__Host-` prefix): on when served over HTTPS.
    pub secure_cookies: bool,
    pub lockout: LockoutPolicy,
    pub throttle: ThrottleSettings,
    /// Forgot-password answer checks per client address (a tighter second limit on
    /// top of the per-login-ID bucket).
    pub answer_throttle: ThrottleSettings,
    /// Take the client's address from the last `X-Forwarded-For` entry (only behind a
    /// proxy that sets it); otherwise the TCP peer's address is used.
    pub trust_forwarded_for: bool,
    /// The SSPR asks for the password again when the last time it was typed in this
    /// session is older than this. A "set up security questions again" started under
    /// such a sign-in lasts this long too.
    pub reauth_secs: i64,
    /// The first-login journey must be finished this long after the sign-in with the
    /// temporary password; then the session ends and the letter's password is typed
    /// again. Every onboarding credential change checks it.
    pub journey_secs: i64,
    /// Earlier passwords (besides the temporary ones) that may not be chosen again.
    pub password_history: usize,
    /// Wrong forgot-password answers allowed per login ID.
    pub reset_limit: ResetLimit,
    /// Practice mode (`server --demo`): the banner on every page, the presenter view and
    /// "Reset this practice account".
    pub practice: bool,
    /// Audit events older than this are deleted by the retention job.
    pub audit_retention_secs: i64,
    /// `/metrics` on the portal's own listener answers only a request bearing this
    /// token (none: not at all). Redacted in `Debug`.
    pub metrics_token: Option<Secret>,
    /// The portal's public address (`https://host/`), printed on the letters. Unset,
    /// the letters use the address the staff member's browser asked for.
    pub public_url: Option<String>,
    /// Where the seed's "Student ICON E-Mail" tile leads (empty: no tile).
    pub email_url: String,
    /// Where the seed's "Student Learning Space – SLS" tile leads (empty: no tile). In
    /// practice mode, the built-in demo app.
    pub learning_space_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 4 * 60,
            absolute_timeout_secs: 8 * 60 * 60,
            policy: PasswordPolicy::default(),
            secure_cookies: false,
            lockout: LockoutPolicy::default(),
            throttle: ThrottleSettings::default(),
            answer_throttle: ThrottleSettings {
                per_minute: 30,
                burst: 10,
            },
            trust_forwarded_for: false,
            reauth_secs: 5 * 60,
            journey_secs: 60 * 60,
            password_history: 5,
            reset_limit: ResetLimit::default(),
            practice: false,
            audit_retention_secs: 400 * 86_400,
            metrics_token: None,
            public_url: None,
            email_url: DEFAULT_EMAIL_URL.to_string(),
            learning_space_url: DEFAULT_LEARNING_SPACE_URL.to_string(),
        }
    }
}

/// The seed guide's "Student ICON E-Mail" (Google Workspace for the students' domain).
pub const DEFAULT_EMAIL_URL: &str = "https://mail.google.com/a/students.edu.sg";
/// The seed guide's "Student Learning Space – SLS".
pub const DEFAULT_LEARNING_SPACE_URL: &str = "https://vle.learning.moe.edu.sg";

/// A fresh session token, to be sent to the browser in the cookie only.
pub struct NewToken(String);

impl NewToken {
    fn generate() -> (NewToken, Vec<u8>) {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let hash = token_hash(&token);
        (NewToken(token), hash)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewToken([redacted])")
    }
}

/// The database keeps only this hash, so a leaked table cannot be replayed as cookies.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A signed-in request: the session and its account, as loaded for this request.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    token_hash: Vec<u8>,
    pub account: Account,
    pub record: SessionRecord,
    /// The address this request came from, for the audit trail.
    pub client: Option<String>,
    /// The cookie's token itself (the database holds only its hash): it seals what
    /// only this session may read again, like a batch of letters.
    token: Secret,
    /// When this request loaded the session.
    at: Timestamp,
}

/// The sealing purposes: a key for one purpose never opens another's data.
pub(crate) const PENDING_QUESTIONS_PURPOSE: &str = "pending security questions";

impl ActiveSession {
    pub fn journey(&self) -> JourneyState {
        JourneyState {
            signed_in: true,
            temporary_password: self.account.temporary_password,
            questions_set: self.account.questions_set,
            answers_pending: self.record.pending_questions.is_some(),
            redo_questions: self.redoing(),
        }
    }

    /// "Set up security questions again" is under way and has not run out.
    pub fn redoing(&self) -> bool {
        self.record.redo_until.is_some_and(|until| until > self.at)
    }

    /// Seals `plain` (ChaCha20-Poly1305, random nonce first) under this session's key
    /// for `purpose`: the database keeps only what another session, or a copy of the
    /// database, cannot read.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> Result<Vec<u8>, AppError> {
        use chacha20poly1305::aead::{Aead as _, KeyInit as _};
        use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.sealing_key(purpose)));
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), plain)
            .map_err(|_| AppError::Internal)?;
        Ok([nonce.as_slice(), sealed.as_slice()].concat())
    }

    /// Opens what [`ActiveSession::seal`] sealed for `purpose`; `None` if it was sealed
    /// by another session, for another purpose, or altered.
    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead as _, KeyInit as _};
        use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
        let (nonce, sealed) = sealed.split_at_checked(12)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.sealing_key(purpose)));
        cipher.decrypt(Nonce::from_slice(nonce), sealed).ok()
    }

    /// A 256-bit key only this session can derive (from its cookie token).
    pub fn sealing_key(&self, purpose: &str) -> [u8; 32] {
        Sha256::new()
            .chain_update(b"school-portal sealing key v1\0")
            .chain_update(purpose.as_bytes())
            .chain_update(b"\0")
            .chain_update(self.token.expose().as_bytes())
            .finalize()
            .into()
    }

    /// Whether the password was typed in this session within `secs` of `now`.
    pub fn recently_authenticated(&self, now: Timestamp, secs: i64) -> bool {
        now - self.record.reauth_at < secs
    }

    pub fn owner(&self) -> PasswordOwner {
        self.account.owner()
    }

    /// The choices waiting for confirmation, if any (opened with this session's key).
    pub fn pending(&self) -> Option<[ChosenQuestion; QUESTION_COUNT]> {
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(self.record.pending_questions.as_deref()?)
            .ok()?;
        let json = self.open(PENDING_QUESTIONS_PURPOSE, &sealed)?;
        serde_json::from_slice(&json).ok()
    }
}

/// The journey's services, shared by every request.
pub struct Portal {
    store: Arc<dyn Store>,
    hasher: Arc<dyn SecretHasher>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    throttle: ClientThrottle,
    answer_throttle: ClientThrottle,
    /// One audit row per client address and minute for throttled requests: a flood is
    /// counted in `portal_throttled_total`, not written row by row.
    throttled_audit: ClientThrottle,
    /// Sign-ins being handled now (see [`Portal::admit_sign_in`]).
    sign_ins: std::sync::atomic::AtomicUsize,
    /// Keys the counts of login IDs without an account ([`Portal::unknown_key`]).
    unknown_key_secret: [u8; 32],
    /// The registered apps, as the portal page's tiles read them: kept for
    /// [`authorization::TILES_SECS`], so a page view does not read the registry.
    tiles: std::sync::Mutex<Option<(std::time::Instant, Arc<Vec<crate::ports::ClientRecord>>)>>,
}

/// One sign-in counted as in flight until dropped.
struct SignInSlot<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for SignInSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What a credential change replaces (see [`Portal::require_fresh_credentials`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialChange {
    Answers,
    Password,
}

/// What a counted password check found.
pub(crate) enum Checked {
    Right { upgraded_hash: Option<String> },
    Wrong,
}

/// A sign-in check claimed on an account and not finished after this many seconds
/// (its server died mid-check) stops counting against the limit.
const STALE_CLAIM_SECS: i64 = 60;

impl Portal {
    pub fn new(
        store: Arc<dyn Store>,
        hasher: Arc<dyn SecretHasher>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Self {
        Self {
            store,
            hasher,
            clock,
            throttle: ClientThrottle::new(settings.throttle),
            answer_throttle: ClientThrottle::new(settings.answer_throttle),
            throttled_audit: ClientThrottle::new(ThrottleSettings {
                per_minute: 1,
                burst: 1,
            }),
            settings,
            sign_ins: std::sync::atomic::AtomicUsize::new(0),
            unknown_key_secret: {
                let mut secret = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut secret);
                secret
            },
            tiles: std::sync::Mutex::new(None),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The store, for the services of this crate (provisioning, staff); everything
    /// outside goes through the services, so nothing bypasses their rules and audit.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn hasher(&self) -> &Arc<dyn SecretHasher> {
        &self.hasher
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Checks a new password (the policy, the confirmation, the history) and stores it
    /// with its audit event `record` (kind, client, detail): every session of the
    /// account ends; with `keep_signed_in` a new one starts and its token is returned,
    /// otherwise (a forgot-password reset) nobody is signed in.
    pub(crate) async fn replace_password(
        &self,
        account: &Account,
        new_password: &Secret,
        confirm: &Secret,
        keep_signed_in: bool,
        record: (AuditKind, Option<String>, Option<&str>),
    ) -> Result<Option<NewToken>, AppError> {
        let mut violations = check_new_password(
            new_password.expose(),
            confirm.expose(),
            &account.owner(),
            &self.settings.policy,
        );
        // The browser checks a subset of the common-password list; here, the full one
        // (kept in rule order, after the character-type rule).
        if !violations.contains(&Violation::Common)
            && crate::common_passwords::is_common(new_password.expose())
        {
            let at = violations
                .iter()
                .position(|v| v.rule() > domain::password::RuleId::NotCommon)
                .unwrap_or(violations.len());
            violations.insert(at, Violation::Common);
        }
        if violations.is_empty() && self.was_used(account, new_password).await? {
            violations.push(Violation::SameAsCurrent);
        }
        if !violations.is_empty() {
            return Err(AppError::PasswordRefused(violations));
        }
        let new_hash = self.hasher.hash(new_password).await.map_err(hash_error)?;
        let session = keep_signed_in.then(NewToken::generate);
        let (kind, client, detail) = record;
        let audit = self.audit_event(Some(account.id), "self", kind, client, detail);
        self.store
            .replace_password(
                account.id,
                PasswordReplacement {
                    new_hash: &new_hash,
                    new_session: session.as_ref().map(|(_, hash)| hash.as_slice()),
                    history: self.settings.password_history,
                    reset: !keep_signed_in,
                    audit: &audit,
                },
                self.clock.now(),
            )
            .await
            .map_err(internal)?;
        count_event(kind);
        Ok(session.map(|(token, _)| token))
    }

    /// Whether `password` is the account's current password or one in its history
    /// (the temporary ones included).
    pub(crate) async fn was_used(
        &self,
        account: &Account,
        password: &Secret,
    ) -> Result<bool, AppError> {
        if self
            .hasher
            .verify(password, &account.password_hash)
            .await
            .map_err(hash_error)?
        {
            return Ok(true);
        }
        let history = self
            .store
            .password_history(account.id)
            .await
            .map_err(internal)?;
        for old in &history {
            if self
                .hasher
                .verify(password, old)
                .await
                .map_err(hash_error)?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes an audit event with the account itself as the actor.
    pub async fn audit(
        &self,
        account_id: Option<i64>,
        kind: AuditKind,
        client: Option<String>,
        detail: Option<&str>,
    ) {
        self.audit_as(account_id, "self", kind, client, detail)
            .await;
    }

    /// Writes an audit event. A failure to audit is logged, not shown to the user.
    pub async fn audit_as(
        &self,
        account_id: Option<i64>,
        actor: &str,
        kind: AuditKind,
        client: Option<String>,
        detail: Option<&str>,
    ) {
        count_event(kind);
        let event = self.audit_event(account_id, actor, kind, client, detail);
        if let Err(error) = self.store.audit(event).await {
            tracing::error!(%error, kind = kind.as_str(), "could not write audit event");
        }
    }

    /// An audit event of this moment. [`Self::audit_as`] writes one on its own; a sign-in,
    /// an answer set and a password change hand theirs to the store operation that
    /// writes it in the change's own transaction (committed together or not at all, in
    /// one round trip fewer) and count it with [`count_event`] once that succeeded.
    pub(crate) fn audit_event(
        &self,
        account_id: Option<i64>,
        actor: &str,
        kind: AuditKind,
        client: Option<String>,
        detail: Option<&str>,
    ) -> AuditEvent {
        AuditEvent {
            at: self.clock.now(),
            account_id,
            actor: actor.to_string(),
            kind: kind.to_string(),
            client,
            detail: detail.map(str::to_string),
        }
    }
}

/// Every security event is also a Prometheus counter: sign-ins, failures, lockouts,
/// onboarding steps completed, resets…
pub(crate) fn count_event(kind: AuditKind) {
    metrics::counter!("portal_events_total", "kind" => kind.as_str()).increment(1);
}

pub(crate) fn internal(error: StoreError) -> AppError {
    tracing::error!(%error, "store error");
    match error {
        // The database is away: "try again in a moment" (503), and nothing changed.
        StoreError::Unavailable(_) => AppError::Unavailable,
        _ => AppError::Internal,
    }
}

pub(crate) fn hash_error(error: HashError) -> AppError {
    match error {
        HashError::Busy => AppError::Busy,
        HashError::Failed(reason) => {
            tracing::error!(%reason, "hashing failed");
            AppError::Internal
        }
    }
}
