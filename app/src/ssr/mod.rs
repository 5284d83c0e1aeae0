//! Server-only parts of `app` (feature `ssr`): how a request's session and language
//! reach the pages and server functions, and the page's content policy. The engine
//! they call is the crate `portal_core` (`server/core`).

pub mod context;
pub mod csp;
pub mod sign_on;
