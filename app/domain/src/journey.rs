//! The onboarding step machine: from what the server knows about an account and its
//! session, which screen the request may see, and where it goes otherwise.
//!
//! The server consults this for every page request and every server function; the
//! browser never decides the step. Step numbers are the seed guide's.

use serde::{Deserialize, Serialize};

/// The screens of the journey that have their own address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Step {
    /// 1: "MIMS Portal" sign-in.
    SignIn,
    /// 3: choose three questions and answer them.
    SetupQuestions,
    /// 4: review the pending choices.
    ConfirmQuestions,
    /// 5: answers saved.
    QuestionsSaved,
    /// 6 (and 7, the wait state while it runs).
    ChangePassword,
    /// 8: password changed.
    PasswordChanged,
    /// 9: the portal of school apps.
    Portal,
    /// The portal's "MIMS SSPR" tile: change the password or set up the questions again.
    SsprHome,
    /// The SSPR's own "Please Sign in", when the last sign-in is not recent.
    SsprSignIn,
    /// SSPR "Change Password" (current password, then a new one).
    SsprPassword,
}

impl Step {
    pub const ALL: [Step; 10] = [
        Step::SignIn,
        Step::SetupQuestions,
        Step::ConfirmQuestions,
        Step::QuestionsSaved,
        Step::ChangePassword,
        Step::PasswordChanged,
        Step::Portal,
        Step::SsprHome,
        Step::SsprSignIn,
        Step::SsprPassword,
    ];

    /// The address of the step's page.
    pub fn path(self) -> &'static str {
        match self {
            Step::SignIn => "/",
            Step::SetupQuestions => "/sspr/setup-questions",
            Step::ConfirmQuestions => "/sspr/confirm-questions",
            Step::QuestionsSaved => "/sspr/questions-saved",
            Step::ChangePassword => "/sspr/change-password",
            Step::PasswordChanged => "/sspr/password-changed",
            Step::Portal => "/portal",
            Step::SsprHome => "/sspr",
            Step::SsprSignIn => "/sspr/sign-in",
            Step::SsprPassword => "/sspr/password",
        }
    }

    /// The step whose page lives at `path`, if any.
    pub fn from_path(path: &str) -> Option<Step> {
        let path = match path.trim_end_matches('/') {
            "" => "/",
            p => p,
        };
        Step::ALL.into_iter().find(|s| s.path() == path)
    }

    /// The seed guide's step number, for "Step N of 9".
    pub fn number(self) -> u8 {
        match self {
            Step::SignIn => 1,
            Step::SetupQuestions => 3,
            Step::ConfirmQuestions => 4,
            Step::QuestionsSaved => 5,
            Step::ChangePassword => 6,
            Step::PasswordChanged => 8,
            Step::Portal | Step::SsprHome | Step::SsprSignIn | Step::SsprPassword => 9,
        }
    }
}

/// Everything the step depends on; all of it is server-side state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JourneyState {
    pub signed_in: bool,
    /// The account still has the temporary password it was given.
    pub temporary_password: bool,
    /// Three answers are stored for the account.
    pub questions_set: bool,
    /// Choices from the set-up screen wait in the session for confirmation.
    pub answers_pending: bool,
    /// After onboarding: "set up security questions again" is in progress.
    #[serde(default)]
    pub redo_questions: bool,
}

/// Where a request with no other destination goes: the first unfinished step.
pub fn current_step(state: JourneyState) -> Step {
    if !state.signed_in {
        Step::SignIn
    } else if !state.questions_set {
        if state.answers_pending {
            Step::ConfirmQuestions
        } else {
            Step::SetupQuestions
        }
    } else if state.temporary_password {
        Step::ChangePassword
    } else {
        Step::Portal
    }
}

/// Whether the session may see `step` now. Going back to edit pending answers is
/// allowed; skipping ahead never is.
pub fn may_visit(state: JourneyState, step: Step) -> bool {
    let current = current_step(state);
    let redoing = current == Step::Portal && state.redo_questions;
    match step {
        Step::SignIn => !state.signed_in,
        Step::SetupQuestions => {
            matches!(current, Step::SetupQuestions | Step::ConfirmQuestions) || redoing
        }
        Step::ConfirmQuestions => {
            current == Step::ConfirmQuestions || (redoing && state.answers_pending)
        }
        Step::QuestionsSaved => state.signed_in && state.questions_set,
        Step::ChangePassword => current == Step::ChangePassword,
        Step::PasswordChanged
        | Step::Portal
        | Step::SsprHome
        | Step::SsprSignIn
        | Step::SsprPassword => current == Step::Portal,
    }
}

/// Where to send a request for `step`: `None` if it may stay, else the current step.
pub fn redirect_for(state: JourneyState, step: Step) -> Option<Step> {
    (!may_visit(state, step)).then(|| current_step(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SIGNED_OUT: JourneyState = JourneyState {
        signed_in: false,
        temporary_password: true,
        questions_set: false,
        answers_pending: false,
        redo_questions: false,
    };
    const FIRST_LOGIN: JourneyState = JourneyState {
        signed_in: true,
        ..SIGNED_OUT
    };
    const PENDING: JourneyState = JourneyState {
        answers_pending: true,
        ..FIRST_LOGIN
    };
    const QUESTIONS_SET: JourneyState = JourneyState {
        questions_set: true,
        ..FIRST_LOGIN
    };
    const DONE: JourneyState = JourneyState {
        temporary_password: false,
        ..QUESTIONS_SET
    };
    const REDO: JourneyState = JourneyState {
        redo_questions: true,
        ..DONE
    };
    const REDO_PENDING: JourneyState = JourneyState {
        answers_pending: true,
        ..REDO
    };

    #[test]
    fn the_journey_goes_through_the_seed_steps_in_order() {
        assert_eq!(current_step(SIGNED_OUT), Step::SignIn);
        assert_eq!(current_step(FIRST_LOGIN), Step::SetupQuestions);
        assert_eq!(current_step(PENDING), Step::ConfirmQuestions);
        assert_eq!(current_step(QUESTIONS_SET), Step::ChangePassword);
        assert_eq!(current_step(DONE), Step::Portal);
    }

    #[test]
    fn which_pages_each_state_may_see() {
        use Step::*;
        let table: &[(JourneyState, &[Step])] = &[
            (SIGNED_OUT, &[SignIn]),
            (FIRST_LOGIN, &[SetupQuestions]),
            (PENDING, &[SetupQuestions, ConfirmQuestions]),
            (QUESTIONS_SET, &[QuestionsSaved, ChangePassword]),
            (
                DONE,
                &[
                    QuestionsSaved,
                    PasswordChanged,
                    Portal,
                    SsprHome,
                    SsprSignIn,
                    SsprPassword,
                ],
            ),
            (
                REDO,
                &[
                    SetupQuestions,
                    QuestionsSaved,
                    PasswordChanged,
                    Portal,
                    SsprHome,
                    SsprSignIn,
                    SsprPassword,
                ],
            ),
            (
                REDO_PENDING,
                &[
                    SetupQuestions,
                    ConfirmQuestions,
                    QuestionsSaved,
                    PasswordChanged,
                    Portal,
                    SsprHome,
                    SsprSignIn,
                    SsprPassword,
                ],
            ),
        ];
        for (state, allowed) in table {
            for step in Step::ALL {
                assert_eq!(
                    may_visit(*state, step),
                    allowed.contains(&step),
                    "{state:?} {step:?}"
                );
            }
        }
    }

    #[test]
    fn the_portal_before_onboarding_redirects_to_the_current_step() {
        assert_eq!(
            redirect_for(FIRST_LOGIN, Step::Portal),
            Some(Step::SetupQuestions)
        );
        assert_eq!(
            redirect_for(QUESTIONS_SET, Step::Portal),
            Some(Step::ChangePassword)
        );
        assert_eq!(
            redirect_for(SIGNED_OUT, Step::ChangePassword),
            Some(Step::SignIn)
        );
        assert_eq!(redirect_for(DONE, Step::SignIn), Some(Step::Portal));
        assert_eq!(redirect_for(DONE, Step::Portal), None);
    }

    #[test]
    fn paths_round_trip() {
        for step in Step::ALL {
            assert_eq!(Step::from_path(step.path()), Some(step));
        }
        assert_eq!(Step::from_path("/portal/"), Some(Step::Portal));
        assert_eq!(Step::from_path("/admin"), None);
        assert_eq!(Step::from_path("/forgot-password"), None);
    }

    fn any_state() -> impl Strategy<Value = JourneyState> {
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(a, b, c, d, e)| JourneyState {
                signed_in: a,
                temporary_password: b,
                questions_set: c,
                answers_pending: d,
                redo_questions: e,
            })
    }

    proptest! {
        #[test]
        fn the_current_step_is_always_visitable(state in any_state()) {
            prop_assert!(may_visit(state, current_step(state)));
        }

        #[test]
        fn a_redirect_always_lands_on_a_visitable_page(state in any_state(), i in 0usize..10) {
            if let Some(target) = redirect_for(state, Step::ALL[i]) {
                prop_assert!(may_visit(state, target));
            }
        }

        #[test]
        fn the_portal_needs_a_finished_onboarding(state in any_state()) {
            if may_visit(state, Step::Portal) {
                prop_assert!(state.signed_in && state.questions_set && !state.temporary_password);
            }
        }
    }
}
