//! The browser entry point. The page is server-rendered; only its islands (the
//! `#[island]` components of `app`, linked in through the `app` crate) are hydrated.

// Names the `app` crate so it is linked into this wasm: its `#[island]`s export their
// hydration functions from there (a dependency nothing names is not linked).
#[allow(unused_imports)]
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
