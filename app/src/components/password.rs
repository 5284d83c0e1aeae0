//! The new-password inputs shared by onboarding, the SSPR and the forgot-password
//! reset: "New Password" and "Confirm Password" with the live match status, and the
//! seed's step 7 wait overlay.

use leptos::prelude::*;

use crate::api::error::AppError;
use crate::domain::password::Violation;
use crate::i18n::*;

/// The server's refusal of the new password, while it still applies: as long as the
/// password typed is the one refused (or, without JavaScript, nothing is typed yet).
/// Once the student edits it, the live checklist speaks alone again.
pub fn password_refusal<S>(value: S, typed: RwSignal<String>) -> Signal<Option<Vec<Violation>>>
where
    S: Get<Value = Option<Result<(), AppError>>> + Copy + Send + Sync + 'static,
{
    let refused_for = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Err(AppError::PasswordRefused(_))) = value.get() {
            refused_for.set(Some(typed.get_untracked()));
        }
    });
    Signal::derive(move || {
        let Some(Err(AppError::PasswordRefused(list))) = value.get() else {
            return None;
        };
        let now = typed.get();
        (now.is_empty() || refused_for.get().as_deref() == Some(now.as_str())).then_some(list)
    })
}

/// The two new-password fields. `new_password` and `confirm_password` follow what is
/// typed (for the live checklist); `server_violations` is the last refusal.
#[component]
pub fn PasswordInputs(
    new_password: RwSignal<String>,
    confirm_password: RwSignal<String>,
    server_violations: Signal<Option<Vec<Violation>>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let new_visible = RwSignal::new(false);
    let confirm_visible = RwSignal::new(false);
    let mismatch = move || {
        let confirm = confirm_password.get();
        if confirm.is_empty() {
            // After a refused submit (no JavaScript) only a mismatch is worth saying.
            server_violations
                .get()
                .filter(|list| list.contains(&Violation::ConfirmMismatch))
                .map(|_| true)
        } else {
            Some(confirm != new_password.get())
        }
    };
    view! {
        <h2 class="form-heading">{t!(i18n, change.type_new)}</h2>
        <div class="field">
            <label for="new_password">{t!(i18n, change.new_password)}</label>
            <div class="password-input">
            <input
                id="new_password"
                name="new_password"
                type=password_type(new_visible)
                spellcheck="false"
                autocapitalize="none"
                autocomplete="new-password"
                placeholder=move || t_string!(i18n, change.new_placeholder)
                aria-describedby="password-rules-summary"
                required
                on:input=move |ev| new_password.set(event_target_value(&ev))
            />
            <PasswordToggle visible=new_visible controls="new_password" />
            </div>
        </div>
        <div class="field">
            <label for="confirm_password">{t!(i18n, change.confirm_password)}</label>
            <div class="password-input">
            <input
                id="confirm_password"
                name="confirm_password"
                type=password_type(confirm_visible)
                spellcheck="false"
                autocapitalize="none"
                autocomplete="new-password"
                placeholder=move || t_string!(i18n, change.confirm_placeholder)
                aria-describedby="confirm-status"
                required
                on:input=move |ev| confirm_password.set(event_target_value(&ev))
            />
            <PasswordToggle visible=confirm_visible controls="confirm_password" />
            </div>
            <p id="confirm-status" class="confirm-status" aria-live="polite" data-testid="confirm-status">
                {move || match mismatch() {
                    Some(true) => Some(view! { <span class="field-error">{t!(i18n, change.mismatch)}</span> }.into_any()),
                    Some(false) => Some(view! { <span class="field-ok">{t!(i18n, change.matches)}</span> }.into_any()),
                    None => None,
                }}
            </p>
        </div>
    }
}

/// Step 7: "Please wait while the system change your password", while `pending`.
#[component]
pub fn WaitOverlay(pending: Signal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || pending.get()>
            <div class="wait" role="status" aria-live="assertive" data-testid="wait">
                <div class="wait__box">
                    <span class="spinner" aria-hidden="true"></span>
                    <p>{t!(i18n, change.wait)}</p>
                </div>
            </div>
        </Show>
    }
}

/// The GOV.UK password input's "Show" / "Hide" button for the field `controls`. The
/// field's `type` follows `visible`. Shown once the page is hydrated (without
/// JavaScript the field stays a plain password field); the change is announced
/// ("Your password is visible") only after the student presses it.
#[component]
pub fn PasswordToggle(visible: RwSignal<bool>, controls: &'static str) -> impl IntoView {
    let i18n = use_i18n();
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
                    t_string!(i18n, password_input.hide_label)
                } else {
                    t_string!(i18n, password_input.show_label)
                }
            }
            on:click=move |_| {
                pressed.set(true);
                visible.update(|v| *v = !*v);
            }
        >
            {move || {
                if visible.get() {
                    t_string!(i18n, password_input.hide)
                } else {
                    t_string!(i18n, password_input.show)
                }
            }}
        </button>
        <span class="visually-hidden" aria-live="polite">
            {move || {
                pressed
                    .get()
                    .then(|| {
                        if visible.get() {
                            t_string!(i18n, password_input.visible)
                        } else {
                            t_string!(i18n, password_input.hidden)
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
