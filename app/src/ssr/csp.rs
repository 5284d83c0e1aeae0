//! The Content-Security-Policy of the portal's pages. Scripts run only from the
//! portal's own origin or carry the page's nonce (the inline hydration script and the
//! serialised resources); `'wasm-unsafe-eval'` lets the browser compile the app's wasm
//! and nothing else. No inline styles, no framing, forms post only to the portal.

/// The policy for an HTML page rendered with `nonce`. `app_origin`: an app waiting for
/// this browser's sign-in (single sign-on) — a form posted here may end, through the
/// portal's redirects, at that app's redirect URI, and browsers check `form-action`
/// along the redirects too.
pub fn page_policy(nonce: &str, app_origin: Option<&str>) -> String {
    let form_action = match app_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_string(),
    };
    format!(
        "default-src 'none'; \
         script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; \
         img-src 'self' data:; \
         font-src 'self'; \
         connect-src 'self'; \
         form-action {form_action}; \
         base-uri 'none'; \
         frame-ancestors 'none'"
    )
}

/// The policy for everything else (server-function answers, files, plain errors).
pub const DEFAULT_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Sets the page policy on the response being rendered, with the nonce Leptos gave
/// this render (its hydration scripts carry the same nonce).
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let app_origin =
        crate::api::server::read_request_context(|ctx| ctx.returning_origin.clone()).flatten();
    if let Ok(value) = http::HeaderValue::from_str(&page_policy(&nonce, app_origin.as_deref())) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_only_the_nonce_and_own_origin() {
        let policy = page_policy("abc123", None);
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(!policy.contains("'unsafe-eval'"));
        assert!(policy.contains("form-action 'self';"));
        let waiting = page_policy("abc123", Some("https://sls.school.example"));
        assert!(waiting.contains("form-action 'self' https://sls.school.example;"));
    }
}
