//! Two middlewares in front of every request:
//! - [`load_session`] looks the session cookie up once and stores the result in the
//!   request's extensions, where pages and server functions find it;
//! - [`step_guard`] sends a page request to the step the server says the session is
//!   on, so a URL typed out of order never shows a later (or earlier) screen.

use std::net::SocketAddr;
use std::sync::Arc;

use app::api::error::AppError;
use app::domain::journey::{redirect_for, JourneyState, Step};
use app::ssr::context::{token_from_headers, RequestContext};
use app::ssr::service::Portal;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn load_session(
    State(portal): State<Arc<Portal>>,
    mut request: Request,
    next: Next,
) -> Response {
    // Static files need no session.
    if request.uri().path().starts_with("/pkg/") {
        return next.run(request).await;
    }
    let token = token_from_headers(request.headers(), portal.settings());
    let session = match portal.session(token.as_deref()).await {
        Ok(session) => session,
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                "The portal is temporarily unavailable. Please try again in a moment.",
            )
                .into_response()
        }
    };
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    request
        .extensions_mut()
        .insert(RequestContext { session, client });
    next.run(request).await
}

pub async fn step_guard(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    let Some(step) = Step::from_path(request.uri().path()) else {
        return next.run(request).await;
    };
    let state = request
        .extensions()
        .get::<RequestContext>()
        .and_then(|ctx| ctx.session.as_ref())
        .map(|session| session.journey())
        .unwrap_or(JourneyState::default());
    match redirect_for(state, step) {
        Some(target) => see_other(target.path()),
        None => {
            let mut response = next.run(request).await;
            // Pages show personal data and change with the step: never cache them.
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            response
        }
    }
}

fn see_other(path: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, path)]).into_response()
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
        if let Ok(status) = StatusCode::from_u16(error.status()) {
            parts.status = status;
        }
        if matches!(error, AppError::Busy) {
            parts
                .headers
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
