//! Integration tests: the real server on port 0 with a fresh SQLite database per test,
//! driven over HTTP like a browser would, with a clock the test moves by hand.

// Test helpers fail loudly: a failed set-up step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod backup;
mod caching;
mod common;
mod common_passwords;
mod compression;
mod defences;
mod fault;
mod instances;
mod journey;
mod load;
mod postgres;
mod practice;
mod retention;
mod routes;
mod self_service;
mod sign_on_flow;
mod single_sign_on;
mod staff;
mod upgrade;
