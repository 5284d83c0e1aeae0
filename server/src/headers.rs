//! Security headers on every response. Pages carry their own nonce-based
//! Content-Security-Policy (set while rendering, see `app::ssr::csp`); everything else
//! gets a policy that allows nothing.

use app::ssr::csp::DEFAULT_POLICY;
use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

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
    router
}
