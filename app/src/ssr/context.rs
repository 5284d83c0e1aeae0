//! How a request's session travels: the server's middleware looks the session up once
//! per request and stores a [`RequestContext`] in the request's extensions; page
//! rendering and server functions read it from there.

use http::HeaderMap;

use super::service::{ActiveSession, NewToken, Settings};

/// What the middleware learned about the request.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub session: Option<ActiveSession>,
    /// The client's address, for the audit trail.
    pub client: Option<String>,
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

/// The session token from the request's `Cookie` headers, if any.
pub fn token_from_headers(headers: &HeaderMap, settings: &Settings) -> Option<String> {
    let name = cookie_name(settings);
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
    cookie::Cookie::build((cookie_name(settings), token.expose().to_string()))
        .http_only(true)
        .secure(settings.secure_cookies)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .build()
        .to_string()
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(settings: &Settings) -> String {
    cookie::Cookie::build((cookie_name(settings), ""))
        .http_only(true)
        .secure(settings.secure_cookies)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}
