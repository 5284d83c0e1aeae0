//! The portal's engine, without a web framework or a database driver: the ports a
//! store implements ([`ports`]), the services that enforce every rule of the journey
//! ([`service`]), staff scope ([`staff`]), class-list provisioning ([`provisioning`]),
//! the sign-in throttle ([`throttle`]), the common-password list
//! ([`common_passwords`]), single sign-on's registry and key life
//! ([`service::federation`]), and in-memory fakes of the ports for tests ([`memory`]).
//! The server and the Leptos crate call it; the SQL store implements its ports.

pub mod common_passwords;
/// Test fakes of the ports (an in-memory store, a fast hasher, a settable clock).
pub mod memory;
pub mod ports;
pub mod provisioning;
pub mod service;
pub mod staff;
pub mod throttle;
