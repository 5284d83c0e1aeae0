//! The page table (`app::App`, whose `path!` macros need literal paths) and the
//! `Route` enum every link and redirect takes its address from name the same pages.

use std::collections::BTreeSet;

use domain::route::Route;

#[test]
fn every_page_the_router_serves_is_a_route_and_every_route_is_served() {
    let served: BTreeSet<String> = server::page_paths().into_iter().collect();
    let named: BTreeSet<String> = Route::ALL
        .iter()
        .map(|route| route.path().to_string())
        .collect();
    assert_eq!(served, named);
}
