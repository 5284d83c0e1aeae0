//! Two middlewares in front of every request:
//! - [`load_session`] looks the session cookie up once and stores the result in the
//!   request's extensions, where pages and server functions find it;
//! - [`step_guard`] sends a page request to the step the server says the session is
//!   on, so a URL typed out of order never shows a later (or earlier) screen.

use std::net::SocketAddr;
use std::sync::Arc;

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
