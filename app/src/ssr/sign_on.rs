//! The texts of single sign-on's own small pages (the sign-out confirmation, a refused
//! request), in the request's language: the provider renders them outside Leptos.

use http::HeaderMap;

use crate::i18n::*;
use crate::ssr::context::locale_from_headers;

/// "Sign out of the portal?" and its buttons.
pub struct SignOutTexts {
    pub lang: String,
    pub heading: String,
    pub body: String,
    pub button: String,
    pub stay: String,
}

pub fn sign_out_texts(headers: &HeaderMap) -> SignOutTexts {
    let locale = locale_from_headers(headers);
    SignOutTexts {
        lang: locale.to_string(),
        heading: td_string!(locale, sign_on.sign_out_heading).to_string(),
        body: td_string!(locale, sign_on.sign_out_body).to_string(),
        button: td_string!(locale, portal.sign_out).to_string(),
        stay: td_string!(locale, sign_on.stay).to_string(),
    }
}

/// Why an app's sign-in request cannot go back to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    UnknownApp,
    UnknownAddress,
}

/// The language, heading, message and link of a refused request's page.
pub fn refused_texts(headers: &HeaderMap, why: Refused) -> [String; 4] {
    let locale = locale_from_headers(headers);
    [
        locale.to_string(),
        td_string!(locale, sign_on.refused_heading).to_string(),
        match why {
            Refused::UnknownApp => td_string!(locale, sign_on.unknown_app).to_string(),
            Refused::UnknownAddress => td_string!(locale, sign_on.unknown_address).to_string(),
        },
        td_string!(locale, sign_on.to_portal).to_string(),
    ]
}
