//! The page-wide islands: what was typed kept over a refused form or a language
//! switch, the marker that says the page is live, the print button and the
//! self-refreshing part of a page.
//!
//! The portal is rendered on the server and hydrated as **islands**: only the parts
//! that react in the browser (this module, the idle countdown, the language switch, the
//! password fields with their live checklist, the wait overlay) are compiled to wasm
//! and hydrated. They take their texts in the page's language from `<html lang>`
//! ([`page_locale`](super::page_locale)): the i18n context and its cookie code stay
//! on the server. Every other component is HTML from the server, and every form is a
//! plain `<form>` posting to a server function, which answers with a redirect (to the
//! next step, or back with the error in the query). The journey is the same with and
//! without JavaScript; JavaScript adds feedback, not steps.

use leptos::prelude::*;

/// Sets `<body data-hydrated="true">` once every island of the page is live. It is
/// the page's last island and islands are hydrated in document order, so browser tests
/// (and styles) can tell a live page from server-rendered HTML.
#[island]
pub fn HydrationMark() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// What every form of the page gets in the browser:
///
/// - **sent once**: a second submit of a form already on its way is ignored (a
///   double-click on "Sign in" with a wrong password must not spend two of the five
///   attempts). The form is marked `data-sending` until the next page arrives, the
///   browser's back button shows this page again, or [`SENDING_FOR`] has passed (the
///   student may have stopped the page loading: the form must work again);
/// - **what was typed is kept** when the page goes to the server and comes straight
///   back to the same address: a form refused with an error (the server function sends
///   the browser back), or a language switch (the page is loaded again in the new
///   language). The student finds the fields as they left them instead of typing
///   everything again.
///
/// Kept: the text fields and choices of `<main>` (a login ID, the questions chosen, a
/// class name). Never kept: anything marked `data-secret` (passwords, security answers)
/// or of type password, hidden fields and files. The values wait in this tab's
/// `sessionStorage` only from the moment the page is left until the next page is
/// loaded, which removes them whichever page it is.
#[island]
pub fn Forms() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        put_back_typed_fields();
        let on_submit = window_event_listener(leptos::ev::submit, |ev| {
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            if ev.default_prevented() {
                return;
            }
            if form.has_attribute(SENDING) {
                ev.prevent_default();
                return;
            }
            let _ = form.set_attribute(SENDING, "");
            set_timeout(
                move || {
                    let _ = form.remove_attribute(SENDING);
                },
                SENDING_FOR,
            );
            keep_typed_fields();
        });
        // Shown again by the back button (from the browser's cache): sendable again.
        let on_show = window_event_listener(leptos::ev::pageshow, |_| {
            if let Ok(sending) = document().query_selector_all(&format!("form[{SENDING}]")) {
                for i in 0..sending.length() {
                    if let Some(form) = sending
                        .item(i)
                        .and_then(|node| node.dyn_into::<web_sys::Element>().ok())
                    {
                        let _ = form.remove_attribute(SENDING);
                    }
                }
            }
        });
        on_cleanup(move || {
            on_submit.remove();
            on_show.remove();
        });
    }
}

/// The attribute of a form on its way to the server ([`Forms`]).
#[cfg(feature = "hydrate")]
const SENDING: &str = "data-sending";

/// How long a sent form stays marked as on its way (and the step-7 overlay open) if no
/// page arrives: longer than any answer of a working server (an overloaded one answers
/// 503 at once), short enough for a student who stopped the page to try again.
pub const SENDING_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// `sessionStorage` key of the kept fields: `[path, [[id, value], …]]`.
#[cfg(feature = "hydrate")]
const KEPT_FIELDS: &str = "portal-kept-fields";

/// The fields of `<main>` whose values may be kept, by id.
#[cfg(feature = "hydrate")]
fn keepable_fields() -> Vec<(String, web_sys::Element)> {
    const FIELDS: &str = "main input:not([type=password]):not([type=hidden]):not([type=file])\
                          :not([type=submit]):not([type=button]):not([readonly]):not([data-secret]), \
                          main select:not([data-secret]), main textarea:not([data-secret])";
    let Ok(list) = document().query_selector_all(FIELDS) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|node| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(node).ok())
        .filter(|element| !element.id().is_empty())
        .map(|element| (element.id(), element))
        .collect()
}

#[cfg(feature = "hydrate")]
fn field_value(element: &web_sys::Element) -> Option<String> {
    use wasm_bindgen::JsCast as _;
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        Some(input.value())
    } else if let Some(select) = element.dyn_ref::<web_sys::HtmlSelectElement>() {
        Some(select.value())
    } else {
        element
            .dyn_ref::<web_sys::HtmlTextAreaElement>()
            .map(|area| area.value())
    }
}

/// Puts `value` in the field unless the student has typed or chosen something there
/// since the page arrived (the page may be live a moment after it is shown), or is in
/// it now: text put into a focused field would land in front of what they type next.
#[cfg(feature = "hydrate")]
fn put_back_field_value(element: &web_sys::Element, value: &str) {
    use wasm_bindgen::JsCast as _;
    if document().active_element().as_ref() == Some(element) {
        return;
    }
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        if input.value() == input.default_value() {
            input.set_value(value);
        }
    } else if let Some(select) = element.dyn_ref::<web_sys::HtmlSelectElement>() {
        let options = select.options();
        let untouched = (0..options.length())
            .filter_map(|i| options.item(i))
            .filter_map(|o| o.dyn_into::<web_sys::HtmlOptionElement>().ok())
            .all(|o| o.selected() == o.default_selected());
        if untouched {
            select.set_value(value);
        }
    } else if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        if area
            .default_value()
            .is_ok_and(|default| area.value() == default)
        {
            area.set_value(value);
        }
    }
}

/// Keeps the page's typed fields for the next page load ([`Forms`]).
#[cfg(feature = "hydrate")]
pub fn keep_typed_fields() {
    let Ok(Some(storage)) = window().session_storage() else {
        return;
    };
    let path = window().location().pathname().unwrap_or_default();
    let typed: Vec<(String, String)> = keepable_fields()
        .into_iter()
        .filter_map(|(id, element)| field_value(&element).map(|value| (id, value)))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    if typed.is_empty() {
        return;
    }
    if let Ok(json) = serde_json::to_string(&(path, typed)) {
        let _ = storage.set_item(KEPT_FIELDS, &json);
    }
}

/// Puts kept fields back if this page is the one they were typed on; removes them
/// either way.
#[cfg(feature = "hydrate")]
fn put_back_typed_fields() {
    let Ok(Some(storage)) = window().session_storage() else {
        return;
    };
    let Ok(Some(json)) = storage.get_item(KEPT_FIELDS) else {
        return;
    };
    let _ = storage.remove_item(KEPT_FIELDS);
    let Ok((path, typed)) = serde_json::from_str::<(String, Vec<(String, String)>)>(&json) else {
        return;
    };
    if window().location().pathname().ok().as_deref() != Some(path.as_str()) {
        return;
    }
    let fields = keepable_fields();
    for (id, value) in typed {
        if let Some((_, element)) = fields.iter().find(|(field, _)| *field == id) {
            put_back_field_value(element, &value);
        }
    }
}

/// "Print letters": the browser's print dialog (the letters' print styles do the rest).
#[island]
pub fn PrintButton(label: String) -> impl IntoView {
    view! {
        <button
            type="button"
            class="button"
            id="print"
            on:click=move |_| {
                #[cfg(feature = "hydrate")]
                let _ = window().print();
            }
        >
            {label}
        </button>
    }
}

/// Keeps the page's `[data-live="…"]` parts (rendered inside, by the server) up to
/// date: every `every_secs`, while the tab is visible, it loads the page again and
/// puts each part's new content in place, where it changed. A part that holds the
/// keyboard focus waits for the focus to leave (the student would lose their place).
/// A live region (`aria-live`) marked as a part keeps its element, so screen readers
/// announce the change. One request at a time. Without JavaScript the page has a
/// refresh link. If the page now answers with another address (the session ended), it
/// goes there.
#[island]
pub fn LiveRefresh(every_secs: u64, children: Children) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            || {
                let hidden = document().hidden();
                if !hidden && !REFRESHING.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    leptos::task::spawn_local(async {
                        refresh_live_parts().await;
                        REFRESHING.store(false, std::sync::atomic::Ordering::Relaxed);
                    });
                }
            },
            std::time::Duration::from_secs(every_secs),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = every_secs;
    children()
}

/// A refresh of [`LiveRefresh`] is on its way.
#[cfg(feature = "hydrate")]
static REFRESHING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// One refresh of [`LiveRefresh`]: fetch this page, put its `[data-live]` parts in place.
#[cfg(feature = "hydrate")]
async fn refresh_live_parts() {
    use wasm_bindgen::JsCast as _;
    use wasm_bindgen_futures::JsFuture;

    let window = window();
    let Ok(here) = window.location().href() else {
        return;
    };
    // Marked as a background request: the server does not count it as activity, so
    // a class view left open still times out like any other page.
    let init = web_sys::RequestInit::new();
    if let Ok(headers) = web_sys::Headers::new() {
        let _ = headers.set("x-portal-background", "1");
        init.set_headers(&headers);
    }
    let Ok(response) = JsFuture::from(window.fetch_with_str_and_init(&here, &init)).await else {
        return;
    };
    let Ok(response) = response.dyn_into::<web_sys::Response>() else {
        return;
    };
    if response.redirected() && response.url() != here {
        let _ = window.location().set_href(&response.url());
        return;
    }
    if !response.ok() {
        return;
    }
    let Ok(text) = response.text() else {
        return;
    };
    let Some(html) = JsFuture::from(text).await.ok().and_then(|t| t.as_string()) else {
        return;
    };
    let Ok(parser) = web_sys::DomParser::new() else {
        return;
    };
    let Ok(fresh) = parser.parse_from_string(&html, web_sys::SupportedType::TextHtml) else {
        return;
    };
    let Ok(parts) = document().query_selector_all("[data-live]") else {
        return;
    };
    let focused = document().active_element();
    for i in 0..parts.length() {
        let Some(old) = parts
            .item(i)
            .and_then(|node| node.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        let Some(name) = old.get_attribute("data-live") else {
            continue;
        };
        let Ok(Some(new)) = fresh.query_selector(&format!("[data-live=\"{name}\"]")) else {
            continue;
        };
        let holds_focus = focused
            .as_ref()
            .is_some_and(|f| old.contains(Some(f.as_ref())));
        let content = new.inner_html();
        if !holds_focus && old.inner_html() != content {
            old.set_inner_html(&content);
        }
    }
}
