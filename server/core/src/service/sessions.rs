//! The session behind a request: looked up and touched, ended when timed out or signed
//! out, and the fresh sign-in a credential change needs.

use super::{internal, token_hash, ActiveSession, CredentialChange, Portal};
use crate::ports::{RequestSession, SeenAt, SessionRecord};
use domain::audit::AuditKind;
use domain::secret::Secret;
use proto::error::AppError;

impl Portal {
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
}
