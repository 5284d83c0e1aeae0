//! Self-service after onboarding: "Forgot Password?" from the sign-in page (two of the
//! three security questions, then a new password) and the portal's "MIMS SSPR" tile
//! (sign in again, change the password, set up the questions again).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::general_error;
use super::PASSWORD_FORM;
use crate::api::{
    reset_state, AnswerReset, JourneyView, RedoQuestions, ResetPassword, ResetView,
    SsprChangePassword, SsprSignIn, StartReset,
};
use crate::components::page_locale;
use crate::components::password::{
    password_refusal, NewPasswordInputs, PasswordField, WaitOverlay,
};
use crate::components::text::question_text;
use crate::components::{ErrorSummary, JourneyGate, SsprFrame};
use crate::domain::journey::Step;
use crate::domain::password::{PasswordOwner, PasswordPolicy};
use crate::domain::route::Route;
use crate::i18n::*;

/// The public frame of the forgot-password screens.
#[component]
fn ResetFrame(children: Children) -> impl IntoView {
    view! {
        <SsprFrame step=None idle_timeout_secs=0 public=true>
            {children()}
        </SsprFrame>
    }
}

/// "Forgot Password?": the login ID.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let locale = page_locale();
    let action = ServerAction::<StartReset>::new();
    let error = general_error(action.value());
    view! {
        <ResetFrame>
            <h1>{td!(locale, forgot.heading)}</h1>
            <p>{td!(locale, forgot.intro)}</p>
            <p class="notice">{td!(locale, forgot.first_time)}</p>
            {move || view! { <ErrorSummary error=error() /> }}
            <ActionForm action=action>
                <div class="field">
                    <label for="username">{td!(locale, forgot.username)}</label>
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
                <div class="actions">
                    <a class="button button--secondary" href="/">
                        {td!(locale, forgot.cancel)}
                    </a>
                    <button type="submit" class="button">
                        {td!(locale, forgot.next)}
                    </button>
                </div>
            </ActionForm>
        </ResetFrame>
    }
}

/// Loads this browser's reset and shows the screen for its stage, or sends it to the
/// right one.
#[component]
fn ResetGate<F, IV>(stage: &'static str, render: F) -> impl IntoView
where
    F: Fn(ResetView) -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    let state = Resource::new(|| (), |_| reset_state());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match state.await {
                        Ok(view) => {
                            let here = match &view {
                                ResetView::Start => Route::ForgotPassword.path(),
                                ResetView::Questions { .. } => Route::ForgotQuestions.path(),
                                ResetView::NewPassword { .. } => Route::ForgotNewPassword.path(),
                            };
                            if here == stage {
                                render(view).into_any()
                            } else {
                                view! { <Redirect path=here /> }.into_any()
                            }
                        }
                        Err(error) => view! { <ErrorSummary error=Some(error) /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// Forgot password: two of the three security questions.
#[component]
pub fn ForgotQuestionsPage() -> impl IntoView {
    view! {
        <ResetGate
            stage=Route::ForgotQuestions.path()
            render=|view: ResetView| match view {
                ResetView::Questions { questions } => {
                    view! { <ForgotQuestionsForm questions /> }.into_any()
                }
                _ => ().into_any(),
            }
        />
    }
}

#[component]
fn ForgotQuestionsForm(questions: [crate::domain::answers::QuestionId; 2]) -> impl IntoView {
    let locale = page_locale();
    let action = ServerAction::<AnswerReset>::new();
    // A wrong answer comes back here with the error, and two questions chosen afresh.
    let error = general_error(action.value());
    let fields = questions
        .into_iter()
        .enumerate()
        .map(|(i, q)| {
            let n = i + 1;
            view! {
                <div class="field">
                    <label for=format!("answer{n}")>
                        {move || {
                            question_text(locale, q)
                        }}
                    </label>
                    <input
                        id=format!("answer{n}")
                        name=format!("answer{n}")
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        maxlength="64"
                        required
                        data-secret
                    />
                </div>
            }
        })
        .collect_view();
    view! {
        <ResetFrame>
            <h1>{td!(locale, forgot.questions_heading)}</h1>
            <p>{td!(locale, forgot.questions_intro)}</p>
            {move || view! { <ErrorSummary error=error() /> }}
            <ActionForm action=action>
                {fields}
                <div class="actions">
                    <a class="button button--secondary" href="/">
                        {td!(locale, forgot.cancel)}
                    </a>
                    <button type="submit" class="button">
                        {td!(locale, forgot.next)}
                    </button>
                </div>
            </ActionForm>
            <p class="notice">{td!(locale, forgot.first_time)}</p>
        </ResetFrame>
    }
}

/// Forgot password: the new password, under the same rules and live checklist.
#[component]
pub fn ForgotNewPasswordPage() -> impl IntoView {
    view! {
        <ResetGate
            stage=Route::ForgotNewPassword.path()
            render=|view: ResetView| match view {
                ResetView::NewPassword { owner, policy } => {
                    view! { <ForgotNewPasswordForm owner policy /> }.into_any()
                }
                _ => ().into_any(),
            }
        />
    }
}

#[component]
fn ForgotNewPasswordForm(owner: PasswordOwner, policy: PasswordPolicy) -> impl IntoView {
    let locale = page_locale();
    let action = ServerAction::<ResetPassword>::new();
    let error = general_error(action.value());
    let refused = password_refusal(action.value().get_untracked());
    view! {
        <ResetFrame>
            <h1>{td!(locale, forgot.new_heading)}</h1>
            <p>{td!(locale, change.intro)}</p>
            {move || view! { <ErrorSummary error=error() /> }}
            <ActionForm action=action attr:id=PASSWORD_FORM>
                <NewPasswordInputs owner policy refused />
                <div class="actions">
                    <button type="submit" class="button">
                        {td!(locale, change.submit)}
                    </button>
                </div>
            </ActionForm>
            <WaitOverlay form=PASSWORD_FORM.to_string() />
        </ResetFrame>
    }
}

/// Forgot password: done. Nobody is signed in; the student signs in with the new one.
#[component]
pub fn ForgotDonePage() -> impl IntoView {
    let locale = page_locale();
    view! {
        <ResetFrame>
            <h1>{td!(locale, forgot.done_heading)}</h1>
            <p class="success" role="status">{td!(locale, forgot.done_body)}</p>
            <div class="actions">
                <a class="button" href="/">
                    {td!(locale, forgot.sign_in)}
                </a>
            </div>
        </ResetFrame>
    }
}

/// Sends an SSPR page to "Please Sign in" when the password was not typed recently.
fn sign_in_first(view: &JourneyView, next: Step) -> Option<AnyView> {
    view.reauth_needed.then(|| {
        let path = format!("{}?next={}", Step::SsprSignIn.path(), next.path());
        view! { <Redirect path=path /> }.into_any()
    })
}

/// The portal's "MIMS SSPR" tile.
#[component]
pub fn SsprHomePage() -> impl IntoView {
    view! {
        <JourneyGate
            step=Step::SsprHome
            render=|view: JourneyView| {
                sign_in_first(&view, Step::SsprHome)
                    .unwrap_or_else(|| view! { <SsprHome view /> }.into_any())
            }
        />
    }
}

#[component]
fn SsprHome(view: JourneyView) -> impl IntoView {
    let locale = page_locale();
    let redo = ServerAction::<RedoQuestions>::new();
    // "Please sign in again" if the window closed while this page was open: the
    // refusal brings the browser back here, and the page sends it to the sign-in.
    let error = general_error(redo.value());
    view! {
        <SsprFrame step=None idle_timeout_secs=view.idle_timeout_secs>
            <h1>{td!(locale, sspr.heading)}</h1>
            <p>{td!(locale, sspr.intro)}</p>
            {move || view! { <ErrorSummary error=error() /> }}
            <ul class="options">
                <li>
                    <a class="option" href=Step::SsprPassword.path()>
                        <span class="option__title">{td!(locale, sspr.change_password)}</span>
                        <span class="option__desc">{td!(locale, sspr.change_desc)}</span>
                    </a>
                </li>
                <li>
                    <ActionForm action=redo attr:class="option-form">
                        <button type="submit" class="option">
                            <span class="option__title">{td!(locale, sspr.redo_questions)}</span>
                            <span class="option__desc">{td!(locale, sspr.redo_desc)}</span>
                        </button>
                    </ActionForm>
                </li>
            </ul>
            <p>
                <a class="button button--secondary" href=Step::Portal.path()>
                    {td!(locale, sspr.back)}
                </a>
            </p>
        </SsprFrame>
    }
}

/// The SSPR's own "Please Sign in" (the seed's second sign-in page).
#[component]
pub fn SsprSignInPage() -> impl IntoView {
    view! {
        <JourneyGate
            step=Step::SsprSignIn
            render=|view: JourneyView| view! { <SsprSignInForm view /> }
        />
    }
}

#[component]
fn SsprSignInForm(view: JourneyView) -> impl IntoView {
    let locale = page_locale();
    let action = ServerAction::<SsprSignIn>::new();
    let error = general_error(action.value());
    let query = use_query_map();
    let next = move || {
        query
            .get()
            .get("next")
            .filter(|n| n.as_str() == Step::SsprPassword.path())
            .unwrap_or_else(|| Step::SsprHome.path().to_string())
    };
    let login_id = view.owner.login_id.clone();
    view! {
        <SsprFrame step=None idle_timeout_secs=view.idle_timeout_secs>
            <h1>{td!(locale, sspr.sign_in_heading)}</h1>
            <p>{td!(locale, sspr.sign_in_intro)}</p>
            {move || view! { <ErrorSummary error=error() /> }}
            <ActionForm action=action>
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="sspr-username">{td!(locale, sspr.user_name)}</label>
                    <input
                        id="sspr-username"
                        type="text"
                        autocomplete="username"
                        value=login_id
                        readonly
                    />
                </div>
                <div class="field">
                    <label for="password">{td!(locale, sspr.password)}</label>
                    <PasswordField
                        id="password".to_string()
                        name="password".to_string()
                        autocomplete="current-password".to_string()
                    />
                </div>
                <div class="actions">
                    <a class="button button--secondary" href=Step::Portal.path()>
                        {td!(locale, sspr.cancel)}
                    </a>
                    <button type="submit" class="button">
                        {td!(locale, sspr.sign_in)}
                    </button>
                </div>
            </ActionForm>
            <p>
                <a href=Route::ForgotPassword.path()>{td!(locale, sspr.forgotten)}</a>
            </p>
        </SsprFrame>
    }
}

/// SSPR "Change Password": the current password, then a new one.
#[component]
pub fn SsprPasswordPage() -> impl IntoView {
    view! {
        <JourneyGate
            step=Step::SsprPassword
            render=|view: JourneyView| {
                sign_in_first(&view, Step::SsprPassword)
                    .unwrap_or_else(|| view! { <SsprPasswordForm view /> }.into_any())
            }
        />
    }
}

#[component]
fn SsprPasswordForm(view: JourneyView) -> impl IntoView {
    let locale = page_locale();
    let action = ServerAction::<SsprChangePassword>::new();
    let error = general_error(action.value());
    let refused = password_refusal(action.value().get_untracked());
    // "Please sign in again" if the window closed while this page was open: the
    // refusal brings the browser back here, and the page sends it to the sign-in.
    view! {
        <SsprFrame step=None idle_timeout_secs=view.idle_timeout_secs>
            <h1>{td!(locale, change.heading)}</h1>
            <p>{td!(locale, change.intro)}</p>
            {move || view! { <ErrorSummary error=error() /> }}
            <ActionForm action=action attr:id=PASSWORD_FORM>
                <div class="field">
                    <label for="current_password">{td!(locale, sspr.current_password)}</label>
                    <PasswordField
                        id="current_password".to_string()
                        name="current_password".to_string()
                        autocomplete="current-password".to_string()
                    />
                </div>
                <NewPasswordInputs owner=view.owner.clone() policy=view.policy refused />
                <div class="actions">
                    <a class="button button--secondary" href=Step::SsprHome.path()>
                        {td!(locale, sspr.cancel)}
                    </a>
                    <button type="submit" class="button">
                        {td!(locale, change.submit)}
                    </button>
                </div>
            </ActionForm>
            <WaitOverlay form=PASSWORD_FORM.to_string() />
        </SsprFrame>
    }
}
