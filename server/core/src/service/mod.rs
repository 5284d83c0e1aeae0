//! The use cases of the journey, on top of the ports: sign in, look up the session,
//! save answers, change the password, sign out. Server functions and the page guard
//! are thin wrappers around these; every step check happens here.

use std::sync::Arc;

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use super::ports::{
    Account, AccountId, AuditEvent, Clock, FailureOutcome, HashError, HashUpgrade, LockoutPolicy,
    PasswordReplacement, RequestSession, ResetLimit, SecretHasher, SeenAt, SessionRecord, Store,
    StoreError, StoredAnswer, Timestamp,
};

mod operations;
mod retention;
mod self_service;

use super::throttle::{ClientThrottle, ThrottleSettings};
use domain::answers::{normalise_answer, parse_choices, ChosenQuestion, QUESTION_COUNT};
use domain::audit::{AuditKind, Throttled};
use domain::journey::{current_step, may_visit, JourneyState, Step};
use domain::login_id::LoginId;
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
        }
    }
}

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
        }
    }

    /// Sheds load at the door. Every sign-in needs one hash, and the hasher takes at
    /// most `capacity` at once (running and waiting): a sign-in beyond that many in
    /// flight, or arriving while the hasher is full, is answered "busy" at once, before
    /// it reads the account and claims an attempt (database work that would only be
    /// undone). The same for every login ID, so it tells nothing.
    fn admit_sign_in(&self) -> Result<SignInSlot<'_>, AppError> {
        use std::sync::atomic::Ordering;
        let before = self.sign_ins.fetch_add(1, Ordering::SeqCst);
        let slot = SignInSlot(&self.sign_ins);
        if before >= self.hasher.capacity() || self.hasher.saturated() {
            metrics::counter!("portal_sign_in_shed_total").increment(1);
            return Err(AppError::Busy);
        }
        Ok(slot)
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

    /// The session behind a cookie token, if it is alive. An idle or expired session
    /// is deleted and the request treated as signed out. A live one is touched, unless
    /// the request is `background` (the class view refreshing itself): only what a
    /// person does keeps a session alive.
    pub async fn session(
        &self,
        token: Option<&str>,
        client: Option<&str>,
        background: bool,
    ) -> Result<Option<ActiveSession>, AppError> {
        let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 128) else {
            return Ok(None);
        };
        let hash = token_hash(token);
        let now = self.clock.now();
        // One look-up (one round trip on PostgreSQL) that also marks a session within
        // its limits as used; a background refresh does not count as use.
        let seen = (!background).then_some(SeenAt {
            now,
            idle_secs: self.settings.idle_timeout_secs,
            absolute_secs: self.settings.absolute_timeout_secs,
        });
        let Some(RequestSession {
            record,
            account,
            touched,
        }) = self
            .store
            .session_for_request(&hash, seen)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let idle = now - record.last_seen_at >= self.settings.idle_timeout_secs;
        let too_old = now - record.created_at >= self.settings.absolute_timeout_secs;
        if idle || too_old {
            self.end_timed_out(
                &hash,
                &record,
                client,
                if idle { "idle" } else { "absolute" },
            )
            .await?;
            return Ok(None);
        }
        if account.onboarding() && now - record.reauth_at >= self.settings.journey_secs {
            // The journey runs on the sign-in with the letter's password; it ends on its
            // own, so an abandoned first login cannot be finished by someone else later.
            self.end_timed_out(&hash, &record, client, "journey")
                .await?;
            return Ok(None);
        }
        Ok(Some(ActiveSession {
            token_hash: hash,
            token: Secret::new(token),
            at: now,
            client: client.map(str::to_string),
            account,
            record: SessionRecord {
                last_seen_at: if touched { now } else { record.last_seen_at },
                ..record
            },
        }))
    }

    async fn end_timed_out(
        &self,
        hash: &[u8],
        record: &SessionRecord,
        client: Option<&str>,
        why: &str,
    ) -> Result<(), AppError> {
        self.store.delete_session(hash).await.map_err(internal)?;
        self.audit(
            Some(record.account_id),
            AuditKind::SessionTimeout,
            client.map(str::to_string),
            Some(why),
        )
        .await;
        Ok(())
    }

    /// Every credential change (the password or the security answers) passes here,
    /// whichever page or server function asked for it: the password must have been
    /// typed recently in this session. During the first-login journey that is the
    /// sign-in with the letter's password, within `journey_secs`; after it, answers
    /// change only within a "set up security questions again" (started under a recent
    /// sign-in, and ending on its own) and the password only within `reauth_secs` of
    /// typing it.
    pub fn require_fresh_credentials(
        &self,
        session: &ActiveSession,
        change: CredentialChange,
    ) -> Result<(), AppError> {
        let fresh = if session.account.onboarding() {
            session.recently_authenticated(self.clock.now(), self.settings.journey_secs)
        } else {
            match change {
                CredentialChange::Answers => session.redoing(),
                CredentialChange::Password => return self.require_recent_sign_in(session),
            }
        };
        if fresh {
            Ok(())
        } else {
            Err(AppError::ReauthRequired)
        }
    }

    /// Refuses a request over a per-client limit. Every refusal is counted in
    /// `portal_throttled_total{what}`; only the first per client and minute is audited.
    pub(crate) async fn check_throttle(
        &self,
        limiter: &ClientThrottle,
        what: Throttled,
        client: Option<&str>,
    ) -> Result<(), AppError> {
        let Err(retry_after_secs) = limiter.check(client) else {
            return Ok(());
        };
        metrics::counter!("portal_throttled_total", "what" => what.as_str()).increment(1);
        if self.throttled_audit.check(client).is_ok() {
            self.audit(
                None,
                AuditKind::Throttled(what),
                client.map(str::to_string),
                Some("further refusals for this address this minute are only counted"),
            )
            .await;
        }
        Err(AppError::Throttled { retry_after_secs })
    }

    /// The key a login ID without an account is counted under: a hash keyed by a secret
    /// of this process, so the table never holds what was typed.
    fn unknown_key(&self, id: &LoginId) -> String {
        let digest = Sha256::new()
            .chain_update(b"school-portal unknown login v1\0")
            .chain_update(self.unknown_key_secret)
            .chain_update(id.as_str().as_bytes())
            .finalize();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }

    /// The one answer for an unknown user, a wrong password and a locked account.
    pub fn invalid_credentials(&self) -> AppError {
        let lockout = &self.settings.lockout;
        AppError::InvalidCredentials {
            max_failures: lockout.max_failures,
            lock_minutes: u32::try_from(lockout.lock_secs.div_euclid(60)).unwrap_or(u32::MAX),
        }
    }

    /// Signs in. An unknown user, a wrong password and a locked account get the same
    /// error at the same cost (one argon2 verification each). Wrong passwords count
    /// towards the account's lockout; each check is claimed in the database before it
    /// runs, so parallel attempts cannot exceed the limit.
    pub async fn sign_in(
        &self,
        login_id: &str,
        password: &Secret,
        client: Option<String>,
    ) -> Result<(NewToken, Step, bool), AppError> {
        self.check_throttle(&self.throttle, Throttled::SignIn, client.as_deref())
            .await?;
        let _slot = self.admit_sign_in()?;
        let parsed = LoginId::parse(login_id);
        let account = match &parsed {
            Some(id) => self.store.account_by_login(id).await.map_err(internal)?,
            None => None,
        };
        let Some(account) = account else {
            // A well-formed login ID without an account does a wrong password's work: a
            // claim, one hash, a counted failure and an audit row, so the time taken
            // does not say it is unknown. It is counted under a keyed hash, never as
            // typed (people type passwords into the user name box). Text that is no
            // login ID at all cannot be an account: there is nothing to hide.
            let key = parsed.as_ref().map(|id| self.unknown_key(id));
            let now = self.clock.now();
            if let Some(key) = &key {
                self.store
                    .claim_unknown_attempt(key, now)
                    .await
                    .map_err(internal)?;
            }
            self.hasher
                .verify_dummy(password)
                .await
                .map_err(hash_error)?;
            if let Some(key) = &key {
                self.store
                    .unknown_attempt_failed(key, now)
                    .await
                    .map_err(internal)?;
            }
            self.audit(
                None,
                AuditKind::SignInFailed,
                client,
                Some("unknown login id"),
            )
            .await;
            return Err(self.invalid_credentials());
        };
        let Checked::Right { upgraded_hash } = self
            .check_counted(&account, password, client.clone())
            .await?
        else {
            return Err(self.invalid_credentials());
        };
        if account.temporary_expired(self.clock.now()) {
            // Only someone who typed the right password learns this.
            self.store
                .password_confirmed(account.id, None)
                .await
                .map_err(internal)?;
            self.audit(
                Some(account.id),
                AuditKind::SignInRefused,
                client,
                Some("temporary password expired"),
            )
            .await;
            return Err(AppError::TemporaryExpired);
        }
        let upgrade = upgraded_hash.as_deref().map(|new_hash| HashUpgrade {
            old_hash: &account.password_hash,
            new_hash,
        });
        let (token, hash) = NewToken::generate();
        self.store
            .start_session(&hash, account.id, self.clock.now(), upgrade)
            .await
            .map_err(internal)?;
        self.audit(
            Some(account.id),
            AuditKind::SignIn,
            client,
            upgrade.map(|_| "password hash upgraded to the current parameters"),
        )
        .await;
        let state = JourneyState {
            signed_in: true,
            temporary_password: account.temporary_password,
            questions_set: account.questions_set,
            answers_pending: false,
            redo_questions: false,
        };
        Ok((
            token,
            current_step(state),
            account.reset_notice_at.is_some(),
        ))
    }

    /// Checks a password against the account the way sign-in does: claimed first,
    /// counted towards the lockout when wrong, refused unchecked (at the same cost) when
    /// locked. A right password still has its claim open: the caller ends it with
    /// [`Store::start_session`] or [`Store::password_confirmed`].
    pub(crate) async fn check_counted(
        &self,
        account: &Account,
        password: &Secret,
        client: Option<String>,
    ) -> Result<Checked, AppError> {
        let claimed = self
            .store
            .claim_attempt(
                account.id,
                self.clock.now(),
                self.settings.lockout.max_failures,
                STALE_CLAIM_SECS,
            )
            .await
            .map_err(internal)?;
        if !claimed {
            // Locked (or every remaining guess is being checked right now): the password
            // is not checked, but the answer costs and looks the same.
            self.hasher
                .verify_dummy(password)
                .await
                .map_err(hash_error)?;
            self.audit(
                Some(account.id),
                AuditKind::SignInRefused,
                client,
                Some("locked"),
            )
            .await;
            return Ok(Checked::Wrong);
        }
        let verification = match self.hasher.check(password, &account.password_hash).await {
            Ok(verification) => verification,
            Err(error) => {
                if let Err(store_error) = self.store.release_attempt(account.id).await {
                    tracing::error!(%store_error, "could not release a sign-in claim");
                }
                return Err(hash_error(error));
            }
        };
        if !verification.matches {
            self.wrong_password(account.id, &verification.fingerprint, client)
                .await?;
            return Ok(Checked::Wrong);
        }
        // Busy or failed: keep the old hash this time; the next sign-in retries.
        let upgraded_hash = if verification.outdated {
            self.hasher.hash(password).await.ok()
        } else {
            None
        };
        Ok(Checked::Right { upgraded_hash })
    }

    async fn wrong_password(
        &self,
        account: AccountId,
        fingerprint: &[u8],
        client: Option<String>,
    ) -> Result<(), AppError> {
        let outcome = self
            .store
            .record_failure(
                account,
                fingerprint,
                self.clock.now(),
                &self.settings.lockout,
            )
            .await;
        let detail = match outcome {
            Ok(FailureOutcome::Counted { failures }) => {
                format!("wrong password ({failures} in a row)")
            }
            Ok(FailureOutcome::Repeated) => {
                "wrong password (repeated, not counted again)".to_string()
            }
            Ok(FailureOutcome::Locked { .. }) => "wrong password (limit reached)".to_string(),
            Err(error) => {
                tracing::error!(%error, "could not record a failed sign-in");
                return Err(AppError::Internal);
            }
        };
        self.audit(
            Some(account),
            AuditKind::SignInFailed,
            client.clone(),
            Some(&detail),
        )
        .await;
        if let Ok(FailureOutcome::Locked { until }) = outcome {
            let minutes = (until - self.clock.now()).div_euclid(60);
            self.audit(
                Some(account),
                AuditKind::AccountLocked,
                client,
                Some(&format!("locked for {minutes} minutes")),
            )
            .await;
        }
        Ok(())
    }

    /// Lifts a lockout (staff action). Returns whether the account was locked.
    pub async fn unlock(&self, account: AccountId, actor: &str) -> Result<bool, AppError> {
        let was_locked = self
            .store
            .unlock(account, self.clock.now())
            .await
            .map_err(internal)?;
        self.audit_as(
            Some(account),
            actor,
            AuditKind::AccountUnlocked,
            None,
            Some(if was_locked {
                "lockout lifted"
            } else {
                "failure count cleared (was not locked)"
            }),
        )
        .await;
        Ok(was_locked)
    }

    /// Refuses a request that belongs to another step.
    pub fn require_step(&self, session: &ActiveSession, step: Step) -> Result<(), AppError> {
        let state = session.journey();
        if may_visit(state, step) {
            Ok(())
        } else {
            Err(AppError::WrongStep {
                path: current_step(state).path().to_string(),
            })
        }
    }

    /// Step 3: checks the choices and keeps them in the session for review.
    pub async fn submit_questions(
        &self,
        session: &ActiveSession,
        questions: &[String; QUESTION_COUNT],
        answers: &[String; QUESTION_COUNT],
    ) -> Result<(), AppError> {
        self.require_step(session, Step::SetupQuestions)?;
        self.require_fresh_credentials(session, CredentialChange::Answers)?;
        let chosen = parse_choices(questions, answers, &session.owner())
            .map_err(AppError::AnswersRefused)?;
        let json = serde_json::to_vec(&chosen).map_err(|_| AppError::Internal)?;
        let sealed = base64::engine::general_purpose::STANDARD
            .encode(session.seal(PENDING_QUESTIONS_PURPOSE, &json)?);
        self.store
            .set_pending_questions(&session.token_hash, Some(&sealed))
            .await
            .map_err(internal)
    }

    /// Step 4: hashes the normalised answers and stores them.
    pub async fn confirm_questions(&self, session: &ActiveSession) -> Result<(), AppError> {
        self.require_step(session, Step::ConfirmQuestions)?;
        self.require_fresh_credentials(session, CredentialChange::Answers)?;
        let chosen = session.pending().ok_or_else(|| AppError::WrongStep {
            path: Step::SetupQuestions.path().to_string(),
        })?;
        let mut stored = Vec::with_capacity(QUESTION_COUNT);
        for choice in &chosen {
            let normal = Secret::new(normalise_answer(&choice.answer));
            stored.push(StoredAnswer {
                question_id: choice.question.as_str().to_string(),
                answer_hash: self.hasher.hash(&normal).await.map_err(hash_error)?,
            });
        }
        self.store
            .save_answers(
                session.account.id,
                &stored,
                &session.token_hash,
                self.clock.now(),
            )
            .await
            .map_err(internal)?;
        self.audit(
            Some(session.account.id),
            AuditKind::AnswersSet,
            session.client.clone(),
            None,
        )
        .await;
        Ok(())
    }

    /// Step 6: checks the new password with the shared rules, then swaps it in and
    /// rotates the session. Returns the new session's token.
    pub async fn change_password(
        &self,
        session: &ActiveSession,
        new_password: &Secret,
        confirm: &Secret,
    ) -> Result<NewToken, AppError> {
        self.require_step(session, Step::ChangePassword)?;
        self.require_fresh_credentials(session, CredentialChange::Password)?;
        let token = self
            .replace_password(&session.account, new_password, confirm, true)
            .await?
            .ok_or(AppError::Internal)?;
        self.audit(
            Some(session.account.id),
            AuditKind::PasswordChanged,
            session.client.clone(),
            None,
        )
        .await;
        Ok(token)
    }

    /// Checks a new password (the policy, the confirmation, the history) and stores it:
    /// every session of the account ends; with `keep_signed_in` a new one starts and
    /// its token is returned, otherwise (a forgot-password reset) nobody is signed in.
    pub(crate) async fn replace_password(
        &self,
        account: &Account,
        new_password: &Secret,
        confirm: &Secret,
        keep_signed_in: bool,
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
        self.store
            .replace_password(
                account.id,
                PasswordReplacement {
                    new_hash: &new_hash,
                    new_session: session.as_ref().map(|(_, hash)| hash.as_slice()),
                    history: self.settings.password_history,
                    reset: !keep_signed_in,
                },
                self.clock.now(),
            )
            .await
            .map_err(internal)?;
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

    pub async fn sign_out(&self, session: &ActiveSession) -> Result<(), AppError> {
        self.store
            .delete_session(&session.token_hash)
            .await
            .map_err(internal)?;
        self.audit(
            Some(session.account.id),
            AuditKind::SignOut,
            session.client.clone(),
            None,
        )
        .await;
        Ok(())
    }

    /// "Reset this practice account": in practice mode only, and only for an account of
    /// the practice school, the signed-in account goes back to the start of the journey
    /// (the letter's temporary password, no answers, no history) and is signed out.
    pub async fn restart_practice(&self, session: &ActiveSession) -> Result<(), AppError> {
        use domain::practice::{is_practice_login, PRACTICE_PASSWORD, PRACTICE_SCHOOL};
        if !self.settings.practice
            || session.account.school_code.as_deref() != Some(PRACTICE_SCHOOL.0)
            || !is_practice_login(session.account.login_id.as_str())
        {
            return Err(AppError::Forbidden);
        }
        let hash = self
            .hasher
            .hash(&Secret::new(PRACTICE_PASSWORD))
            .await
            .map_err(hash_error)?;
        self.store
            .restart_practice_account(session.account.id, &hash, self.now())
            .await
            .map_err(internal)?;
        self.audit(
            Some(session.account.id),
            AuditKind::PracticeReset,
            session.client.clone(),
            None,
        )
        .await;
        Ok(())
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
        // Every security event is also a Prometheus counter: sign-ins, failures,
        // lockouts, onboarding steps completed, resets…
        metrics::counter!("portal_events_total", "kind" => kind.as_str()).increment(1);
        let event = AuditEvent {
            at: self.clock.now(),
            account_id,
            actor: actor.to_string(),
            kind: kind.to_string(),
            client,
            detail: detail.map(str::to_string),
        };
        if let Err(error) = self.store.audit(event).await {
            tracing::error!(%error, kind = kind.as_str(), "could not write audit event");
        }
    }
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
