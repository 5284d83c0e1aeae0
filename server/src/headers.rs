//! Security headers on every response. Pages carry their own nonce-based
//! Content-Security-Policy (set while rendering, see `app::ssr::csp`); everything else
//! gets a policy that allows nothing. Nothing but the static files is ever cached
//! ([`no_store_unless_static`]).

use app::ssr::csp::DEFAULT_POLICY;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// Where the build's static files (CSS, JS, wasm) are served from.
const STATIC_PREFIX: &str = "/pkg/";

/// Adds the headers to `router`. `https`: the portal is served over TLS, so browsers
/// are told to use HTTPS only from now on (HSTS).
pub fn add_security_headers(router: Router, https: bool) -> Router {
    let fixed: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, DEFAULT_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Same-origin requests keep their Referer (the no-JavaScript forms need it to
        // come back to the page with the error); other sites never see a portal URL.
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ];
    let mut router = router;
    for (name, value) in fixed {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    if https {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    router.layer(axum::middleware::from_fn(no_store_unless_static))
}

/// `Cache-Control: no-store` on every response but a static file: pages show a
/// session's data (a class's temporary passwords, a reset's questions) and change with
/// the step, and Back after signing out on a shared computer must not show them again.
/// Deny by default, so a new page, server function or route cannot forget it; only a
/// file under `/pkg/` keeps the browser's caching (an HTML answer there, the not-found
/// page, does not). A response that names its own `Cache-Control` keeps it.
pub async fn no_store_unless_static(request: Request, next: Next) -> Response {
    let static_path = request.uri().path().starts_with(STATIC_PREFIX);
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !static_path || html {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}
