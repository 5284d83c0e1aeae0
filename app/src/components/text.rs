//! Maps the domain's ids (questions, rules, problems, errors) to translated text.
//! Keys are checked at compile time, so a renamed key fails the build, not a screen.

use crate::api::error::AppError;
use crate::domain::answers::{AnswerProblem, QuestionId};
use crate::i18n::*;

// An error may come back to a page through the address (`__err`), where anyone can
// write it: its numbers are shown only within what the settings allow (the lockout, the
// throttle and the reset block are validated by the configuration to these ranges).
const MAX_ATTEMPTS_SHOWN: u32 = 100;
const MAX_MINUTES_SHOWN: u32 = 7 * 24 * 60;
const MAX_SECONDS_SHOWN: u32 = 3600;
const MAX_HOURS_SHOWN: u32 = 30 * 24;

pub fn question_text(locale: Locale, question: QuestionId) -> &'static str {
    match question {
        QuestionId::Food => td_string!(locale, questions.food),
        QuestionId::Fruit => td_string!(locale, questions.fruit),
        QuestionId::Dessert => td_string!(locale, questions.dessert),
        QuestionId::Drink => td_string!(locale, questions.drink),
        QuestionId::IceCream => td_string!(locale, questions.ice_cream),
        QuestionId::Breakfast => td_string!(locale, questions.breakfast),
        QuestionId::Animal => td_string!(locale, questions.animal),
        QuestionId::Bird => td_string!(locale, questions.bird),
        QuestionId::SeaCreature => td_string!(locale, questions.sea_creature),
        QuestionId::Insect => td_string!(locale, questions.insect),
        QuestionId::DreamPet => td_string!(locale, questions.dream_pet),
        QuestionId::CartoonCharacter => td_string!(locale, questions.cartoon_character),
        QuestionId::Colour => td_string!(locale, questions.colour),
        QuestionId::Sport => td_string!(locale, questions.sport),
        QuestionId::Instrument => td_string!(locale, questions.instrument),
        QuestionId::Game => td_string!(locale, questions.game),
        QuestionId::Hobby => td_string!(locale, questions.hobby),
        QuestionId::Place => td_string!(locale, questions.place),
    }
}

pub fn answer_problem_text(locale: Locale, problem: &AnswerProblem) -> String {
    match problem {
        AnswerProblem::QuestionNotChosen { .. } => {
            td_string!(locale, setup.problems.question_not_chosen).to_string()
        }
        AnswerProblem::Empty { .. } => td_string!(locale, setup.problems.empty).to_string(),
        AnswerProblem::TooShort { min, .. } => {
            td_string!(locale, setup.problems.too_short, min = *min)
        }
        AnswerProblem::TooLong { max, .. } => {
            td_string!(locale, setup.problems.too_long, max = *max)
        }
        AnswerProblem::Trivial { .. } => td_string!(locale, setup.problems.trivial).to_string(),
        AnswerProblem::IsName { .. } => td_string!(locale, setup.problems.is_name).to_string(),
        AnswerProblem::Repeated { same_as, .. } => {
            td_string!(locale, setup.problems.repeated, n = same_as + 1)
        }
    }
}

/// The message for errors that are not about a particular field.
pub fn error_text(locale: Locale, error: &AppError) -> String {
    match error {
        AppError::InvalidCredentials {
            max_failures,
            lock_minutes,
        } => td_string!(
            locale,
            sign_in.invalid,
            attempts = (*max_failures).clamp(1, MAX_ATTEMPTS_SHOWN),
            minutes = (*lock_minutes).min(MAX_MINUTES_SHOWN)
        ),
        AppError::Throttled { retry_after_secs } => {
            td_string!(
                locale,
                errors.throttled,
                seconds = (*retry_after_secs).min(MAX_SECONDS_SHOWN)
            )
        }
        AppError::SessionEnded => td_string!(locale, errors.session_ended).to_string(),
        AppError::WrongPassword => td_string!(locale, errors.wrong_password).to_string(),
        AppError::Forbidden => td_string!(locale, errors.forbidden).to_string(),
        AppError::InputRefused { reason } => reason.to_string(),
        AppError::TemporaryExpired => td_string!(locale, errors.temporary_expired).to_string(),
        AppError::ReauthRequired => td_string!(locale, errors.reauth_required).to_string(),
        AppError::AnswersDoNotMatch => td_string!(locale, errors.answers_do_not_match).to_string(),
        AppError::ResetBlocked { hours } => {
            td_string!(
                locale,
                errors.reset_blocked,
                hours = (*hours).min(MAX_HOURS_SHOWN)
            )
        }
        AppError::ResetEnded => td_string!(locale, errors.reset_ended).to_string(),
        AppError::StaffResetRefused => td_string!(locale, errors.staff_reset).to_string(),
        AppError::InvalidLoginId => td_string!(locale, errors.invalid_login_id).to_string(),
        AppError::WrongStep { .. } => td_string!(locale, errors.wrong_step).to_string(),
        AppError::Busy => td_string!(locale, errors.busy).to_string(),
        AppError::Unavailable => td_string!(locale, errors.unavailable).to_string(),
        AppError::BadRequest => td_string!(locale, errors.bad_request).to_string(),
        AppError::AnswersRefused(_) | AppError::PasswordRefused(_) | AppError::Internal => {
            td_string!(locale, errors.internal).to_string()
        }
    }
}
