//! The first-login journey's steps: security questions set and confirmed, the temporary
//! password changed, and practice mode's restart.

use base64::Engine as _;

use super::{
    count_event, hash_error, internal, ActiveSession, CredentialChange, NewToken, Portal,
    PENDING_QUESTIONS_PURPOSE,
};
use crate::ports::StoredAnswer;
use domain::answers::{normalise_answer, parse_choices, QUESTION_COUNT};
use domain::audit::AuditKind;
use domain::journey::{current_step, may_visit, Step};
use domain::secret::Secret;
use proto::error::AppError;

impl Portal {
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
        let audit = self.audit_event(
            Some(session.account.id),
            "self",
            AuditKind::AnswersSet,
            session.client.clone(),
            None,
        );
        self.store
            .save_answers(
                session.account.id,
                &stored,
                &session.token_hash,
                self.clock.now(),
                &audit,
            )
            .await
            .map_err(internal)?;
        count_event(AuditKind::AnswersSet);
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
        self.replace_password(
            &session.account,
            new_password,
            confirm,
            true,
            (AuditKind::PasswordChanged, session.client.clone(), None),
        )
        .await?
        .ok_or(AppError::Internal)
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
}
