//! How a request's session travels: the server's middleware looks the session up once
//! per request and stores a [`RequestContext`] in the request's extensions; page
//! rendering and server functions read it from there.

use http::HeaderMap;

use portal_core::service::{ActiveSession, NewToken, Settings};

/// What the middleware learned about the request.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub session: Option<ActiveSession>,
    /// The client's address, for the audit trail.
    pub client: Option<String>,
    /// The request carried a session cookie whose session is over (timed out or ended
    /// elsewhere): the sign-in page says so.
    pub ended: bool,
    /// The name of the app whose sign-in request waits for this browser's sign-in and
    /// journey (single sign-on), if any.
    pub returning_to: Option<String>,
    /// That app's redirect URI's origin (`https://host[:port]`): the pages' forms may
    /// end there (`form-action`).
    pub returning_origin: Option<String>,
}

/// The cookie that remembers an app's authorization request (single sign-on) while
/// the person signs in or finishes the first-login journey.
pub const RETURN_COOKIE: &str = "portal_sign_on";

/// `Set-Cookie` value that remembers a pending authorization request (its query) for
/// `max_age_secs`.
pub fn return_cookie(query: &str, max_age_secs: i64, settings: &Settings) -> String {
    portal_cookie(RETURN_COOKIE, query, max_age_secs, settings)
}

/// `Set-Cookie` value that forgets a pending authorization request.
pub fn clear_return_cookie(settings: &Settings) -> String {
    clear_cookie(RETURN_COOKIE, settings)
}

/// The cookie that remembers the chosen language (written by `/set-lang`).
pub const LANGUAGE_COOKIE: &str = "i18n_pref_locale";

/// The request's language: the one chosen with the language selector (its cookie),
/// else the first of the browser's `Accept-Language` the portal has, else English.
/// Read once, when the page starts rendering: it never changes during a request, so
/// nothing reactive is needed for it (and nothing runs after the response).
pub fn request_locale() -> crate::i18n::Locale {
    match leptos::prelude::use_context::<http::request::Parts>() {
        Some(parts) => locale_from_headers(&parts.headers),
        None => crate::i18n::Locale::default(),
    }
}

/// The language of a request with these headers (the rule of [`request_locale`]), for
/// answers rendered outside Leptos.
pub fn locale_from_headers(headers: &HeaderMap) -> crate::i18n::Locale {
    use leptos_i18n::Locale as _;
    if let Some(chosen) = cookie_value(headers, LANGUAGE_COOKIE)
        .and_then(|value| value.parse::<crate::i18n::Locale>().ok())
    {
        return chosen;
    }
    let accepted = accepted_languages(headers);
    if accepted.is_empty() {
        return crate::i18n::Locale::default();
    }
    crate::i18n::Locale::find_locale(&accepted)
}

/// `Accept-Language`'s languages, most wanted first (by `q`, then by order).
fn accepted_languages(headers: &HeaderMap) -> Vec<String> {
    let mut weighted: Vec<(u16, String)> = headers
        .get_all(http::header::ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && q > 0.0)
                .then(|| ((q.clamp(0.0, 1.0) * 1000.0) as u16, tag.to_string()))
        })
        .take(32)
        .collect();
    weighted.sort_by_key(|(q, _)| std::cmp::Reverse(*q));
    weighted.into_iter().map(|(_, tag)| tag).collect()
}

/// The cookie's name: with `Secure` it takes the `__Host-` prefix, which browsers only
/// accept over HTTPS, for the whole host and path `/`.
pub fn cookie_name(settings: &Settings) -> &'static str {
    if settings.secure_cookies {
        "__Host-portal_session"
    } else {
        "portal_session"
    }
}

/// The forgot-password cookie's name (same rules as the session cookie).
pub fn reset_cookie_name(settings: &Settings) -> &'static str {
    if settings.secure_cookies {
        "__Host-portal_reset"
    } else {
        "portal_reset"
    }
}

/// The cookie that carries a refused new password's rules back to its page (see
/// `api::server::keep_refusal_off_the_address`).
pub fn refusal_cookie_name(settings: &Settings) -> &'static str {
    if settings.secure_cookies {
        "__Host-portal_refusal"
    } else {
        "portal_refusal"
    }
}

/// `Set-Cookie` value carrying a refusal (`value`, already encoded) for a minute: long
/// enough for the browser to follow the redirect, short enough not to linger.
pub fn refusal_cookie(value: &str, settings: &Settings) -> String {
    cookie::Cookie::build((refusal_cookie_name(settings), value.to_string()))
        .http_only(true)
        .secure(settings.secure_cookies)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(60))
        .build()
        .to_string()
}

/// `Set-Cookie` value that removes the refusal cookie.
pub fn clear_refusal_cookie(settings: &Settings) -> String {
    clear_cookie(refusal_cookie_name(settings), settings)
}

/// The session token from the request's `Cookie` headers, if any.
pub fn token_from_headers(headers: &HeaderMap, settings: &Settings) -> Option<String> {
    cookie_value(headers, cookie_name(settings))
}

/// The forgot-password token from the request's `Cookie` headers, if any.
pub fn reset_token_from_headers(headers: &HeaderMap, settings: &Settings) -> Option<String> {
    cookie_value(headers, reset_cookie_name(settings))
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// `Set-Cookie` value carrying a new session token.
pub fn session_cookie(token: &NewToken, settings: &Settings) -> String {
    build_cookie(cookie_name(settings), token, settings)
}

/// `Set-Cookie` value carrying a forgot-password token.
pub fn reset_cookie(token: &NewToken, settings: &Settings) -> String {
    build_cookie(reset_cookie_name(settings), token, settings)
}

/// `Set-Cookie` value that removes the forgot-password cookie.
pub fn clear_reset_cookie(settings: &Settings) -> String {
    clear_cookie(reset_cookie_name(settings), settings)
}

fn build_cookie(name: &'static str, token: &NewToken, settings: &Settings) -> String {
    cookie::Cookie::build((name, token.expose().to_string()))
        .http_only(true)
        .secure(settings.secure_cookies)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .build()
        .to_string()
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(settings: &Settings) -> String {
    clear_cookie(cookie_name(settings), settings)
}

fn clear_cookie(name: &'static str, settings: &Settings) -> String {
    portal_cookie(name, "", 0, settings)
}

/// A cookie of the portal's kind (`HttpOnly`, `SameSite=Lax`, the whole site, `Secure`
/// over HTTPS) that lives `max_age_secs`.
fn portal_cookie(
    name: &'static str,
    value: &str,
    max_age_secs: i64,
    settings: &Settings,
) -> String {
    cookie::Cookie::build((name, value))
        .http_only(true)
        .secure(settings.secure_cookies)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
        .to_string()
}
