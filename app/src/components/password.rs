//! The new-password inputs shared by onboarding, the SSPR and the forgot-password
//! reset: "New Password" and "Confirm Password" with the live match status, and the
//! seed's step 7 wait overlay.

use leptos::either::Either;
use leptos::prelude::*;

use crate::api::error::AppError;
use crate::components::checklist::RuleChecklist;
use crate::components::page_locale;
use crate::domain::password::{PasswordOwner, PasswordPolicy, Violation};
use crate::i18n::*;

/// The server's refusal of the last new password sent, if that is why the page is
/// shown again: the server function's error comes in the address, its rules in a
/// one-minute cookie (never in the address: see
/// `api::server::keep_refusal_off_the_address`). A page loaded again later shows no
/// refusal.
///
/// The address only ever says "refused": a list of rules in it (a crafted address could
/// put words of its own in "the part of the name found") is never shown.
pub fn password_refusal(value: Option<Result<(), AppError>>) -> Option<Vec<Violation>> {
    match value {
        Some(Err(AppError::PasswordRefused(_))) => {
            #[cfg(feature = "ssr")]
            {
                crate::api::server::take_refusal()
            }
            #[cfg(not(feature = "ssr"))]
            None
        }
        _ => None,
    }
}

/// The live checklist and the two new-password fields, as one island: what is typed in
/// "New Password" drives the checklist on every keystroke, with the same
/// [`check_password`](crate::domain::password::check_password) the server runs.
/// `refused` is the server's verdict on the last password sent; it is shown until the
/// student types again.
#[island]
pub fn NewPasswordInputs(
    owner: PasswordOwner,
    policy: PasswordPolicy,
    refused: Option<Vec<Violation>>,
) -> impl IntoView {
    let new_password = RwSignal::new(String::new());
    let confirm_password = RwSignal::new(String::new());
    // Sent back refused: "New Password" has the focus and says it is invalid, so a
    // screen reader reads its label and the checklist's summary.
    let refused_on_arrival = refused.is_some();
    let server_violations = Signal::derive(move || {
        new_password
            .with(String::is_empty)
            .then(|| refused.clone())
            .flatten()
    });
    view! {
        <RuleChecklist password=new_password.into() owner policy server_violations />
        <PasswordInputs new_password confirm_password server_violations refused_on_arrival />
    }
}

/// A password field with its "Show" / "Hide" button (sign-in, current password).
#[island]
pub fn PasswordField(id: String, name: String, autocomplete: String) -> impl IntoView {
    let visible = RwSignal::new(false);
    let controls = id.clone();
    view! {
        <div class="password-input">
            <input
                id=id
                name=name
                type=password_type(visible)
                autocomplete=autocomplete
                spellcheck="false"
                autocapitalize="none"
                required
                data-secret
            />
            <PasswordToggle visible controls />
        </div>
    }
}

/// The two new-password fields. `new_password` and `confirm_password` follow what is
/// typed (for the live checklist); `server_violations` is the last refusal.
#[component]
pub fn PasswordInputs(
    new_password: RwSignal<String>,
    confirm_password: RwSignal<String>,
    server_violations: Signal<Option<Vec<Violation>>>,
    /// The page shows the server's refusal of the last password sent.
    #[prop(optional)]
    refused_on_arrival: bool,
) -> impl IntoView {
    let locale = page_locale();
    let new_visible = RwSignal::new(false);
    let confirm_visible = RwSignal::new(false);
    let mismatch = move || {
        let confirm = confirm_password.get();
        if confirm.is_empty() {
            // After a refused submit, before typing, only a mismatch is worth saying.
            server_violations
                .get()
                .filter(|list| list.contains(&Violation::ConfirmMismatch))
                .map(|_| true)
        } else {
            Some(confirm != new_password.get())
        }
    };
    view! {
        <h2 class="form-heading">{td_string!(locale, change.type_new)}</h2>
        <div class="field">
            <label for="new_password">{td_string!(locale, change.new_password)}</label>
            <div class="password-input">
            <input
                id="new_password"
                name="new_password"
                type=password_type(new_visible)
                spellcheck="false"
                autocapitalize="none"
                autocomplete="new-password"
                placeholder=move || td_string!(locale, change.new_placeholder)
                aria-describedby="password-rules-summary"
                aria-invalid=refused_on_arrival.then_some("true")
                autofocus=refused_on_arrival
                required
                data-secret
                on:input=move |ev| new_password.set(event_target_value(&ev))
            />
            <PasswordToggle visible=new_visible controls="new_password" />
            </div>
        </div>
        <div class="field">
            <label for="confirm_password">{td_string!(locale, change.confirm_password)}</label>
            <div class="password-input">
            <input
                id="confirm_password"
                name="confirm_password"
                type=password_type(confirm_visible)
                spellcheck="false"
                autocapitalize="none"
                autocomplete="new-password"
                placeholder=move || td_string!(locale, change.confirm_placeholder)
                aria-describedby="confirm-status"
                required
                data-secret
                on:input=move |ev| confirm_password.set(event_target_value(&ev))
            />
            <PasswordToggle visible=confirm_visible controls="confirm_password" />
            </div>
            <p id="confirm-status" class="confirm-status" aria-live="polite" data-testid="confirm-status">
                {move || match mismatch() {
                    Some(true) => Some(Either::Left(view! { <span class="field-error">{td_string!(locale, change.mismatch)}</span> })),
                    Some(false) => Some(Either::Right(view! { <span class="field-ok">{td_string!(locale, change.matches)}</span> })),
                    None => None,
                }}
            </p>
        </div>
    }
}

/// Step 7: "Please wait while the system change your password", from the moment the
/// form `form` (its id) is sent until the next page arrives (or, if none does, for
/// [`SENDING_FOR`](crate::components::islands::SENDING_FOR)). Coming back to this page
/// from the next one (the browser's back button) finds it closed.
#[island]
pub fn WaitOverlay(form: String) -> impl IntoView {
    let locale = page_locale();
    let pending = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let on_submit = window_event_listener(leptos::ev::submit, move |ev| {
            let ours = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|element| element.id() == form);
            if ours && !ev.default_prevented() {
                pending.set(true);
                // No page after all (the student stopped it): the screen is theirs again.
                set_timeout(
                    move || pending.set(false),
                    crate::components::islands::SENDING_FOR,
                );
            }
        });
        let on_show = window_event_listener(leptos::ev::pageshow, move |_| pending.set(false));
        on_cleanup(move || {
            on_submit.remove();
            on_show.remove();
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = form;
    view! {
        {move || {
            pending
                .get()
                .then(|| {
                    view! {
                        <div class="wait" role="status" aria-live="assertive" data-testid="wait">
                            <div class="wait__box">
                                <span class="spinner" aria-hidden="true"></span>
                                <p>{td_string!(locale, change.wait)}</p>
                            </div>
                        </div>
                    }
                })
        }}
    }
}

/// The GOV.UK password input's "Show" / "Hide" button for the field `controls`. The
/// field's `type` follows `visible`. Shown once the page is hydrated (without
/// JavaScript the field stays a plain password field); the change is announced
/// ("Your password is visible") only after the student presses it.
#[component]
pub fn PasswordToggle(visible: RwSignal<bool>, #[prop(into)] controls: String) -> impl IntoView {
    let locale = page_locale();
    let hydrated = RwSignal::new(false);
    let pressed = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    // Sending the form hides the password again (GOV.UK password input): it is not
    // left readable on the next screen, a projector, or in the browser's form history.
    #[cfg(feature = "hydrate")]
    {
        let listener = window_event_listener(leptos::ev::submit, move |_| visible.set(false));
        on_cleanup(move || listener.remove());
    }
    view! {
        <button
            type="button"
            class="password-toggle"
            hidden=move || !hydrated.get()
            aria-controls=controls
            aria-label=move || {
                if visible.get() {
                    td_string!(locale, password_input.hide_label)
                } else {
                    td_string!(locale, password_input.show_label)
                }
            }
            on:click=move |_| {
                pressed.set(true);
                visible.update(|v| *v = !*v);
            }
        >
            {move || {
                if visible.get() {
                    td_string!(locale, password_input.hide)
                } else {
                    td_string!(locale, password_input.show)
                }
            }}
        </button>
        <span class="visually-hidden" aria-live="polite">
            {move || {
                pressed
                    .get()
                    .then(|| {
                        if visible.get() {
                            td_string!(locale, password_input.visible)
                        } else {
                            td_string!(locale, password_input.hidden)
                        }
                    })
            }}
        </span>
    }
}

/// The `type` of a password field whose visibility `visible` holds.
pub fn password_type(visible: RwSignal<bool>) -> impl Fn() -> &'static str + Copy {
    move || if visible.get() { "text" } else { "password" }
}
