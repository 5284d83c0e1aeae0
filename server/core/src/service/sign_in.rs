//! Signing in: the door's load shedding, the counted password check with its lockout,
//! and staff unlocking an account.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::{
    count_event, hash_error, internal, Checked, NewToken, Portal, SignInSlot, STALE_CLAIM_SECS,
};
use crate::ports::{Account, AccountId, FailureOutcome, HashUpgrade};
use crate::throttle::ClientThrottle;
use domain::audit::{AuditKind, Throttled};
use domain::journey::{current_step, JourneyState, Step};
use domain::login_id::LoginId;
use domain::secret::Secret;
use proto::error::AppError;

impl Portal {
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
        let audit = self.audit_event(
            Some(account.id),
            "self",
            AuditKind::SignIn,
            client,
            upgrade.map(|_| "password hash upgraded to the current parameters"),
        );
        self.store
            .start_session(&hash, account.id, self.clock.now(), upgrade, &audit)
            .await
            .map_err(internal)?;
        count_event(AuditKind::SignIn);
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
}
