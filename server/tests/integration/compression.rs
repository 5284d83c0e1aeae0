//! Pages, server functions and static files go out compressed when the browser accepts
//! it, except every answer to a staff session or under `/staff`: those can carry
//! temporary passwords next to input an attacker chooses (BREACH).

use reqwest::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING};
use reqwest::StatusCode;

use crate::common::*;

/// The `Content-Encoding` of `path` fetched by `client` accepting brotli and gzip, and
/// the number of bytes sent.
async fn fetched(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
) -> (StatusCode, Option<String>, usize) {
    let response = client
        .get(format!("{}{path}", app.base))
        .header(ACCEPT, "text/html")
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .expect(path);
    let status = response.status();
    let encoding = response
        .headers()
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = response.bytes().await.expect("body").len();
    (status, encoding, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_compressed_but_never_what_staff_see() {
    let app = spawn_app().await;
    // Signed out: the sign-in page, compressed, to less than half.
    let (status, encoding, compressed) = fetched(&app, &new_client(), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(encoding.as_deref(), Some("br"));
    let plain = new_client()
        .get(format!("{}/", app.base))
        .send()
        .await
        .expect("page");
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain = plain.bytes().await.expect("body").len();
    assert!(compressed * 2 < plain, "{compressed} of {plain} bytes");
    // Only gzip accepted: gzip.
    let gzip = new_client()
        .get(format!("{}/", app.base))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .expect("page");
    assert_eq!(
        gzip.headers()
            .get(CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );

    // A student on the portal and a server function's answer: compressed.
    app.complete_onboarding().await;
    let (status, encoding, _) = fetched(&app, &app.client, "/portal").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(encoding.as_deref(), Some("br"));

    // Staff: nothing is compressed, pages or server functions, whatever the browser asks.
    let staff = new_client();
    super::staff::onboard(&app, &staff, server::demo::DEMO_STAFF.1).await;
    for path in ["/staff", "/staff/class?name=P5%20Kindness", "/portal"] {
        let (status, encoding, _) = fetched(&app, &staff, path).await;
        assert!(
            status.is_success() || status.is_redirection(),
            "{path}: {status}"
        );
        assert_eq!(encoding, None, "{path}");
    }
    // A reset, and the letter with the new temporary password it leads to.
    let id: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE login_id = ?")
        .bind("lim_wei_ling@students.edu.sg")
        .fetch_one(&app.pool().await)
        .await
        .expect("id");
    let reset = staff
        .post(format!("{}/api/staff_reset", app.base))
        .header(ACCEPT, "application/json")
        .header(ACCEPT_ENCODING, "br, gzip")
        .form(&[("id", id.to_string())])
        .send()
        .await
        .expect("reset");
    assert!(reset.status().is_success() || reset.status().is_redirection());
    assert!(reset.headers().get(CONTENT_ENCODING).is_none());
    let letter = reset
        .headers()
        .get(reqwest::header::LOCATION)
        .or_else(|| reset.headers().get("serverfnredirect"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .expect("the reset leads to its letter");
    let (status, encoding, _) = fetched(&app, &staff, &letter).await;
    assert_eq!(status, StatusCode::OK, "{letter}");
    assert_eq!(encoding, None, "{letter}");
    // Signed out under /staff: not compressed either.
    let (_, encoding, _) = fetched(&app, &new_client(), "/staff/letters").await;
    assert_eq!(encoding, None);
}
