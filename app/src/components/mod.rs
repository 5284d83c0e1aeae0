//! Widgets shared by the journey's screens: the SSPR frame (header, idle countdown,
//! language selector, step indicator), the gate that loads the journey and enforces
//! the step, the error summary and the live password-rule checklist.

pub mod checklist;
pub mod guide;
pub mod password;
pub mod text;

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::api::error::AppError;
use crate::api::{journey, JourneyView, KeepAlive, SignOut};
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

/// The frame of every journey screen: the header (title, idle countdown, language,
/// "Sign out", "Step N of 9"), the step guide beside the screen, and `<main>`.
#[component]
pub fn SsprFrame(
    /// The seed guide's step number shown as "Step N of 9" (with its guide), if the
    /// screen is a step of the first-login journey.
    step: Option<u8>,
    idle_timeout_secs: i64,
    /// Not signed in (sign-in and forgot-password screens): no countdown, no "Sign out".
    #[prop(optional)]
    public: bool,
    /// A "MIMS Portal" screen (sign-in, the portal) rather than the SSPR's.
    #[prop(optional)]
    portal: bool,
    /// The `<main>` element's classes.
    #[prop(default = "card")]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    // Erased here: the whole frame's type is otherwise too deep for the compiler.
    let header = view! {
        <header class="sspr-header">
            <div class="sspr-header__bar">
                <p class="sspr-header__title">
                    {if portal {
                        t!(i18n, portal_title).into_any()
                    } else {
                        t!(i18n, sspr_title).into_any()
                    }}
                </p>
                <div class="sspr-header__tools">
                    {(!public)
                        .then(|| {
                            view! {
                                <IdleCountdown timeout_secs=idle_timeout_secs />
                                <span aria-hidden="true">" · "</span>
                            }
                        })}
                    <LanguageSelect />
                    {(!public).then(|| view! { <SignOutButton /> })}
                </div>
            </div>
            {step
                .map(|n| {
                    view! {
                        <p class="step-indicator" data-step=n data-testid="step-indicator">
                            {t!(i18n, header.step_of, n = n)}
                        </p>
                    }
                })}
        </header>
    }
    .into_any();
    let guide = step.map(|n| view! { <guide::StepGuide step=n /> }.into_any());
    view! {
        {header}
        // The guide follows the screen in reading and focus order: beside it on a wide
        // display, below it on a phone.
        <div class="layout" class:layout--guide=step.is_some()>
            <main id="main" class=class>
                {children()}
            </main>
            {guide}
        </div>
    }
    .into_any()
}

/// Seconds before the end at which the "you will be signed out" dialog opens.
const WARN_BEFORE_SECS: i64 = 60;
/// Typing keeps the session alive with at most one request per this many seconds.
#[cfg(feature = "hydrate")]
const ACTIVITY_PING_SECS: i64 = 30;

/// "Idle Timeout: 4 minutes" on the server; a live countdown once hydrated. Typing in
/// the page counts as activity (one request every half minute at most, never one per
/// keystroke). With a minute left a dialog offers "Stay signed in", which extends the
/// session on the server. At zero the page goes to the sign-in screen: the server has
/// ended the session by then.
#[component]
pub fn IdleCountdown(timeout_secs: i64) -> impl IntoView {
    let i18n = use_i18n();
    let remaining = RwSignal::new(None::<i64>);
    // Seconds since the server last saw a request from this page, and whether the
    // student has typed since.
    let since_request = RwSignal::new(0_i64);
    #[cfg(feature = "hydrate")]
    let active = RwSignal::new(false);
    let keep_alive = ServerAction::<KeepAlive>::new();
    let location = use_location();
    Effect::new(move |_| {
        // Every navigation is a request to the server, which restarts its idle clock.
        location.pathname.track();
        remaining.set(Some(timeout_secs));
        since_request.set(0);
    });
    // The server answered "Stay signed in" (or an activity ping): start again.
    Effect::new(move |_| match keep_alive.value().get() {
        Some(Ok(secs)) => {
            remaining.set(Some(secs));
            since_request.set(0);
        }
        Some(Err(_)) => {
            #[cfg(feature = "hydrate")]
            let _ = window().location().set_href("/?timeout=1");
        }
        None => {}
    });
    let warning = move || {
        remaining
            .get()
            .is_some_and(|s| s <= WARN_BEFORE_SECS.min(timeout_secs))
    };
    #[cfg(feature = "hydrate")]
    {
        let on_key = window_event_listener(leptos::ev::keydown, move |_| active.set(true));
        let on_input = window_event_listener(leptos::ev::input, move |_| active.set(true));
        on_cleanup(move || {
            on_key.remove();
            on_input.remove();
        });
        let handle = set_interval_with_handle(
            move || {
                let next = remaining.get_untracked().map(|s| (s - 1).max(0));
                remaining.set(next);
                since_request.update(|s| *s += 1);
                if active.get_untracked()
                    && since_request.get_untracked() >= ACTIVITY_PING_SECS
                    && !warning_untracked(next, timeout_secs)
                {
                    active.set(false);
                    since_request.set(0);
                    keep_alive.dispatch(KeepAlive {});
                }
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
    // Focus "Stay signed in" when the dialog opens, so a keyboard or screen reader user
    // lands on it.
    let stay_button = NodeRef::<leptos::html::Button>::new();
    #[cfg(feature = "hydrate")]
    let focus_before = StoredValue::new_local(None::<web_sys::HtmlElement>);
    Effect::new(move |was_open: Option<bool>| {
        let open = warning();
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast as _;
            if open && was_open != Some(true) {
                focus_before.set_value(
                    document()
                        .active_element()
                        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()),
                );
            } else if !open && was_open == Some(true) {
                // Back to where the student was typing.
                if let Some(element) = focus_before.get_value() {
                    let _ = element.focus();
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = was_open;
        open
    });
    // The button exists only while the dialog is open: focus it as soon as it is there.
    Effect::new(move |_| {
        if let Some(button) = stay_button.get() {
            let _ = button.focus();
        }
    });
    let minutes = (timeout_secs + 59) / 60;
    let clock = move || {
        remaining
            .get()
            .map(|s| format!("{}:{:02}", s / 60, s % 60))
            .unwrap_or_default()
    };
    view! {
        <span class="idle-timeout" data-testid="idle-timeout">
            {move || {
                let locale = i18n.get_locale();
                match remaining.get() {
                    None => td_string!(locale, header.idle_minutes, minutes = minutes),
                    Some(_) => td_string!(locale, header.idle_clock, clock = clock()),
                }
            }}
        </span>
        <Show when=warning>
            <div class="dialog-backdrop">
                <div
                    class="dialog"
                    role="alertdialog"
                    aria-modal="true"
                    aria-labelledby="timeout-heading"
                    aria-describedby="timeout-body"
                    data-testid="timeout-warning"
                >
                    <h2 id="timeout-heading">{t!(i18n, idle.heading)}</h2>
                    <p id="timeout-body" aria-live="polite">
                        {move || {
                            let locale = i18n.get_locale();
                            td_string!(locale, idle.body, clock = clock())
                        }}
                    </p>
                    <div class="actions">
                        <button
                            type="button"
                            class="button"
                            node_ref=stay_button
                            on:click=move |_| {
                                keep_alive.dispatch(KeepAlive {});
                            }
                        >
                            {t!(i18n, idle.stay)}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
    .into_any()
}

/// Whether the dialog is open at `remaining` (outside a reactive context).
#[cfg(feature = "hydrate")]
fn warning_untracked(remaining: Option<i64>, timeout_secs: i64) -> bool {
    remaining.is_some_and(|s| s <= WARN_BEFORE_SECS.min(timeout_secs))
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
    .into_any()
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

/// "Skip to main content": the first stop of the Tab key on every page.
#[component]
pub fn SkipLink() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <a class="skip-link no-print" href="#main">
            {t!(i18n, skip_to_content)}
        </a>
    }
}

/// The document's title, in the chosen language. On the server it is read once, here:
/// `<MetaTags>` renders titles after the page, outside this request's reactive arena,
/// where reading the locale signal panics (seen under concurrent renders). In the
/// browser it follows a language switch.
#[component]
pub fn PageTitle() -> impl IntoView {
    let i18n = use_i18n();
    #[cfg(not(feature = "hydrate"))]
    let text = t_string!(i18n, portal_title).to_string();
    #[cfg(feature = "hydrate")]
    let text = move || t_string!(i18n, portal_title).to_string();
    view! { <leptos_meta::Title text=text /> }
}
