//! The one mapping from an [`AppError`] to an HTTP answer: its status and `Retry-After`
//! come from the error itself ([`AppError::status`], [`AppError::retry_after_secs`]).
//! Server functions answer with the JSON Leptos encodes, and [`with_status`] gives that
//! answer its status ([`crate::guard::server_fn_status`]); the plain routes (the
//! class-list upload, the letters CSV) and the session middleware answer with
//! [`route_error`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::route::Route;
use proto::error::AppError;

/// Sets `error`'s status and `Retry-After` on a response's parts.
pub fn with_status(parts: &mut axum::http::response::Parts, error: &AppError) {
    if let Ok(status) = StatusCode::from_u16(error.status()) {
        parts.status = status;
    }
    if let Some(secs) = error.retry_after_secs() {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
}

/// The answer of a plain route (not a server function) that failed with `error`: the
/// sign-in page when the session has ended, the right step when it is another one's,
/// else the error's status with a sentence for the person reading it.
pub fn route_error(error: AppError) -> Response {
    let message = match &error {
        AppError::SessionEnded => return Redirect::to(&Route::timed_out()).into_response(),
        AppError::WrongStep { path } => return Redirect::to(path).into_response(),
        AppError::Forbidden => {
            "This page is only for school staff, and only for the students of their own school."
        }
        AppError::Unavailable => {
            "The portal is temporarily unavailable. Please try again in a moment."
        }
        AppError::Busy => "The portal is busy. Please try again in a moment.",
        AppError::Throttled { .. } => "Too many requests. Please wait a moment and try again.",
        AppError::Internal => "Something went wrong on the server. Please try again.",
        _ => "This request could not be completed.",
    };
    let (mut parts, body) = message.into_response().into_parts();
    with_status(&mut parts, &error);
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_503_with_retry_after_and_a_refusal_is_403() {
        let outage = route_error(AppError::Unavailable);
        assert_eq!(outage.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            outage.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(5u32))
        );
        let busy = route_error(AppError::Busy);
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        let refused = route_error(AppError::Forbidden);
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.headers().get(header::RETRY_AFTER).is_none());
        let internal = route_error(AppError::Internal);
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let ended = route_error(AppError::SessionEnded);
        assert_eq!(ended.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            ended.headers().get(header::LOCATION),
            Some(&HeaderValue::from_static("/?timeout=1"))
        );
    }
}
