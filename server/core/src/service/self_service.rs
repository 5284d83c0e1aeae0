//! Self-service after onboarding: the forgot-password reset with two of the three
//! security questions, and the SSPR (sign in again, change the password, set up the
//! questions again).

use rand::seq::index::sample;

use super::{hash_error, internal, ActiveSession, Checked, CredentialChange, NewToken, Portal};
use crate::ports::{ChallengeRecord, HashUpgrade, ResetClaim};
use domain::answers::{normalise_answer, QuestionId, QUESTION_COUNT, QUESTION_LISTS};
use domain::audit::{AuditKind, Throttled};
use domain::journey::Step;
use domain::login_id::LoginId;
use domain::provisioning::Role;
use domain::secret::Secret;
use proto::error::AppError;
use proto::ResetView;

/// A forgot-password attempt ends this long after it started.
pub const RESET_CHALLENGE_SECS: i64 = 15 * 60;

/// "Forgot Password?" answers no sooner than this after the login ID was read. An
/// existing account's row takes longer to read than no row (~0.3 ms of a ~1 ms answer,
/// `sign_in_timing`), which would tell which login IDs exist; every answer waits until
/// the same moment instead (a sleep: no CPU is spent).
const RESET_START_FLOOR: std::time::Duration = std::time::Duration::from_millis(20);

/// Two different answer slots out of three, at random.
fn random_slots() -> [usize; 2] {
    let picked = sample(&mut rand::thread_rng(), QUESTION_COUNT, 2);
    let (a, b) = (picked.index(0), picked.index(1));
    [a.min(b), a.max(b)]
}

impl Portal {
    // ---- forgot password ---------------------------------------------------------------

    /// Starts a reset for whatever login ID was typed. An unknown ID, or an account
    /// without answers, gets a challenge that looks the same and can never succeed.
    pub async fn start_reset(
        &self,
        login_id: &str,
        client: Option<String>,
    ) -> Result<NewToken, AppError> {
        self.check_throttle(&self.throttle, Throttled::ResetStart, client.as_deref())
            .await?;
        let answer_at = tokio::time::Instant::now() + RESET_START_FLOOR;
        let id = LoginId::parse(login_id).ok_or(AppError::InvalidLoginId)?;
        if matches!(Role::of(&id), Some(Role::Staff | Role::Hq)) {
            // A staff account opens a whole school's class lists and letters: answers a
            // colleague could guess must not open it. Staff are reset by the MIMS
            // Administrators (`server accounts reset`), as the guide says.
            return Err(AppError::StaffResetRefused);
        }
        let account = self.store.account_by_login(&id).await.map_err(internal)?;
        let answerable = account.as_ref().filter(|a| a.questions_set).map(|a| a.id);
        let (token, hash) = NewToken::generate();
        self.store
            .create_challenge(
                &hash,
                &ChallengeRecord {
                    login_key: id.as_str().to_string(),
                    account_id: answerable,
                    slots: random_slots(),
                    created_at: self.clock.now(),
                    verified_at: None,
                },
            )
            .await
            .map_err(internal)?;
        // Audited for every login ID, existing or not: both paths do the same writes,
        // so the time taken tells nothing either.
        self.audit(
            account.as_ref().map(|a| a.id),
            AuditKind::ResetStarted,
            client,
            None,
        )
        .await;
        tokio::time::sleep_until(answer_at).await;
        Ok(token)
    }

    /// The reset behind a cookie token, unless it is missing or has expired.
    async fn live_challenge(
        &self,
        token: Option<&str>,
    ) -> Result<(Vec<u8>, ChallengeRecord), AppError> {
        let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 128) else {
            return Err(AppError::ResetEnded);
        };
        let hash = super::token_hash(token);
        let Some(challenge) = self.store.challenge(&hash).await.map_err(internal)? else {
            return Err(AppError::ResetEnded);
        };
        if self.clock.now() - challenge.created_at >= RESET_CHALLENGE_SECS {
            self.store.delete_challenge(&hash).await.map_err(internal)?;
            return Err(AppError::ResetEnded);
        }
        Ok((hash, challenge))
    }

    /// What the forgot-password pages show for this browser's reset.
    pub async fn reset_view(&self, token: Option<&str>) -> Result<ResetView, AppError> {
        let (_, challenge) = match self.live_challenge(token).await {
            Ok(found) => found,
            Err(AppError::ResetEnded) => return Ok(ResetView::Start),
            Err(error) => return Err(error),
        };
        if challenge.verified_at.is_some() {
            let account = match challenge.account_id {
                Some(id) => self.store.account(id).await.map_err(internal)?,
                None => None,
            };
            return match account {
                Some(account) => Ok(ResetView::NewPassword {
                    owner: account.owner(),
                    policy: self.settings.policy,
                }),
                None => Ok(ResetView::Start),
            };
        }
        let all = self.challenge_questions(&challenge).await?;
        Ok(ResetView::Questions {
            questions: [all[challenge.slots[0]], all[challenge.slots[1]]],
        })
    }

    /// The account's three questions, or three plausible ones that are the same every
    /// time for a login ID without answers.
    async fn challenge_questions(
        &self,
        challenge: &ChallengeRecord,
    ) -> Result<[QuestionId; QUESTION_COUNT], AppError> {
        if let Some(id) = challenge.account_id {
            let stored = self.store.answers(id).await.map_err(internal)?;
            let ids: Vec<QuestionId> = stored
                .iter()
                .filter_map(|a| QuestionId::parse(&a.question_id))
                .collect();
            if let Ok(ids) = <[QuestionId; QUESTION_COUNT]>::try_from(ids) {
                return Ok(ids);
            }
            tracing::error!(account = id, "stored answers are incomplete");
        }
        self.plausible_questions(&challenge.login_key).await
    }

    async fn plausible_questions(
        &self,
        login_key: &str,
    ) -> Result<[QuestionId; QUESTION_COUNT], AppError> {
        use sha2::{Digest as _, Sha256};
        let secret = self.store.installation_secret().await.map_err(internal)?;
        let digest = Sha256::new()
            .chain_update(&secret)
            .chain_update(login_key.as_bytes())
            .finalize();
        Ok(std::array::from_fn(|list| {
            let choices = QUESTION_LISTS[list];
            choices[usize::from(digest[list]) % choices.len()]
        }))
    }

    /// Checks the two answers. Wrong answers count against the login ID (existing or
    /// not), never against sign-in; the message never says which answer was wrong, and
    /// the next attempt asks two questions chosen afresh.
    pub async fn answer_reset(
        &self,
        token: Option<&str>,
        answers: [Secret; 2],
        client: Option<String>,
    ) -> Result<(), AppError> {
        let (hash, challenge) = self.live_challenge(token).await?;
        if challenge.verified_at.is_some() {
            return Ok(());
        }
        self.check_throttle(
            &self.answer_throttle,
            Throttled::ResetAnswers,
            client.as_deref(),
        )
        .await?;
        let limit = &self.settings.reset_limit;
        let hours = u32::try_from(limit.block_secs.div_euclid(3600)).unwrap_or(u32::MAX);
        let now = self.clock.now();
        if let ResetClaim::Blocked { .. } = self
            .store
            .claim_reset_attempt(&challenge.login_key, now, limit)
            .await
            .map_err(internal)?
        {
            return Err(AppError::ResetBlocked { hours });
        }
        let matched = match challenge.account_id {
            Some(id) => {
                let stored = self.store.answers(id).await.map_err(internal)?;
                // Both answers are always checked, so the time says nothing either.
                let mut all = stored.len() == QUESTION_COUNT;
                for (answer, slot) in answers.iter().zip(challenge.slots) {
                    let normal = Secret::new(normalise_answer(answer.expose()));
                    let phc = stored.get(slot).map(|a| a.answer_hash.as_str());
                    let ok = self
                        .hasher
                        .verify(&normal, phc.unwrap_or(""))
                        .await
                        .map_err(hash_error)?;
                    all &= ok;
                }
                all
            }
            None => {
                for answer in &answers {
                    self.hasher.verify_dummy(answer).await.map_err(hash_error)?;
                }
                false
            }
        };
        if matched {
            self.store
                .reset_attempt_succeeded(&challenge.login_key)
                .await
                .map_err(internal)?;
            self.store
                .verify_challenge(&hash, now)
                .await
                .map_err(internal)?;
            self.audit(
                challenge.account_id,
                AuditKind::ResetAnswersMatched,
                client,
                None,
            )
            .await;
            return Ok(());
        }
        let blocked = self
            .store
            .reset_attempt_failed(&challenge.login_key, now, limit)
            .await
            .map_err(internal)?;
        // The global alarm: every wrong answer, for any login ID, existing or not (an
        // alert on its rate catches guessing spread over many IDs and addresses).
        metrics::counter!("portal_reset_answer_failures_total").increment(1);
        self.store
            .set_challenge_slots(&hash, random_slots())
            .await
            .map_err(internal)?;
        // Audited for every login ID, existing or not (the same writes either way).
        self.audit(
            challenge.account_id,
            if blocked.is_some() {
                AuditKind::ResetBlocked
            } else {
                AuditKind::ResetAnswersFailed
            },
            client,
            None,
        )
        .await;
        Err(match blocked {
            Some(_) => AppError::ResetBlocked { hours },
            None => AppError::AnswersDoNotMatch,
        })
    }

    /// Sets the new password after the answers matched. Every session of the account
    /// ends; nobody is signed in by this.
    pub async fn reset_password(
        &self,
        token: Option<&str>,
        new_password: &Secret,
        confirm: &Secret,
        client: Option<String>,
    ) -> Result<(), AppError> {
        let (hash, challenge) = self.live_challenge(token).await?;
        let (Some(id), Some(_)) = (challenge.account_id, challenge.verified_at) else {
            return Err(AppError::ResetEnded);
        };
        let account = self
            .store
            .account(id)
            .await
            .map_err(internal)?
            .ok_or(AppError::ResetEnded)?;
        if account.role != Role::Student {
            return Err(AppError::StaffResetRefused);
        }
        self.replace_password(
            &account,
            new_password,
            confirm,
            false,
            (
                AuditKind::PasswordReset,
                client,
                Some("with the security questions; every session ended"),
            ),
        )
        .await?;
        self.store.delete_challenge(&hash).await.map_err(internal)?;
        Ok(())
    }

    // ---- SSPR ------------------------------------------------------------------------

    /// Refuses SSPR changes when the password was not typed recently in this session.
    pub fn require_recent_sign_in(&self, session: &ActiveSession) -> Result<(), AppError> {
        if session.recently_authenticated(self.clock.now(), self.settings.reauth_secs) {
            Ok(())
        } else {
            Err(AppError::ReauthRequired)
        }
    }

    /// The SSPR's "Please Sign in": the password again, counted like a sign-in.
    pub async fn sspr_sign_in(
        &self,
        session: &ActiveSession,
        password: &Secret,
    ) -> Result<(), AppError> {
        self.require_step(session, Step::SsprSignIn)?;
        let account = &session.account;
        let Checked::Right { upgraded_hash } = self
            .check_counted(account, password, session.client.clone())
            .await?
        else {
            return Err(AppError::WrongPassword);
        };
        let upgrade = upgraded_hash.as_deref().map(|new_hash| HashUpgrade {
            old_hash: &account.password_hash,
            new_hash,
        });
        self.store
            .password_confirmed(account.id, upgrade)
            .await
            .map_err(internal)?;
        self.store
            .set_reauth(&session.token_hash, self.clock.now())
            .await
            .map_err(internal)?;
        self.audit(
            Some(account.id),
            AuditKind::SignedInAgain,
            session.client.clone(),
            Some("SSPR"),
        )
        .await;
        Ok(())
    }

    /// "Set up security questions again": the onboarding set-up and confirm screens
    /// open for this session, for `reauth_secs` (it needs a recent sign-in to start,
    /// and ends on its own, when saved, or when cancelled).
    pub async fn start_redo_questions(&self, session: &ActiveSession) -> Result<(), AppError> {
        self.require_step(session, Step::SsprHome)?;
        self.require_recent_sign_in(session)?;
        let until = self.clock.now() + self.settings.reauth_secs;
        self.store
            .set_redo_questions(&session.token_hash, Some(until))
            .await
            .map_err(internal)
    }

    /// "Cancel" on a redo: the set-up screens close and the pending choices go.
    pub async fn cancel_redo_questions(&self, session: &ActiveSession) -> Result<(), AppError> {
        self.store
            .set_redo_questions(&session.token_hash, None)
            .await
            .map_err(internal)
    }

    /// SSPR "Change Password": the current password, then a new one under the policy
    /// and the history rule. Every other session ends; this one gets a new token.
    pub async fn sspr_change_password(
        &self,
        session: &ActiveSession,
        current: &Secret,
        new_password: &Secret,
        confirm: &Secret,
    ) -> Result<NewToken, AppError> {
        self.require_step(session, Step::SsprPassword)?;
        self.require_fresh_credentials(session, CredentialChange::Password)?;
        let account = &session.account;
        match self
            .check_counted(account, current, session.client.clone())
            .await?
        {
            Checked::Wrong => return Err(AppError::WrongPassword),
            Checked::Right { .. } => self
                .store
                .password_confirmed(account.id, None)
                .await
                .map_err(internal)?,
        }
        self.replace_password(
            account,
            new_password,
            confirm,
            true,
            (
                AuditKind::PasswordChanged,
                session.client.clone(),
                Some("SSPR; other sessions ended"),
            ),
        )
        .await?
        .ok_or(AppError::Internal)
    }
}
