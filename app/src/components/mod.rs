//! Widgets shared by the journey's screens: the SSPR frame (header, idle countdown,
//! language selector, step indicator), the gate that loads the journey and enforces
//! the step, the error summary and the live password-rule checklist.

pub mod checklist;
pub mod text;

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::api::error::AppError;
use crate::api::{journey, JourneyView, SignOut};
use crate::domain::journey::{current_step, may_visit, Step};
use crate::i18n::*;
use text::error_text;

/// Loads the signed-in student's journey and shows `render` only if the server says
/// this session may see `step`; otherwise redirects to the step it is on.
#[component]
pub fn JourneyGate<F, IV>(step: Step, render: F) -> impl IntoView
where
    F: Fn(JourneyView) -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    let view_resource = Resource::new(|| (), |_| journey());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match view_resource.await {
                        Ok(view) if may_visit(view.state, step) => render(view).into_any(),
                        Ok(view) => {
                            view! { <Redirect path=current_step(view.state).path() /> }.into_any()
                        }
                        Err(AppError::SessionEnded) => {
                            view! { <Redirect path="/?timeout=1" /> }.into_any()
                        }
                        Err(error) => view! { <ErrorSummary error=Some(error) /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The frame of every "MIMS Self Service Password Reset" screen.
#[component]
pub fn SsprFrame(
    /// The seed guide's step number shown as "Step N of 9", if the screen is a step.
    step: Option<u8>,
    idle_timeout_secs: i64,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <a class="skip-link" href="#main">
            {t!(i18n, skip_to_content)}
        </a>
        <header class="sspr-header">
            <div class="sspr-header__bar">
                <p class="sspr-header__title">{t!(i18n, sspr_title)}</p>
                <div class="sspr-header__tools">
                    <IdleCountdown timeout_secs=idle_timeout_secs />
                    <span aria-hidden="true">" · "</span>
                    <LanguageSelect />
                    <SignOutButton />
                </div>
            </div>
            {step
                .map(|n| {
                    view! {
                        <p class="step-indicator" data-step=n>
                            {t!(i18n, header.step_of, n = n)}
                        </p>
                    }
                })}
        </header>
        <main id="main" class="card">
            {children()}
        </main>
    }
}

/// "Idle Timeout: 4 minutes" on the server; a live countdown once hydrated. At zero
/// the page goes to the sign-in screen (the server has ended the session by then).
#[component]
pub fn IdleCountdown(timeout_secs: i64) -> impl IntoView {
    let i18n = use_i18n();
    let remaining = RwSignal::new(None::<i64>);
    let location = use_location();
    Effect::new(move |_| {
        // Every navigation is a request to the server, which restarts its idle clock.
        location.pathname.track();
        remaining.set(Some(timeout_secs));
    });
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                let next = remaining.get_untracked().map(|s| (s - 1).max(0));
                remaining.set(next);
                if next == Some(0) {
                    let _ = window().location().set_href("/?timeout=1");
                }
            },
            std::time::Duration::from_secs(1),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    }
    let minutes = (timeout_secs + 59) / 60;
    view! {
        <span class="idle-timeout" data-testid="idle-timeout">
            {move || {
                let locale = i18n.get_locale();
                match remaining.get() {
                    None => td_string!(locale, header.idle_minutes, minutes = minutes),
                    Some(s) => {
                        let clock = format!("{}:{:02}", s / 60, s % 60);
                        td_string!(locale, header.idle_clock, clock = clock)
                    }
                }
            }}
        </span>
    }
}

/// The language selector. It works without JavaScript (a GET form to `/set-lang`,
/// which sets the cookie and comes back); with JavaScript it switches in place.
#[component]
pub fn LanguageSelect() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <form class="language-select" method="get" action="/set-lang">
            <input type="hidden" name="next" value=move || location.pathname.get() />
            <label for="language" class="visually-hidden">
                {t!(i18n, language_label)}
            </label>
            <select
                id="language"
                name="lang"
                on:change=move |ev| {
                    if let Ok(locale) = event_target_value(&ev).parse::<Locale>() {
                        i18n.set_locale(locale);
                    }
                }
            >
                {Locale::get_all()
                    .iter()
                    .copied()
                    .map(|locale| {
                        view! {
                            <option
                                value=locale.as_str()
                                selected=move || i18n.get_locale() == locale
                            >
                                {td_string!(locale, language_name)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="button--small" hidden=move || hydrated.get()>
                {t!(i18n, change_language)}
            </button>
        </form>
    }
}

#[component]
pub fn SignOutButton() -> impl IntoView {
    let i18n = use_i18n();
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <ActionForm action=sign_out attr:class="sign-out">
            <button type="submit" class="button--link">
                {t!(i18n, header.sign_out)}
            </button>
        </ActionForm>
    }
}

/// The GOV.UK-style error summary: a titled box, announced and focusable.
#[component]
pub fn ErrorSummary(error: Option<AppError>) -> impl IntoView {
    let i18n = use_i18n();
    error.map(|error| {
        let redirect = match &error {
            AppError::WrongStep { path } => Some(path.clone()),
            _ => None,
        };
        view! {
            <div class="error-summary" role="alert" tabindex="-1" data-testid="error-summary">
                <h2 class="error-summary__title">{t!(i18n, errors.title)}</h2>
                <p>
                    {move || {
                        let locale = i18n.get_locale();
                        error_text(locale, &error)
                    }}
                </p>
                {redirect
                    .map(|path| {
                        view! {
                            <p>
                                <a href=path>{t!(i18n, errors.continue_here)}</a>
                            </p>
                        }
                    })}
            </div>
        }
    })
}
