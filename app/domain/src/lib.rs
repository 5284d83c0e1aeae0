//! Pure rules of the portal: no Leptos, database or web-server types in here, so the
//! same code runs in the browser (wasm) and on the server and is tested on its own.

pub mod answers;
pub mod audit;
pub mod journey;
pub mod login_id;
pub mod password;
pub mod practice;
pub mod provisioning;
pub mod route;
pub mod secret;
