//! The step guide (the seed's printed guide, in the product) and the practice-mode
//! banner.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::page_locale;
use crate::i18n::*;
use crate::practice::{use_practice, PRACTICE_PASSWORD, PRACTICE_STAFF, PRACTICE_STUDENTS};

/// The guide's four parts for the seed guide's step `n`, in the current language.
fn guide_text(locale: Locale, n: u8) -> Option<[String; 5]> {
    macro_rules! step {
        ($s:ident) => {
            [
                td_string!(locale, guide.$s.title).to_string(),
                td_string!(locale, guide.$s.asks).to_string(),
                td_string!(locale, guide.$s.how).to_string(),
                td_string!(locale, guide.$s.next).to_string(),
                td_string!(locale, guide.$s.mistakes).to_string(),
            ]
        };
    }
    Some(match n {
        1 => step!(s1),
        3 => step!(s3),
        4 => step!(s4),
        5 => step!(s5),
        6 => step!(s6),
        8 => step!(s8),
        9 => step!(s9),
        _ => return None,
    })
}

/// "Guide": what this step asks, what to do, what happens next and the common
/// mistakes, for the parent beside the student. A `<details>`: collapsible with or
/// without JavaScript; closed by default (its summary still names the step), open in
/// the presenter view.
#[component]
pub fn StepGuide(step: u8) -> impl IntoView {
    let locale = page_locale();
    let presenter = use_practice().presenter;
    let text = move || guide_text(locale, step);
    text().map(|_| {
        view! {
            <aside class="guide" aria-labelledby="guide-summary" data-testid="guide">
                <details open=presenter>
                    <summary id="guide-summary" class="guide__summary">
                        <span class="guide__label">{td!(locale, guide.toggle)}</span>
                        <span class="guide__step">{td!(locale, header.step_of, n = step)}</span>
                        <span class="guide__title">{move || text().map(|[title, ..]| title)}</span>
                    </summary>
                    <dl class="guide__body">
                        <dt>{td!(locale, guide.asks)}</dt>
                        <dd>{move || text().map(|t| t[1].clone())}</dd>
                        <dt>{td!(locale, guide.how)}</dt>
                        <dd>{move || text().map(|t| t[2].clone())}</dd>
                        <dt>{td!(locale, guide.next)}</dt>
                        <dd>{move || text().map(|t| t[3].clone())}</dd>
                        <dt>{td!(locale, guide.mistakes)}</dt>
                        <dd>{move || text().map(|t| t[4].clone())}</dd>
                    </dl>
                </details>
            </aside>
        }
        .into_any()
    })
}

/// "Practice environment — not your school's real portal", on every page in practice
/// mode, with the presenter view's switch (a GET form: works without JavaScript).
#[component]
pub fn PracticeBanner() -> impl IntoView {
    let locale = page_locale();
    let practice = use_practice();
    let location = use_location();
    practice.on.then(|| {
        view! {
            <section
                class="practice-banner"
                aria-label=move || td_string!(locale, practice.banner)
                data-testid="practice-banner"
                data-presenter=practice.presenter.then_some("on")
            >
                <p class="practice-banner__text">{td!(locale, practice.banner)}</p>
                <form method="get" action=crate::domain::route::Endpoint::Presenter.path() class="practice-banner__form">
                    <input type="hidden" name="on" value=if practice.presenter { "0" } else { "1" } />
                    <input
                        type="hidden"
                        name="next"
                        value=super::here(&location)
                    />
                    <button type="submit" class="button--small">
                        {if practice.presenter {
                            td!(locale, practice.presenter_off).into_any()
                        } else {
                            td!(locale, practice.presenter).into_any()
                        }}
                    </button>
                </form>
            </section>
        }
    })
}

/// The practice accounts and their temporary password, on the sign-in page.
#[component]
pub fn PracticeAccounts() -> impl IntoView {
    let locale = page_locale();
    use_practice().on.then(|| {
        let logins: Vec<&'static str> = PRACTICE_STUDENTS
            .iter()
            .map(|(_, login)| *login)
            .chain(std::iter::once(PRACTICE_STAFF.1))
            .collect();
        let count = logins.len();
        view! {
            <details class="notice practice-accounts" data-testid="practice-accounts">
                <summary>
                    {td!(locale, practice.accounts, count = count, password = PRACTICE_PASSWORD)}
                </summary>
                <ul class="practice-accounts__list">
                    {logins.into_iter().map(|login| view! { <li>{login}</li> }).collect_view()}
                </ul>
            </details>
        }
    })
}
