//! Server-only parts of `app` (feature `ssr`): the ports the server implements, the
//! journey's services, and how a request's session reaches the server functions.

pub mod common_passwords;
pub mod context;
pub mod csp;
pub mod ports;
pub mod provisioning;
pub mod service;
pub mod staff;
pub mod throttle;
