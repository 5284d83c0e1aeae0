//! What the audit trail records: one kind per security event. A kind's name is what the
//! `audit_events.kind` column holds and what the `portal_events_total{kind}` metric's
//! label says, so a name never changes once released (the audit trail outlives versions).

/// What a per-client limit refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Throttled {
    /// Signing in.
    SignIn,
    /// Starting "Forgot Password?".
    ResetStart,
    /// Answering the forgot-password questions.
    ResetAnswers,
}

impl Throttled {
    /// The `what` label of `portal_throttled_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Throttled::SignIn => "sign_in",
            Throttled::ResetStart => "reset_start",
            Throttled::ResetAnswers => "reset_answers",
        }
    }
}

/// One kind of audited event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    SignIn,
    SignInFailed,
    SignInRefused,
    /// The SSPR's "sign in again" with the current password.
    SignedInAgain,
    SignOut,
    SessionTimeout,
    AccountLocked,
    AccountUnlocked,
    AccountCreated,
    /// A school added (command line).
    SchoolAdded,
    AnswersSet,
    AnswersCleared,
    PasswordChanged,
    PasswordReset,
    PasswordResetByStaff,
    PracticeReset,
    ResetStarted,
    ResetAnswersMatched,
    ResetAnswersFailed,
    ResetBlocked,
    /// The first refusal of a client address by a per-client limit in a minute.
    Throttled(Throttled),
    /// An app registered for single sign-on (command line).
    ClientRegistered,
    /// An app's registration removed (command line).
    ClientRemoved,
    /// A new id-token signing key: the first start's, or a rotation's.
    SigningKeyCreated,
    /// An app got an authorization code for the account (detail: the client id).
    SignOnCodeIssued,
    /// An app redeemed a code for an id token and an access token.
    SignOnTokenIssued,
    /// A single sign-on request refused (detail: the client id and why).
    SignOnRefused,
}

impl AuditKind {
    /// Every kind, for tests and for the metrics' documentation.
    pub const ALL: [AuditKind; 29] = [
        AuditKind::SignIn,
        AuditKind::SignInFailed,
        AuditKind::SignInRefused,
        AuditKind::SignedInAgain,
        AuditKind::SignOut,
        AuditKind::SessionTimeout,
        AuditKind::AccountLocked,
        AuditKind::AccountUnlocked,
        AuditKind::AccountCreated,
        AuditKind::SchoolAdded,
        AuditKind::AnswersSet,
        AuditKind::AnswersCleared,
        AuditKind::PasswordChanged,
        AuditKind::PasswordReset,
        AuditKind::PasswordResetByStaff,
        AuditKind::PracticeReset,
        AuditKind::ResetStarted,
        AuditKind::ResetAnswersMatched,
        AuditKind::ResetAnswersFailed,
        AuditKind::ResetBlocked,
        AuditKind::Throttled(Throttled::SignIn),
        AuditKind::Throttled(Throttled::ResetStart),
        AuditKind::Throttled(Throttled::ResetAnswers),
        AuditKind::ClientRegistered,
        AuditKind::ClientRemoved,
        AuditKind::SigningKeyCreated,
        AuditKind::SignOnCodeIssued,
        AuditKind::SignOnTokenIssued,
        AuditKind::SignOnRefused,
    ];

    /// The name stored and counted.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SignIn => "sign_in",
            AuditKind::SignInFailed => "sign_in_failed",
            AuditKind::SignInRefused => "sign_in_refused",
            AuditKind::SignedInAgain => "signed_in_again",
            AuditKind::SignOut => "sign_out",
            AuditKind::SessionTimeout => "session_timeout",
            AuditKind::AccountLocked => "account_locked",
            AuditKind::AccountUnlocked => "account_unlocked",
            AuditKind::AccountCreated => "account_created",
            AuditKind::SchoolAdded => "school_added",
            AuditKind::AnswersSet => "answers_set",
            AuditKind::AnswersCleared => "answers_cleared",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::PasswordReset => "password_reset",
            AuditKind::PasswordResetByStaff => "password_reset_by_staff",
            AuditKind::PracticeReset => "practice_reset",
            AuditKind::ResetStarted => "reset_started",
            AuditKind::ResetAnswersMatched => "reset_answers_matched",
            AuditKind::ResetAnswersFailed => "reset_answers_failed",
            AuditKind::ResetBlocked => "reset_blocked",
            AuditKind::Throttled(Throttled::SignIn) => "sign_in_throttled",
            AuditKind::Throttled(Throttled::ResetStart) => "reset_start_throttled",
            AuditKind::Throttled(Throttled::ResetAnswers) => "reset_answers_throttled",
            AuditKind::ClientRegistered => "client_registered",
            AuditKind::ClientRemoved => "client_removed",
            AuditKind::SigningKeyCreated => "signing_key_created",
            AuditKind::SignOnCodeIssued => "sign_on_code_issued",
            AuditKind::SignOnTokenIssued => "sign_on_token_issued",
            AuditKind::SignOnRefused => "sign_on_refused",
        }
    }

    /// The kind a stored name stands for.
    pub fn parse(name: &str) -> Option<AuditKind> {
        AuditKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_snake_case_name_that_reads_back() {
        let mut names = std::collections::BTreeSet::new();
        for kind in AuditKind::ALL {
            let name = kind.as_str();
            assert!(names.insert(name), "{name} twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert_eq!(AuditKind::parse(name), Some(kind));
        }
        assert_eq!(AuditKind::parse("no_such_event"), None);
    }

    #[test]
    fn throttled_kinds_are_named_after_what_was_throttled() {
        for what in [
            Throttled::SignIn,
            Throttled::ResetStart,
            Throttled::ResetAnswers,
        ] {
            assert_eq!(
                AuditKind::Throttled(what).as_str(),
                format!("{}_throttled", what.as_str())
            );
        }
    }
}
