//! Two middlewares in front of every request:
//! - [`load_session`] looks the session cookie up once and stores the result in the
//!   request's extensions, where pages and server functions find it;
//! - [`step_guard`] sends a page request to the step the server says the session is
//!   on, so a URL typed out of order never shows a later (or earlier) screen.

use std::net::SocketAddr;
use std::sync::Arc;

use app::ssr::context::{clear_session_cookie, token_from_headers, RequestContext};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::journey::{redirect_for, JourneyState, Step};
use domain::route::Route;
use portal_core::service::Portal;
use proto::error::AppError;

/// Sent by the page's own background requests (the class view's refresh).
pub const BACKGROUND_HEADER: &str = "x-portal-background";

pub async fn load_session(
    State(portal): State<Arc<Portal>>,
    mut request: Request,
    next: Next,
) -> Response {
    // Static files need no session.
    if request.uri().path().starts_with("/pkg/") {
        return next.run(request).await;
    }
    let client = client_address(&request, portal.settings().trust_forwarded_for);
    let token = token_from_headers(request.headers(), portal.settings()).filter(|t| !t.is_empty());
    // The class view's own refreshes say so: they must not keep a session alive.
    let background = request.headers().contains_key(BACKGROUND_HEADER);
    let session = match portal
        .session(token.as_deref(), client.as_deref(), background)
        .await
    {
        Ok(session) => session,
        Err(error) => return crate::errors::route_error(error),
    };
    // Staff answers may carry temporary passwords: never compressed (BREACH).
    let uncompressed = request.uri().path().starts_with(Route::Staff.path())
        || session
            .as_ref()
            .is_some_and(|s| s.account.role != domain::provisioning::Role::Student);
    // An app's sign-in request waiting for this browser (single sign-on): its name,
    // for the journey's pages.
    let (returning_to, returning_origin) =
        match crate::oidc::pending_authorization(request.headers()) {
            Some(query) if Step::from_path(request.uri().path()).is_some() => {
                crate::oidc::pending_app(&portal, &query).await
            }
            _ => (None, None),
        };
    request.extensions_mut().insert(RequestContext {
        ended: token.is_some() && session.is_none(),
        session,
        client,
        returning_to,
        returning_origin,
    });
    let mut response = next.run(request).await;
    if uncompressed {
        response
            .extensions_mut()
            .insert(crate::compression::Uncompressed);
    }
    response
}

/// The client's IP address: the TCP peer, or — only when the operator says a proxy in
/// front sets it — the last entry of `X-Forwarded-For` (the one that proxy added).
fn client_address(request: &Request, trust_forwarded_for: bool) -> Option<String> {
    if trust_forwarded_for {
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .next_back()
            .and_then(|last| last.parse::<std::net::IpAddr>().ok());
        if let Some(ip) = forwarded {
            return Some(ip.to_string());
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// Refuses cross-site requests that could change state (CSRF), for every method but
/// GET, HEAD and OPTIONS — server functions, form posts and anything added later.
/// Browsers say where a request comes from in `Sec-Fetch-Site` (all current ones) or
/// `Origin`; a request that carries neither is not from a browser page and cannot ride
/// on a student's cookie. (The same rule as Go's `http.CrossOriginProtection`.)
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    // An app's authorization request may come as a form post from the app's own page
    // (OpenID Connect Core 3.1.2.1); it changes nothing a GET would not, and the
    // session cookie (`SameSite=Lax`) does not ride on it.
    if request.uri().path() == domain::route::Endpoint::Authorize.path() {
        return next.run(request).await;
    }
    if is_cross_site(request.headers()) {
        tracing::warn!(path = %request.uri().path(), "cross-site request refused");
        return (
            StatusCode::FORBIDDEN,
            "Cross-site request refused. Open the portal's own page and try again.",
        )
            .into_response();
    }
    next.run(request).await
}

fn is_cross_site(headers: &axum::http::HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none": the user typed or bookmarked it; "same-origin": our own page.
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        // "null" or a malformed Origin: refuse.
        _ => true,
    }
}

pub async fn step_guard(
    State(portal): State<Arc<Portal>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    let Some(step) = Step::from_path(request.uri().path()) else {
        return next.run(request).await;
    };
    let context = request.extensions().get::<RequestContext>();
    let state = context
        .and_then(|ctx| ctx.session.as_ref())
        .map(|session| session.journey())
        .unwrap_or(JourneyState::default());
    // The cookie's session is over: the sign-in page says "Your session has timed out"
    // (once: the dead cookie is removed).
    if context.is_some_and(|ctx| ctx.ended) {
        let mut response = crate::oidc::see_other(&Route::timed_out());
        if let Ok(value) = header::HeaderValue::from_str(&clear_session_cookie(portal.settings())) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        return response;
    }
    match redirect_for(state, step) {
        Some(target) => crate::oidc::see_other(target.path()),
        // The journey is done and an app is waiting for it (single sign-on): back to
        // the app's authorization request, which now gives it a code.
        None if step == Step::Portal && state.signed_in => {
            match crate::oidc::pending_authorization(request.headers()) {
                Some(query) => {
                    let mut response = crate::oidc::see_other(&format!(
                        "{}?{query}",
                        domain::route::Endpoint::Authorize.path()
                    ));
                    if let Ok(value) = header::HeaderValue::from_str(
                        &crate::oidc::clear_return_cookie(portal.settings()),
                    ) {
                        response.headers_mut().append(header::SET_COOKIE, value);
                    }
                    response
                }
                None => next.run(request).await,
            }
        }
        // Never cached, like every page: `headers::no_store_unless_static`.
        None => next.run(request).await,
    }
}

/// Gives a failed server function the HTTP status its error stands for (401, 409,
/// 422, 400, 503…) instead of the framework's blanket 500, in one place for every
/// server function, including the framework's own errors for malformed payloads.
/// Plain form posts are untouched: they get the redirect that carries the error back.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        crate::errors::with_status(&mut parts, &error);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
