//! What the portal sends is compressed (brotli or gzip, as the browser asks), except what
//! a BREACH attack could read.
//!
//! BREACH recovers a secret from the sizes of compressed responses when the same body
//! also reflects input an attacker chooses: each guess that matches the secret
//! compresses a little better. The portal's secrets in a response body are the staff
//! tools' temporary passwords (the parents' letters, the letters CSV, a reset's or a new
//! account's password); the student pages carry none: requests are checked by origin,
//! not by a token in the page, and a password or an answer is never written back into a
//! page. So every response to a staff or HQ session, and every path under `/staff`, goes
//! out uncompressed; everything else is compressed. The rule follows the session, not a
//! list of routes, so a new staff page or server function cannot forget it.

use axum::http::{Extensions, HeaderMap, StatusCode, Version};
use axum::Router;
use tower_http::compression::predicate::{DefaultPredicate, Predicate as _};
use tower_http::compression::CompressionLayer;

/// Marks a response that must go out uncompressed (see the module's note).
#[derive(Clone, Copy, Debug)]
pub struct Uncompressed;

/// Wraps `router` in the compression layer. Must be outside the middleware that marks
/// responses [`Uncompressed`] ([`crate::guard::load_session`]).
pub fn compress(router: Router) -> Router {
    let unmarked = |_: StatusCode, _: Version, _: &HeaderMap, extensions: &Extensions| {
        extensions.get::<Uncompressed>().is_none()
    };
    router.layer(
        CompressionLayer::new()
            .br(true)
            .gzip(true)
            .quality(tower_http::CompressionLevel::Default)
            .compress_when(DefaultPredicate::new().and(unmarked)),
    )
}
