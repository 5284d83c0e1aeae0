//! One component per screen of the seed guide's journey. Every form is a real
//! `<form>` posting to a server function, so the journey completes without
//! JavaScript; hydration adds the live checklist, the countdown and the wait state.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

mod self_service;
mod staff;
pub use self_service::{
    ForgotDonePage, ForgotNewPasswordPage, ForgotPasswordPage, ForgotQuestionsPage, SsprHomePage,
    SsprPasswordPage, SsprSignInPage,
};
pub use staff::{
    StaffClassPage, StaffHomePage, StaffImportPage, StaffLettersPage, StaffStudentPage,
};

use crate::api::error::AppError;
use crate::api::{
    CancelRedoQuestions, ChangePassword, ConfirmQuestions, JourneyView, ResetPracticeAccount,
    SetupQuestions, SignIn,
};
use crate::components::guide::PracticeAccounts;
use crate::components::page_locale;
use crate::components::password::{
    password_refusal, NewPasswordInputs, PasswordField, WaitOverlay,
};
use crate::components::text::{answer_problem_text, question_text};
use crate::components::{ErrorSummary, JourneyGate, SsprFrame};
use crate::domain::answers::{AnswerProblem, ChosenQuestion, QUESTION_COUNT, QUESTION_LISTS};
use crate::domain::journey::Step;
use crate::domain::route::Route;
use crate::i18n::*;
use crate::practice::use_practice;

/// The error of the last submit, unless it is one the page shows next to a field.
pub(crate) fn general_error<S>(value: S) -> impl Fn() -> Option<AppError> + Copy
where
    S: Get<Value = Option<Result<(), AppError>>> + Copy + 'static,
{
    move || match value.get() {
        Some(Err(AppError::AnswersRefused(_) | AppError::PasswordRefused(_))) => None,
        Some(Err(error)) => Some(error),
        _ => None,
    }
}

/// Step 1: "MIMS Portal" sign-in.
#[component]
pub fn SignInPage() -> impl IntoView {
    let locale = page_locale();
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let notice = move || {
        let q = query.get();
        if q.get("timeout").is_some() {
            Some(td!(locale, sign_in.timed_out).into_any())
        } else if q.get("practice_reset").is_some() {
            Some(td!(locale, practice.reset_done).into_any())
        } else {
            None
        }
    };
    let error = general_error(action.value());
    view! {
        <SsprFrame
            step=Some(Step::SignIn.number())
            idle_timeout_secs=0
            public=true
            portal=true
            class="card card--narrow signin"
        >
            <h1>{td!(locale, portal_title)}</h1>
            <p class="signin__intro">{td!(locale, sign_in.intro, pattern = "<Full_Name>")}</p>
            {move || notice().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <PracticeAccounts />
            {move || view! { <ErrorSummary error=error() /> }}
            <ActionForm action=action>
                <div class="field">
                    <label for="username">{td!(locale, sign_in.username)}</label>
                    <input
                        id="username"
                        name="username"
                        type="text"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                    />
                </div>
                <div class="field">
                    <label for="password">{td!(locale, sign_in.password)}</label>
                    <PasswordField
                        id="password".to_string()
                        name="password".to_string()
                        autocomplete="current-password".to_string()
                    />
                </div>
                <div class="actions">
                    <button type="submit" class="button">
                        {td!(locale, sign_in.submit)}
                    </button>
                </div>
            </ActionForm>
            <p>
                <a href=Route::ForgotPassword.path()>{td!(locale, sign_in.forgot)}</a>
            </p>
        </SsprFrame>
    }
}

/// Step 3: "Setup Security Questions". Pre-filled with pending choices when the
/// student comes back from the confirm screen to edit.
#[component]
pub fn SetupQuestionsPage() -> impl IntoView {
    view! {
        <JourneyGate
            step=Step::SetupQuestions
            render=|view: JourneyView| view! { <SetupQuestionsForm view /> }
        />
    }
}

#[component]
fn SetupQuestionsForm(view: JourneyView) -> impl IntoView {
    let locale = page_locale();
    let action = ServerAction::<SetupQuestions>::new();
    let cancel = ServerAction::<CancelRedoQuestions>::new();
    let error = general_error(action.value());
    let problems = move || match action.value().get() {
        Some(Err(AppError::AnswersRefused(problems))) => problems,
        _ => Vec::new(),
    };
    // The page comes back with the refusal: the first field to mend has the focus (a
    // screen reader reads its label and its error).
    let refused = problems();
    let first_slot = refused.iter().map(AnswerProblem::slot).min();
    let question_missing = |slot: usize| {
        refused
            .iter()
            .any(|p| matches!(p, AnswerProblem::QuestionNotChosen { slot: s } if *s == slot))
    };
    let focus_question = |slot: usize| first_slot == Some(slot) && question_missing(slot);
    let focus_answer = |slot: usize| first_slot == Some(slot) && !question_missing(slot);
    let pending: Option<[ChosenQuestion; QUESTION_COUNT]> = view.pending.clone();
    let slots = (0..QUESTION_COUNT)
        .map(|slot| {
            let chosen = pending.as_ref().map(|p| p[slot].clone());
            let chosen_question = chosen.as_ref().map(|c| c.question);
            let chosen_answer = chosen.map(|c| c.answer).unwrap_or_default();
            let n = slot + 1;
            let slot_problems = move || -> Vec<AnswerProblem> {
                problems()
                    .into_iter()
                    .filter(|p| p.slot() == slot)
                    .collect()
            };
            let has_problem = move || !slot_problems().is_empty();
            let error_id = format!("answer{n}-error");
            view! {
                <fieldset
                    class="question"
                    class:question--error=has_problem
                    data-testid=format!("question-slot-{n}")
                >
                    <legend>{td!(locale, setup.question_n, n = n)}</legend>
                    <label for=format!("question{n}") class="visually-hidden">
                        {td!(locale, setup.question_n, n = n)}
                    </label>
                    <select
                        id=format!("question{n}")
                        name=format!("question{n}")
                        required
                        autofocus=focus_question(slot)
                    >
                        <option value="" selected=chosen_question.is_none()>
                            {td!(locale, setup.choose)}
                        </option>
                        {QUESTION_LISTS[slot]
                            .iter()
                            .copied()
                            .map(|q| {
                                view! {
                                    <option value=q.as_str() selected=chosen_question == Some(q)>
                                        {move || {
                                            question_text(locale, q)
                                        }}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <label for=format!("answer{n}")>{td!(locale, setup.answer_n, n = n)}</label>
                    {
                        let error_id = error_id.clone();
                        move || {
                            let list = slot_problems();
                            (!list.is_empty())
                                .then(|| {
                                    view! {
                                        <p class="field-error" id=error_id.clone()>
                                            {list
                                                .iter()
                                                .map(|p| answer_problem_text(locale, p))
                                                .collect::<Vec<_>>()
                                                .join(" ")}
                                        </p>
                                    }
                                })
                        }
                    }
                    <input
                        id=format!("answer{n}")
                        name=format!("answer{n}")
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        maxlength="64"
                        required
                        data-secret
                        autofocus=focus_answer(slot)
                        value=chosen_answer
                        aria-describedby=move || has_problem().then(|| error_id.clone())
                        aria-invalid=move || has_problem().then_some("true")
                    />
                </fieldset>
            }
        })
        .collect_view();
    let redo = view.state.redo_questions;
    view! {
        <SsprFrame
            step=(!redo).then_some(Step::SetupQuestions.number())
            idle_timeout_secs=view.idle_timeout_secs
        >
            <h1>{td!(locale, setup.heading)}</h1>
            <p>{td!(locale, setup.intro1)}</p>
            <p>{td!(locale, setup.intro2)}</p>
            {move || view! { <ErrorSummary error=error() /> }}
            <ActionForm action=action attr:id="setup-form">
                <h2 class="form-heading">{td!(locale, setup.type_answers)}</h2>
                {slots}
            </ActionForm>
            <div class="actions">
                // Cancel posts its own form: it ends the redo on the server.
                {redo
                    .then(|| {
                        view! {
                            <ActionForm action=cancel attr:class="option-form">
                                <button type="submit" class="button button--secondary">
                                    {td!(locale, sspr.cancel)}
                                </button>
                            </ActionForm>
                        }
                    })}
                <button type="submit" class="button" form="setup-form">
                    {td!(locale, setup.submit)}
                </button>
            </div>
        </SsprFrame>
    }
}

/// Step 4: "Confirm Security Questions".
#[component]
pub fn ConfirmQuestionsPage() -> impl IntoView {
    view! {
        <JourneyGate
            step=Step::ConfirmQuestions
            render=|view: JourneyView| view! { <ConfirmQuestionsForm view /> }
        />
    }
}

#[component]
fn ConfirmQuestionsForm(view: JourneyView) -> impl IntoView {
    let locale = page_locale();
    let action = ServerAction::<ConfirmQuestions>::new();
    let error = general_error(action.value());
    let rows = view.pending.clone().map(|pending| {
        pending
            .into_iter()
            .map(|choice| {
                let q = choice.question;
                view! {
                    <dt>
                        {move || {
                            question_text(locale, q)
                        }}
                    </dt>
                    <dd>{choice.answer}</dd>
                }
            })
            .collect_view()
    });
    view! {
        <SsprFrame
            step=(!view.state.redo_questions).then_some(Step::ConfirmQuestions.number())
            idle_timeout_secs=view.idle_timeout_secs
        >
            <h1>{td!(locale, confirm.heading)}</h1>
            <p>{td!(locale, confirm.intro)}</p>
            {move || view! { <ErrorSummary error=error() /> }}
            <dl class="review" data-testid="review">
                {rows}
            </dl>
            <ActionForm action=action>
                <div class="actions">
                    <a class="button button--secondary" href=Step::SetupQuestions.path()>
                        {td!(locale, confirm.edit)}
                    </a>
                    <button type="submit" class="button">
                        {td!(locale, confirm.submit)}
                    </button>
                </div>
            </ActionForm>
        </SsprFrame>
    }
}

/// Step 5: answers saved.
#[component]
pub fn QuestionsSavedPage() -> impl IntoView {
    view! {
        <JourneyGate
            step=Step::QuestionsSaved
            render=|view: JourneyView| {
                let locale = page_locale();
                view! {
                    <SsprFrame
                        step=view.state.temporary_password.then_some(Step::QuestionsSaved.number())
                        idle_timeout_secs=view.idle_timeout_secs
                    >
                        <h1>{td!(locale, saved.heading)}</h1>
                        <p class="success" role="status">{td!(locale, saved.body)}</p>
                        <div class="actions">
                            <a
                                class="button"
                                href=if view.state.temporary_password {
                                    Step::ChangePassword.path()
                                } else {
                                    Step::Portal.path()
                                }
                            >
                                {td!(locale, saved.continue_button)}
                            </a>
                        </div>
                    </SsprFrame>
                }
            }
        />
    }
}

/// Step 6 (and 7 while it runs): "Change Password".
#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    view! {
        <JourneyGate
            step=Step::ChangePassword
            render=|view: JourneyView| view! { <ChangePasswordForm view /> }
        />
    }
}

#[component]
fn ChangePasswordForm(view: JourneyView) -> impl IntoView {
    let locale = page_locale();
    let action = ServerAction::<ChangePassword>::new();
    let error = general_error(action.value());
    let refused = password_refusal(action.value().get_untracked());
    view! {
        <SsprFrame step=Some(Step::ChangePassword.number()) idle_timeout_secs=view.idle_timeout_secs>
            <h1>{td!(locale, change.heading)}</h1>
            <p>{td!(locale, change.intro)}</p>
            {move || view! { <ErrorSummary error=error() /> }}
            <ActionForm action=action attr:id=PASSWORD_FORM>
                <NewPasswordInputs owner=view.owner.clone() policy=view.policy refused />
                <div class="actions">
                    <button type="submit" class="button">
                        {td!(locale, change.submit)}
                    </button>
                </div>
            </ActionForm>
            <WaitOverlay form=PASSWORD_FORM.to_string() />
        </SsprFrame>
    }
}

/// The id of the form that sends a new password (the wait overlay watches it).
pub(crate) const PASSWORD_FORM: &str = "password-form";

/// Step 8: password changed.
#[component]
pub fn PasswordChangedPage() -> impl IntoView {
    view! {
        <JourneyGate
            step=Step::PasswordChanged
            render=|view: JourneyView| {
                let locale = page_locale();
                // Step 8 of the first-login journey; the SSPR's change shows no count.
                let from_sspr = use_query_map().get_untracked().get("from").is_some();
                view! {
                    <SsprFrame
                        step=(!from_sspr).then_some(Step::PasswordChanged.number())
                        idle_timeout_secs=view.idle_timeout_secs
                    >
                        <h1>{td!(locale, changed.heading)}</h1>
                        <p class="success" role="status">{td!(locale, changed.body)}</p>
                        <div class="actions">
                            <a
                                class="button"
                                href=if from_sspr { Route::PORTAL.with(&[]) } else { Route::PORTAL.with(&[("first", "1")]) }
                            >
                                {td!(locale, changed.continue_button)}
                            </a>
                        </div>
                    </SsprFrame>
                }
            }
        />
    }
}

/// Step 9: the portal of school apps.
#[component]
pub fn PortalPage() -> impl IntoView {
    view! {
        <JourneyGate
            step=Step::Portal
            render=|view: JourneyView| {
                let locale = page_locale();
                let name = view.owner.full_name.clone();
                let query = use_query_map();
                let was_reset = move || query.get().get("reset").is_some();
                // "Step 9 of 9" when arriving from step 8; not on every later visit.
                let first = query.get_untracked().get("first").is_some();
                let practice = use_practice();
                let reset_practice = ServerAction::<ResetPracticeAccount>::new();
                view! {
                    <SsprFrame
                        step=first.then_some(Step::Portal.number())
                        idle_timeout_secs=view.idle_timeout_secs
                        portal=true
                        class="card portal"
                    >
                        <h1>{td!(locale, portal.welcome, name = name)}</h1>
                        <Show when=was_reset>
                            <p class="notice" role="status" data-testid="reset-notice">
                                {td!(locale, portal.reset_notice)}
                            </p>
                        </Show>
                        <p>{td!(locale, portal.intro)}</p>
                        <ul class="tiles">
                            {view
                                .tiles
                                .iter()
                                .map(|tile| {
                                    let (title, desc) = tile_texts(locale, &tile.kind);
                                    // An address on another site opens without telling it
                                    // where the student came from.
                                    let external = !tile.href.starts_with('/');
                                    view! {
                                        <li>
                                            <a
                                                class="tile"
                                                href=tile.href.clone()
                                                rel=external.then_some("noopener noreferrer")
                                            >
                                                <span class="tile__title">{title}</span>
                                                {desc.map(|d| view! { <span class="tile__desc">{d}</span> })}
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                        {practice
                            .on
                            .then(|| {
                                view! {
                                    <section class="practice-reset" aria-labelledby="practice-reset-heading">
                                        <h2 id="practice-reset-heading">{td!(locale, practice.reset_heading)}</h2>
                                        <p>{td!(locale, practice.reset_intro)}</p>
                                        <ActionForm action=reset_practice>
                                            <button
                                                type="submit"
                                                class="button button--secondary"
                                            >
                                                {td!(locale, practice.reset_button)}
                                            </button>
                                        </ActionForm>
                                        {move || {
                                            view! {
                                                <ErrorSummary error=general_error(reset_practice.value())() />
                                            }
                                        }}
                                    </section>
                                }
                            })}
                    </SsprFrame>
                }
            }
        />
    }
}

/// A tile's title and description: the seed's in the page's language, a registered
/// app's as registered.
fn tile_texts(locale: Locale, kind: &crate::api::TileKind) -> (String, Option<String>) {
    use crate::api::TileKind;
    match kind {
        TileKind::Email => (
            td_string!(locale, portal.icon_title).to_string(),
            Some(td_string!(locale, portal.icon_desc).to_string()),
        ),
        TileKind::SelfService => (
            td_string!(locale, portal.sspr_title).to_string(),
            Some(td_string!(locale, portal.sspr_desc).to_string()),
        ),
        TileKind::StaffTools => (
            td_string!(locale, staff.tile_title).to_string(),
            Some(td_string!(locale, staff.tile_desc).to_string()),
        ),
        TileKind::LearningSpace => (
            td_string!(locale, portal.sls_title).to_string(),
            Some(td_string!(locale, portal.sls_desc).to_string()),
        ),
        TileKind::App { title, description } => (title.clone(), description.clone()),
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    let locale = page_locale();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main id="main" class="card card--narrow">
            <h1>{td!(locale, not_found.heading)}</h1>
            <p>
                <a href="/">{td!(locale, not_found.back)}</a>
            </p>
        </main>
    }
}
