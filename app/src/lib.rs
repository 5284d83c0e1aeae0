//! The portal's shared Leptos crate: the pages of the first-login journey, the server
//! functions they call, and the pure rules both sides run.
//!
//! - [`domain`] (the crate `app/domain`): pure rules (password policy, answers, step
//!   machine), no framework types.
//! - [`api`]: `#[server]` functions and the errors they may return.
//! - [`pages`] and [`components`]: one component per journey screen, shared widgets.
//! - `ssr` (server build only): how the request reaches the pages; the services they
//!   call are the crate `portal_core`.

pub mod api;
pub mod components;
/// The pure rules, in a crate of their own (`app/domain`).
pub use domain;
pub mod pages;
pub mod practice;
#[cfg(feature = "ssr")]
pub mod ssr;

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Html, MetaTags, Stylesheet};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::i18n::*;
use crate::pages::{
    ChangePasswordPage, ConfirmQuestionsPage, ForgotDonePage, ForgotNewPasswordPage,
    ForgotPasswordPage, ForgotQuestionsPage, NotFoundPage, PasswordChangedPage, PortalPage,
    QuestionsSavedPage, SetupQuestionsPage, SignInPage, SsprHomePage, SsprPasswordPage,
    SsprSignInPage, StaffClassPage, StaffHomePage, StaffImportPage, StaffLettersPage,
    StaffStudentPage,
};

/// The output name the build gives the wasm, JS and CSS bundles under `/pkg`.
pub const OUTPUT_NAME: &str = "school-portal";

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::csp::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // No icon file to fetch (and no 404 on every page).
                <link rel="icon" href="data:," />
                <AutoReload options=options.clone() />
                // Islands: only the interactive parts of a page (see `components::islands`)
                // are hydrated; everything else is HTML from the server.
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
                <components::islands::Forms />
                // Last in the page, so hydrated after every other island.
                <components::islands::HydrationMark />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    practice::provide_practice();
    // The request's language, fixed for the whole page (see `components::page_locale`);
    // the islands read it back from `<html lang>`. A language switch goes through the
    // server (`/set-lang`) and loads the page again.
    let locale = components::page_locale();
    provide_context(locale);
    view! {
        <Html attr:lang=locale.as_str() attr:dir=locale.direction().as_str() />
        <Stylesheet id="leptos" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <components::PageTitle />
        <Router>
            <components::SkipLink />
            <components::guide::PracticeBanner />
            <Routes fallback=NotFoundPage>
                <Route path=path!("/") view=SignInPage ssr=SsrMode::Async />
                <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                <Route
                    path=path!("/forgot-password/questions")
                    view=ForgotQuestionsPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/forgot-password/new-password")
                    view=ForgotNewPasswordPage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/forgot-password/done") view=ForgotDonePage />
                <Route path=path!("/sspr") view=SsprHomePage ssr=SsrMode::Async />
                <Route path=path!("/sspr/sign-in") view=SsprSignInPage ssr=SsrMode::Async />
                <Route path=path!("/sspr/password") view=SsprPasswordPage ssr=SsrMode::Async />
                <Route
                    path=path!("/sspr/setup-questions")
                    view=SetupQuestionsPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/sspr/confirm-questions")
                    view=ConfirmQuestionsPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/sspr/questions-saved")
                    view=QuestionsSavedPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/sspr/change-password")
                    view=ChangePasswordPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/sspr/password-changed")
                    view=PasswordChangedPage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/portal") view=PortalPage ssr=SsrMode::Async />
                <Route path=path!("/staff") view=StaffHomePage ssr=SsrMode::Async />
                <Route path=path!("/staff/class") view=StaffClassPage ssr=SsrMode::Async />
                <Route path=path!("/staff/student") view=StaffStudentPage ssr=SsrMode::Async />
                <Route path=path!("/staff/import") view=StaffImportPage ssr=SsrMode::Async />
                <Route path=path!("/staff/letters") view=StaffLettersPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
