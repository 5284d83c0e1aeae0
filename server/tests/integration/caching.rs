//! No caching of pages with a session or a secret (issue 14): every page of the app —
//! walked from the app's own route list, so a page added later is checked too — and
//! every server function answers `Cache-Control: no-store`, redirects included, for a
//! browser signed out, in a forgot-password reset, signed in as a student and as staff.
//! Static files keep their caching.

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use sqlx::Row;

use crate::common::*;

const TEACHER: &str = "tan_mei_hua@schools.gov.sg";

/// What one GET or POST answered, without following a redirect.
struct Loaded {
    status: StatusCode,
    cache_control: Option<String>,
    content_type: String,
    location: Option<String>,
    body: String,
}

impl Loaded {
    fn no_store(&self) -> bool {
        self.cache_control
            .as_deref()
            .is_some_and(|value| value.contains("no-store"))
    }

    /// What went wrong with this answer, if anything: it must be an HTML page or a
    /// redirect, and never cached.
    fn problem(&self) -> Option<String> {
        let html_or_redirect =
            self.status.is_redirection() || self.content_type.starts_with("text/html");
        (!html_or_redirect || !self.no_store()).then(|| {
            format!(
                "{} {} (Location {:?}), Cache-Control {:?}",
                self.status, self.content_type, self.location, self.cache_control
            )
        })
    }
}

async fn loaded(response: reqwest::Response) -> Loaded {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Loaded {
        status: response.status(),
        cache_control: header(CACHE_CONTROL),
        content_type: header(CONTENT_TYPE).unwrap_or_default(),
        location: header(LOCATION),
        body: response.text().await.unwrap_or_default(),
    }
}

/// Loads `path` like a browser navigation does, on `client`'s cookies.
async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> Loaded {
    let response = client
        .get(format!("{}{path}", app.base))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    loaded(response).await
}

/// Calls the `journey` server function as the hydrated app does (fetch, JSON).
async fn post_journey(app: &TestApp, client: &reqwest::Client) -> Loaded {
    let response = client
        .post(format!("{}/api/journey", app.base))
        .header(ACCEPT, "application/json")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("journey");
    loaded(response).await
}

/// Takes the teacher through the first-login journey on `client`.
async fn onboard_teacher(app: &TestApp, client: &reqwest::Client) {
    let steps: [(&str, Vec<(&str, &str)>); 4] = [
        ("sign_in", vec![("username", TEACHER), ("password", TEMP)]),
        (
            "setup_questions",
            vec![
                ("question1", "food"),
                ("answer1", "Laksa"),
                ("question2", "animal"),
                ("answer2", "Otter"),
                ("question3", "colour"),
                ("answer3", "Maroon"),
            ],
        ),
        ("confirm_questions", vec![]),
        (
            "change_password",
            vec![
                ("new_password", "Teach-Well-2027!"),
                ("confirm_password", "Teach-Well-2027!"),
            ],
        ),
    ];
    for (endpoint, form) in steps {
        let answer = app.call_with(client, endpoint, &form).await;
        assert_eq!(answer.status, StatusCode::OK, "{endpoint}: {}", answer.body);
    }
}

/// A real letters batch (with a temporary password in clear), an import preview and a
/// student, made by the teacher on `client`: the query strings the staff pages need.
struct StaffSamples {
    letters: String,
    batch: String,
    student: i64,
    temporary_password: String,
}

async fn staff_samples(app: &TestApp, client: &reqwest::Client) -> StaffSamples {
    let created = app
        .call_with(
            client,
            "create_student",
            &[("full_name", "Siti binte Ali"), ("class", "P5 Kindness")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let letters = created
        .location
        .expect("location")
        .trim_start_matches("/staff/letters?id=")
        .to_string();
    let batch = app
        .call_with(client, "letters", &[("id", &letters)])
        .await
        .json();
    let temporary_password = batch["letters"][0]["temporary_password"]
        .as_str()
        .expect("a temporary password")
        .to_string();

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"full_name,class\nBen Lim,P5 Courage\n".to_vec())
            .file_name("class.csv"),
    );
    let uploaded = client
        .post(format!("{}/staff/upload", app.base))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    let batch = uploaded
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches("/staff/import?batch=")
        .to_string();

    let student = sqlx::query("SELECT id FROM accounts WHERE login_id = ?")
        .bind("chloe_ng@students.edu.sg")
        .fetch_one(&app.pool().await)
        .await
        .expect("student")
        .get("id");
    StaffSamples {
        letters,
        batch,
        student,
        temporary_password,
    }
}

/// The query a page needs to show its real content (a record of the school), if any.
/// A page not named here is loaded without one: whatever it answers must not be cached.
fn query_for(path: &str, samples: &StaffSamples) -> String {
    match path {
        "/staff/letters" => format!("?id={}", samples.letters),
        "/staff/import" => format!("?batch={}", samples.batch),
        "/staff/student" => format!("?id={}", samples.student),
        "/staff/class" => "?name=P5%20Kindness".to_string(),
        _ => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_or_server_function_answer_is_cached_static_files_are() {
    let app = spawn_app().await;
    let paths = server::page_paths();
    // The walk below covers the app's own list: it must be the real one.
    for known in [
        "/",
        "/portal",
        "/staff/letters",
        "/forgot-password/questions",
    ] {
        assert!(paths.iter().any(|p| p == known), "{known} in {paths:?}");
    }
    for path in &paths {
        assert!(
            !path.contains([':', '*']),
            "{path} has a parameter: give it a sample value in this test"
        );
    }

    // Four browsers: signed out, in a forgot-password reset, a student who finished
    // onboarding, staff who did.
    let signed_out = new_client();
    app.complete_onboarding().await;
    let student = app.client.clone();
    let resetting = new_client();
    let started = app
        .call_with(&resetting, "start_reset", &[("username", ALLEN)])
        .await;
    assert_eq!(
        started.location.as_deref(),
        Some("/forgot-password/questions"),
        "{}",
        started.body
    );
    let staff = new_client();
    onboard_teacher(&app, &staff).await;
    let samples = staff_samples(&app, &staff).await;

    let browsers = [
        ("signed out", &signed_out),
        ("resetting", &resetting),
        ("student", &student),
        ("staff", &staff),
    ];
    let mut cached = Vec::new();
    for (who, client) in browsers {
        for path in &paths {
            let target = format!("{path}{}", query_for(path, &samples));
            let answer = get(&app, client, &target).await;
            if let Some(problem) = answer.problem() {
                cached.push(format!("{who} GET {target}: {problem}"));
            }
        }
        // A server function, called as the hydrated app does.
        let answer = post_journey(&app, client).await;
        if !answer.no_store() {
            cached.push(format!(
                "{who} POST /api/journey: {} Cache-Control {:?}",
                answer.status, answer.cache_control
            ));
        }
    }

    // The pages the walk must have seen with their secret on them, not an error page.
    let letters = get(
        &app,
        &staff,
        &format!("/staff/letters?id={}", samples.letters),
    )
    .await;
    assert_eq!(letters.status, StatusCode::OK);
    assert!(
        letters.body.contains(&samples.temporary_password),
        "the letters page shows the temporary password"
    );
    let refused = get(
        &app,
        &student,
        &format!("/staff/letters?id={}", samples.letters),
    )
    .await;
    assert!(!refused.body.contains(&samples.temporary_password));
    let questions = get(&app, &resetting, "/forgot-password/questions").await;
    assert_eq!(questions.status, StatusCode::OK, "{:?}", questions.location);

    // Routes outside the app's page list: the report of a letters batch (passwords in
    // clear), the language switch (a redirect), a missing file under /pkg/ (the
    // not-found page).
    for (who, client, path) in [
        (
            "staff",
            &staff,
            format!("/staff/letters.csv?id={}", samples.letters),
        ),
        ("signed out", &signed_out, "/set-lang?lang=ms&next=/".into()),
        ("student", &student, "/pkg/no-such-file.css".into()),
    ] {
        let answer = get(&app, client, &path).await;
        if !answer.no_store() {
            cached.push(format!(
                "{who} GET {path}: {} Cache-Control {:?}",
                answer.status, answer.cache_control
            ));
        }
    }
    assert!(
        cached.is_empty(),
        "answers without Cache-Control: no-store:\n{}",
        cached.join("\n")
    );

    // A static file keeps its caching. The test server has no built site, so this one is
    // served from a site root made here, by the same router.
    let site = tempfile::tempdir().expect("site root");
    std::fs::create_dir(site.path().join("pkg")).expect("pkg");
    std::fs::write(
        site.path()
            .join("pkg")
            .join(format!("{}.css", app::OUTPUT_NAME)),
        "body { margin: 0 }\n",
    )
    .expect("css");
    let mut options = server::leptos_options(None);
    options.site_root = site.path().display().to_string().into();
    let router = server::router(app.portal.clone(), options);
    let request = axum::http::Request::get(format!("/pkg/{}.css", app::OUTPUT_NAME))
        .body(axum::body::Body::empty())
        .expect("request");
    let css = tower::ServiceExt::oneshot(router, request)
        .await
        .expect("css response");
    assert_eq!(css.status(), StatusCode::OK);
    let cache_control = css.headers().get(CACHE_CONTROL);
    assert!(
        cache_control.is_none_or(|v| !v.to_str().unwrap_or_default().contains("no-store")),
        "the stylesheet is cacheable: {cache_control:?}"
    );
}
