//! The browser entry point. The page is server-rendered; only its islands (the
//! `#[island]` components of `app`, linked in through the `app` crate) are hydrated.

// Links the islands' exported hydration functions into this wasm.
#[allow(unused_imports)]
use app::components::islands as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
