//! Widgets shared by the journey's screens: the SSPR frame (header, idle countdown,
//! language selector, step indicator), the gate that loads the journey and enforces
//! the step, the error summary and the live password-rule checklist.

pub mod checklist;
pub mod guide;
pub mod islands;
pub mod password;
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
                            view! { <Redirect path=crate::domain::route::Route::timed_out() /> }.into_any()
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
    let locale = page_locale();
    // Erased here: the whole frame's type is otherwise too deep for the compiler.
    let header = view! {
        <header class="sspr-header">
            <div class="sspr-header__bar">
                <p class="sspr-header__title">
                    {if portal {
                        td!(locale, portal_title).into_any()
                    } else {
                        td!(locale, sspr_title).into_any()
                    }}
                </p>
                <div class="sspr-header__tools">
                    {(!public)
                        .then(|| {
                            view! {
                                <IdleCountdown timeout_secs=idle_timeout_secs />
                                <span aria-hidden="true">" · "</span>
                            }
                                .into_any()
                        })}
                    <LanguageSelect />
                    {(!public).then(|| view! { <SignOutButton /> }.into_any())}
                </div>
            </div>
            {step
                .map(|n| {
                    view! {
                        <p class="step-indicator" data-step=n data-testid="step-indicator">
                            {td!(locale, header.step_of, n = n)}
                        </p>
                    }
                })}
        </header>
    }
    .into_any();
    let guide = step.map(|n| view! { <guide::StepGuide step=n /> }.into_any());
    // An app is waiting for this sign-in (single sign-on): every step says where the
    // journey ends.
    let returning = step.and(returning_app()).map(|app| {
        view! {
            <p class="notice notice--returning" role="status" data-testid="returning-to">
                {td!(locale, sign_on.returning, app = app)}
            </p>
        }
    });
    view! {
        {header}
        // The guide follows the screen in reading and focus order: beside it on a wide
        // display, below it on a phone.
        <div class="layout" class:layout--guide=step.is_some()>
            <main id="main" class=class>
                {returning}
                {children()}
            </main>
            {guide}
        </div>
    }
    .into_any()
}

/// The app waiting for this browser's sign-in, if any (rendered on the server only:
/// the frame is not an island).
fn returning_app() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        crate::api::server::read_request_context(|ctx| ctx.returning_to.clone()).flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
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
/// ended the session by then. An island: every page load is a request, so the count
/// starts afresh with each page.
#[island]
pub fn IdleCountdown(timeout_secs: i64) -> impl IntoView {
    let locale = page_locale();
    let remaining = RwSignal::new(None::<i64>);
    // Seconds since the server last saw a request from this page, and whether the
    // student has typed since.
    let since_request = RwSignal::new(0_i64);
    #[cfg(feature = "hydrate")]
    let active = RwSignal::new(false);
    // Live from here: the page's own request has just restarted the server's clock.
    Effect::new(move |_| {
        remaining.set(Some(timeout_secs));
        since_request.set(0);
    });
    // "Stay signed in" (or an activity ping): the server restarts its clock and says
    // for how long; start again from there.
    let keep_alive = move || {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match keep_alive_request().await {
                Some(secs) => {
                    remaining.set(Some(secs));
                    since_request.set(0);
                }
                None => {
                    let _ = window()
                        .location()
                        .set_href(&crate::domain::route::Route::timed_out());
                }
            }
        });
    };
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
                    keep_alive();
                }
                if next == Some(0) {
                    let _ = window()
                        .location()
                        .set_href(&crate::domain::route::Route::timed_out());
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
                match remaining.get() {
                    None => td_string!(locale, header.idle_minutes, minutes = minutes),
                    Some(_) => td_string!(locale, header.idle_clock, clock = clock()),
                }
            }}
        </span>
        {move || {
            warning()
                .then(|| {
                    view! {
            <div class="dialog-backdrop">
                <div
                    class="dialog"
                    role="alertdialog"
                    aria-modal="true"
                    aria-labelledby="timeout-heading"
                    aria-describedby="timeout-body"
                    data-testid="timeout-warning"
                >
                    <h2 id="timeout-heading">{td_string!(locale, idle.heading)}</h2>
                    <p id="timeout-body" aria-live="polite">
                        {move || {
                                        td_string!(locale, idle.body, clock = clock())
                        }}
                    </p>
                    <div class="actions">
                        <button
                            type="button"
                            class="button"
                            node_ref=stay_button
                            on:click=move |_| keep_alive()
                        >
                            {td_string!(locale, idle.stay)}
                        </button>
                    </div>
                </div>
            </div>
                    }
                })
        }}
    }
}

/// Calls the [`keep_alive`](crate::api::keep_alive) server function: the seconds the
/// session now has, or `None` if it has ended (or the server cannot be reached). A
/// plain `fetch` of its JSON answer: the island needs no more of the server-function
/// machinery in the browser.
#[cfg(feature = "hydrate")]
async fn keep_alive_request() -> Option<i64> {
    use wasm_bindgen::JsCast as _;
    use wasm_bindgen_futures::JsFuture;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let headers = web_sys::Headers::new().ok()?;
    headers.set("accept", "application/json").ok()?;
    headers
        .set("content-type", "application/x-www-form-urlencoded")
        .ok()?;
    init.set_headers(&headers);
    let url = <crate::api::KeepAlive as leptos::server_fn::ServerFn>::url();
    let response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .ok()?
        .dyn_into::<web_sys::Response>()
        .ok()?;
    if !response.ok() {
        return None;
    }
    let text = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    text.trim().parse().ok()
}

/// The page's language: on the server the request's (provided by [`crate::App`], see
/// `ssr::context::request_locale`), in the browser the one the server wrote into
/// `<html lang>`. A language switch loads the page again, so it never changes while a
/// page is open: it is a plain value, not a signal, and no i18n context (with its
/// effects, which outlived their request on the server) is needed on either side.
pub fn page_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use_context::<Locale>().unwrap_or_else(crate::ssr::context::request_locale)
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|lang| lang.parse().ok())
            .unwrap_or_default()
    }
}

/// Whether the dialog is open at `remaining` (outside a reactive context).
#[cfg(feature = "hydrate")]
fn warning_untracked(remaining: Option<i64>, timeout_secs: i64) -> bool {
    remaining.is_some_and(|s| s <= WARN_BEFORE_SECS.min(timeout_secs))
}

/// This page's address: its path and query (to come back to after a switch).
pub fn here(location: &leptos_router::location::Location) -> String {
    let search = location.search.get_untracked();
    let path = location.pathname.get_untracked();
    match search.trim_start_matches('?') {
        "" => path,
        query => format!("{path}?{query}"),
    }
}

/// The language selector: a GET form to `/set-lang`, which sets the cookie and comes
/// back to this page (its query too) in the new language. Choosing a language does
/// nothing by itself: the "Change" button sends it (a change of page on a mere
/// selection, or on every arrow key in a closed list, would surprise keyboard and
/// screen-reader users — WCAG 3.2.2). With JavaScript what was typed on the page is
/// kept over the reload (the [`Forms`](islands::Forms) island).
#[component]
pub fn LanguageSelect() -> impl IntoView {
    let locale = page_locale();
    let location = use_location();
    let next = here(&location);
    view! {
        <form class="language-select" method="get" action=crate::domain::route::Endpoint::SetLanguage.path()>
            <input type="hidden" name="next" value=next />
            <label for="language" class="visually-hidden">
                {td!(locale, language_label)}
            </label>
            <select id="language" name="lang">
                {Locale::get_all()
                    .iter()
                    .copied()
                    .map(|option| {
                        view! {
                            <option value=option.as_str() selected=option == locale>
                                {td_string!(option, language_name)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="button--small">
                {td!(locale, change_language)}
            </button>
        </form>
    }
    .into_any()
}

#[component]
pub fn SignOutButton() -> impl IntoView {
    let locale = page_locale();
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <ActionForm action=sign_out attr:class="sign-out">
            <button type="submit" class="button--link">
                {td!(locale, header.sign_out)}
            </button>
        </ActionForm>
    }
}

/// The GOV.UK-style error summary: a titled box, announced and focusable.
#[component]
pub fn ErrorSummary(error: Option<AppError>) -> impl IntoView {
    let locale = page_locale();
    error.map(|error| {
        let redirect = match &error {
            // Only a step of the journey: the error may come from the address (a form's
            // refusal travels in the query), which anyone can write.
            AppError::WrongStep { path } if Step::from_path(path).is_some() => Some(path.clone()),
            _ => None,
        };
        view! {
            // Focused when the page arrives (a refused form comes back as a new page), so
            // a screen reader reads it and Tab goes on to the form.
            <div
                class="error-summary"
                role="alert"
                tabindex="-1"
                autofocus
                data-testid="error-summary"
            >
                <h2 class="error-summary__title">{td!(locale, errors.title)}</h2>
                <p>
                    {move || {
                        error_text(locale, &error)
                    }}
                </p>
                {redirect
                    .map(|path| {
                        view! {
                            <p>
                                <a href=path>{td!(locale, errors.continue_here)}</a>
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
    let locale = page_locale();
    view! {
        <a class="skip-link no-print" href="#main">
            {td!(locale, skip_to_content)}
        </a>
    }
}

/// The document's title, in the chosen language. Read once, here: `<MetaTags>`
/// renders titles after the page, outside this request's reactive arena, where reading
/// the locale signal panics (seen under concurrent renders).
#[component]
pub fn PageTitle() -> impl IntoView {
    let locale = page_locale();
    let text = td_string!(locale, portal_title).to_string();
    view! { <leptos_meta::Title text=text /> }
}
