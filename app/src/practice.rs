//! Practice mode (`server --demo`): a teacher runs the first-login journey in front of
//! a class again and again. Every page says it is a practice environment, the demo
//! accounts are listed on the sign-in page, and a practice account can be put back
//! at the start from the portal. A presenter view enlarges the text and keeps the
//! step guide open beside the screen.
//!
//! Whether practice mode is on is decided by the server's configuration only, and
//! only server-rendered components show it (no island depends on it).

use leptos::prelude::*;

pub use domain::practice::{
    is_practice_login, PRACTICE_CLASS, PRACTICE_PASSWORD, PRACTICE_SCHOOL, PRACTICE_STAFF,
    PRACTICE_STUDENTS,
};

/// The cookie that keeps the presenter view on (practice mode only).
pub const PRESENTER_COOKIE: &str = "portal_presenter";
/// Practice mode and the presenter view, as this page was rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Practice {
    pub on: bool,
    pub presenter: bool,
}

/// Reads practice mode once for the whole page and provides it to every component.
pub fn provide_practice() -> Practice {
    let practice = read();
    provide_context(practice);
    practice
}

/// Practice mode as provided by [`provide_practice`] (off outside the app).
pub fn use_practice() -> Practice {
    use_context::<Practice>().unwrap_or_default()
}

#[cfg(feature = "ssr")]
fn read() -> Practice {
    use std::sync::Arc;
    let on = use_context::<Arc<portal_core::service::Portal>>()
        .is_some_and(|portal| portal.settings().practice);
    let presenter = on
        && use_context::<http::request::Parts>().is_some_and(|parts| {
            crate::ssr::context::cookie_value(&parts.headers, PRESENTER_COOKIE).as_deref()
                == Some("1")
        });
    Practice { on, presenter }
}

#[cfg(not(feature = "ssr"))]
fn read() -> Practice {
    Practice::default()
}
