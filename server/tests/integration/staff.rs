//! Provisioning (issue 5, first part): class-list import with its preview and report,
//! login IDs by the naming rules, temporary passwords (random, expiring), staff reset,
//! and the command line for HQ batch jobs.

use reqwest::StatusCode;
use sqlx::Row;

use crate::common::*;

fn run(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env_remove("PORTAL_GENERIC_PASSWORD")
        .output()
        .expect("run server")
}

async fn count_accounts(app: &TestApp) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM accounts")
        .fetch_one(&app.pool().await)
        .await
        .expect("count")
        .get("n")
}

/// The report's rows, by column name.
fn report_rows(csv_text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = csv_text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut reader = csv_reader(csv_text);
    let _ = &mut lines;
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::Reader::from_reader(text.as_bytes())
}

const CLASS_LIST: &str = "full_name,class\n\
    Allen Tan,P5 Kindness\n\
    Allen Tan,P5 Courage\n\
    Nurul Huda binte Ahmad,P5 Courage\n\
    Nurul Huda binte Ahmad,P5 Courage\n\
    =cmd|' /C calc'!A0,P5 Courage\n\
    \"Lee, Jun Wei\",P5 Courage\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_imports_a_class_list_and_reports_it_as_csv() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("class.csv");
    std::fs::write(&file, CLASS_LIST).expect("write");
    let path = file.to_str().expect("path");
    let before = count_accounts(&app).await;

    // The dry run shows the plan and writes nothing.
    let dry = run(
        &app,
        &["accounts", "import", path, "--school", "DEMO", "--dry-run"],
    );
    assert!(dry.status.success(), "{dry:?}");
    assert_eq!(count_accounts(&app).await, before);

    // A row with a formula in it: the whole file is refused, with the report.
    let refused = run(&app, &["accounts", "import", path, "--school", "DEMO"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("1 row(s) have errors (see the report); nothing was imported"));
    let stdout = String::from_utf8_lossy(&refused.stdout).to_string();
    assert!(stdout.starts_with("login_id,full_name,class,temporary_password,status\n"));
    let rows = report_rows(&stdout);
    let status: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["login_id"].as_str(), r["status"].as_str()))
        .collect();
    let not_imported = "not imported: fix the rows with errors first";
    let formula = "error: looks like a spreadsheet formula (starts with = + - or @)";
    assert_eq!(
        status,
        [
            ("allen_tan@students.edu.sg", "exists"),
            ("allen_tan1@students.edu.sg", not_imported),
            ("nurul_huda_ahmad@students.edu.sg", not_imported),
            ("", "duplicate of line 4"),
            ("", formula),
            ("lee_jun_wei@students.edu.sg", not_imported),
        ]
    );
    // The formula came back neutralised; no password was made, nothing written.
    assert!(rows[4]["full_name"].starts_with("'="), "{stdout}");
    assert!(rows.iter().all(|r| r["temporary_password"].is_empty()));
    assert_eq!(count_accounts(&app).await, before);

    // Without that row it goes through.
    let fixed: String = CLASS_LIST
        .lines()
        .filter(|l| !l.starts_with('='))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, fixed).expect("write");
    let out = run(&app, &["accounts", "import", path, "--school", "DEMO"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let rows = report_rows(&stdout);
    let status: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["login_id"].as_str(), r["status"].as_str()))
        .collect();
    assert_eq!(
        status,
        [
            ("allen_tan@students.edu.sg", "exists"),
            ("allen_tan1@students.edu.sg", "created"),
            ("nurul_huda_ahmad@students.edu.sg", "created"),
            ("", "duplicate of line 4"),
            ("lee_jun_wei@students.edu.sg", "created"),
        ]
    );
    for row in rows.iter().filter(|r| r["status"] == "created") {
        let password = &row["temporary_password"];
        assert_eq!(password.len(), 14, "{password}");
        assert!(!password.contains(['i', 'l', '1', 'o', '0']), "{password}");
    }
    assert_eq!(count_accounts(&app).await, before + 3);
    // Stored only as argon2id hashes.
    let hashes: Vec<String> = sqlx::query("SELECT password_hash FROM accounts")
        .fetch_all(&app.pool().await)
        .await
        .expect("hashes")
        .iter()
        .map(|r| r.get("password_hash"))
        .collect();
    for row in &rows {
        if !row["temporary_password"].is_empty() {
            assert!(!hashes
                .iter()
                .any(|h| h.contains(&row["temporary_password"])));
        }
    }

    // Importing the same file again creates nobody.
    let again = run(&app, &["accounts", "import", path, "--school", "DEMO"]);
    let rows = report_rows(&String::from_utf8_lossy(&again.stdout));
    assert!(rows
        .iter()
        .all(|r| r["status"] != "created" && r["temporary_password"].is_empty()));
    assert_eq!(count_accounts(&app).await, before + 3);

    // The audit trail names the command line as the actor.
    let actor: String =
        sqlx::query("SELECT actor FROM audit_events WHERE kind = 'account_created' LIMIT 1")
            .fetch_one(&app.pool().await)
            .await
            .expect("event")
            .get("actor");
    assert_eq!(actor, "cli");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_files_and_unknown_schools_write_nothing_and_say_why() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let before = count_accounts(&app).await;
    let cases: [(&[u8], &str); 4] = [
        (
            b"full_name,class\nAllen Lim,5B\nChlo\xe9 Ng,5B\n",
            "not UTF-8 text",
        ),
        (b"name,class\nAllen Lim,5B\n", "no \"full_name\" column"),
        (b"full_name,class\n\"Allen Lim,5B\n", "nothing was imported"),
        (b"", "empty"),
    ];
    for (i, (bytes, says)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{i}.csv"));
        std::fs::write(&file, bytes).expect("write");
        let out = run(
            &app,
            &[
                "accounts",
                "import",
                file.to_str().expect("path"),
                "--school",
                "DEMO",
            ],
        );
        assert!(!out.status.success(), "case {i}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "case {i}: {stderr}");
        // A file that cannot be read prints no report; a row that cannot (case 2: an
        // unclosed quote swallows the rest of the file) prints one. Either way: nothing.
        assert_eq!(out.stdout.is_empty(), i != 2, "case {i}");
    }
    let mut big = String::from("full_name,class\n");
    for i in 0..100_000 {
        big.push_str(&format!("Student Number {i},5B\n"));
    }
    let file = dir.path().join("big.csv");
    std::fs::write(&file, big).expect("write");
    let out = run(
        &app,
        &[
            "accounts",
            "import",
            file.to_str().expect("path"),
            "--school",
            "DEMO",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("100000 rows; at most 2000"));

    let file = dir.path().join("ok.csv");
    std::fs::write(&file, "full_name,class\nAllen Lim,5B\n").expect("write");
    let out = run(
        &app,
        &[
            "accounts",
            "import",
            file.to_str().expect("path"),
            "--school",
            "NOPE",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no school has the code \"NOPE\""));
    assert_eq!(count_accounts(&app).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_student_signs_in_with_the_reported_password_until_it_expires() {
    let app = spawn_app().await;
    let rows = app_server_rows("Ethan Koh,P5 Courage\nMaya Tan,P5 Courage\n");
    let report = app
        .portal
        .import_class_list("DEMO", &rows, None, "test")
        .await
        .expect("import")
        .expect("no row errors");
    let ethan = &report[0];
    let password = ethan
        .temporary_password
        .as_ref()
        .expect("password")
        .expose()
        .to_string();
    assert_eq!(
        format!("{:?}", ethan.outcome),
        "Create { login_id: \"ethan_koh@students.edu.sg\" }"
    );
    let first = app.sign_in("ethan_koh@students.edu.sg", &password).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.location.as_deref(), Some("/sspr/setup-questions"));
    // Maya's letter is 31 days old: expired. Only the right password learns so.
    let maya = report[1]
        .temporary_password
        .as_ref()
        .expect("password")
        .expose()
        .to_string();
    app.clock.advance(31 * 86_400);
    let expired = app
        .sign_in_elsewhere("maya_tan@students.edu.sg", &maya)
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.json(), serde_json::json!("TemporaryExpired"));
    let wrong = app
        .sign_in_elsewhere("maya_tan@students.edu.sg", "guess")
        .await;
    assert_eq!(
        wrong.json(),
        serde_json::json!({"InvalidCredentials": {"max_failures": 5, "lock_minutes": 15}})
    );
    // A generic batch password (as the seed's 2024Kmps) works the same way.
    let rows = app_server_rows("Zara Lim,P5 Courage\n");
    let generic = domain::secret::Secret::new("Batch-2027-Kmps");
    app.portal
        .import_class_list("DEMO", &rows, Some(&generic), "test")
        .await
        .expect("import")
        .expect("no row errors");
    assert_eq!(
        app.sign_in_elsewhere("zara_lim@students.edu.sg", "Batch-2027-Kmps")
            .await
            .status,
        StatusCode::OK
    );
}

fn app_server_rows(body: &str) -> Vec<portal_core::provisioning::ImportRow> {
    portal_core::provisioning::parse_class_list(format!("full_name,class\n{body}").as_bytes())
        .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reset_starts_the_journey_again_and_ends_every_session() {
    let app = spawn_app().await;
    app.complete_onboarding().await;
    let out = run(&app, &["accounts", "reset", ALLEN]);
    assert!(out.status.success(), "{out:?}");
    let password = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(password.len(), 14);
    // The open session has ended; the old password no longer works.
    assert_eq!(
        app.page("/portal").await.location.as_deref(),
        Some("/?timeout=1")
    );
    assert_eq!(
        app.sign_in_elsewhere(ALLEN, NEW_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The CLI's clock is the real one; move the test clock there so the new temporary
    // password is within its 30 days.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    app.clock.set(now);
    let again = app.sign_in(ALLEN, &password).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    // The answers were kept: straight to Change Password.
    assert_eq!(again.location.as_deref(), Some("/sspr/change-password"));
    let unknown = run(&app, &["accounts", "reset", "nobody@students.edu.sg"]);
    assert!(!unknown.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_a_school_a_class_and_a_teacher() {
    let app = spawn_app().await;
    let rows = sqlx::query(
        "SELECT a.login_id, a.role, a.class_name, s.name FROM accounts a \
         JOIN schools s ON s.code = a.school_code ORDER BY a.id",
    )
    .fetch_all(&app.pool().await)
    .await
    .expect("rows");
    let first: (String, String, Option<String>, String) = (
        rows[0].get("login_id"),
        rows[0].get("role"),
        rows[0].get("class_name"),
        rows[0].get("name"),
    );
    assert_eq!(
        first,
        (
            "tan_mei_hua@schools.gov.sg".to_string(),
            "staff".to_string(),
            None,
            "Demo Primary School".to_string()
        )
    );
    assert!(rows[1..]
        .iter()
        .all(|r| r.get::<String, _>("role") == "student"
            && r.get::<Option<String>, _>("class_name").as_deref() == Some("P5 Kindness")));
}

// ---- the staff tools over HTTP -----------------------------------------------------------

const TEACHER: &str = "tan_mei_hua@schools.gov.sg";

/// Takes `login` through the first-login journey on `client`.
pub async fn onboard(app: &TestApp, client: &reqwest::Client, login: &str) {
    let call = |endpoint: &'static str, form: Vec<(&'static str, &'static str)>| {
        let client = client.clone();
        async move { app.call_with(&client, endpoint, &form).await }
    };
    let signed = app
        .call_with(
            client,
            "sign_in",
            &[("username", login), ("password", TEMP)],
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    call(
        "setup_questions",
        vec![
            ("question1", "food"),
            ("answer1", "Laksa"),
            ("question2", "animal"),
            ("answer2", "Otter"),
            ("question3", "colour"),
            ("answer3", "Maroon"),
        ],
    )
    .await;
    call("confirm_questions", vec![]).await;
    let changed = call(
        "change_password",
        vec![
            ("new_password", "Teach-Well-2027!"),
            ("confirm_password", "Teach-Well-2027!"),
        ],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
}

async fn student_id(app: &TestApp, login: &str) -> i64 {
    sqlx::query("SELECT id FROM accounts WHERE login_id = ?")
        .bind(login)
        .fetch_one(&app.pool().await)
        .await
        .expect("id")
        .get("id")
}

async fn password_hash(app: &TestApp, login: &str) -> String {
    sqlx::query("SELECT password_hash FROM accounts WHERE login_id = ?")
        .bind(login)
        .fetch_one(&app.pool().await)
        .await
        .expect("hash")
        .get("password_hash")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_calling_staff_functions_gets_403_and_nothing_changes() {
    let app = spawn_app().await;
    app.complete_onboarding().await;
    let chloe = student_id(&app, "chloe_ng@students.edu.sg").await;
    let before = password_hash(&app, "chloe_ng@students.edu.sg").await;
    let id = chloe.to_string();
    for (endpoint, form) in [
        ("staff_home", vec![]),
        ("class_progress", vec![("class", "P5 Kindness")]),
        ("find_students", vec![("query", "chloe")]),
        ("student_detail", vec![("id", id.as_str())]),
        ("staff_reset", vec![("id", id.as_str())]),
        ("staff_unlock", vec![("id", id.as_str())]),
        ("staff_clear_answers", vec![("id", id.as_str())]),
        ("import_preview", vec![("batch", "1")]),
        ("import_commit", vec![("batch", "1")]),
        ("letters", vec![("id", "1")]),
    ] {
        let answer = app.call(endpoint, &form).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{endpoint}: {}",
            answer.body
        );
        assert_eq!(answer.json(), serde_json::json!("Forbidden"), "{endpoint}");
    }
    assert_eq!(
        password_hash(&app, "chloe_ng@students.edu.sg").await,
        before
    );
    // The upload route too.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"full_name,class\nMallory,5B\n".to_vec())
            .file_name("x.csv"),
    );
    let upload = app
        .client
        .post(format!("{}/staff/upload", app.base))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(upload.status(), StatusCode::FORBIDDEN);
    let batches: i64 = sqlx::query("SELECT COUNT(*) AS n FROM import_batches")
        .fetch_one(&app.pool().await)
        .await
        .expect("count")
        .get("n");
    assert_eq!(batches, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_must_finish_their_own_first_login_journey_first() {
    let app = spawn_app().await;
    let signed = app.sign_in(TEACHER, TEMP).await;
    assert_eq!(signed.location.as_deref(), Some("/sspr/setup-questions"));
    let home = app.call("staff_home", &[]).await;
    assert_eq!(home.status, StatusCode::CONFLICT, "{}", home.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_sees_the_class_resets_unlocks_and_clears_for_their_school_only() {
    let app = spawn_app().await;
    onboard(&app, &app.client, TEACHER).await;
    let home = app.call("staff_home", &[]).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert_eq!(home.json()["school_name"], "Demo Primary School");
    assert_eq!(
        home.json()["classes"][0]["total"],
        server::demo::DEMO_STUDENTS.len()
    );

    // Allen finishes onboarding; Chloe locks herself out.
    onboard(&app, &new_client(), ALLEN).await;
    for i in 0..5 {
        app.sign_in_elsewhere("chloe_ng@students.edu.sg", &format!("wrong-{i}"))
            .await;
    }
    let progress = app
        .call("class_progress", &[("class", "P5 Kindness")])
        .await
        .json();
    let not_started = server::demo::DEMO_STUDENTS.len() - 1;
    assert_eq!(
        progress["counts"],
        serde_json::json!([not_started, 0, 0, 1])
    );
    let rows = progress["students"].as_array().expect("rows").clone();
    let allen = rows.iter().find(|r| r["login_id"] == ALLEN).expect("allen");
    assert_eq!(allen["stage"], "done");
    let chloe = rows
        .iter()
        .find(|r| r["login_id"] == "chloe_ng@students.edu.sg")
        .expect("chloe");
    assert_eq!(chloe["locked"], true);
    let chloe_id = chloe["id"].as_i64().expect("id").to_string();

    let unlocked = app.call("staff_unlock", &[("id", &chloe_id)]).await;
    assert_eq!(unlocked.status, StatusCode::OK, "{}", unlocked.body);
    assert_eq!(
        app.sign_in_elsewhere("chloe_ng@students.edu.sg", TEMP)
            .await
            .status,
        StatusCode::OK
    );

    // Reset Allen: a letter with the new temporary password, for this session only.
    let allen_id = allen["id"].as_i64().expect("id").to_string();
    let reset = app.call("staff_reset", &[("id", &allen_id)]).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let letters_at = reset.location.clone().expect("location");
    assert!(letters_at.starts_with("/staff/letters?id="), "{letters_at}");
    let letters_id = letters_at
        .trim_start_matches("/staff/letters?id=")
        .to_string();
    let batch = app.call("letters", &[("id", &letters_id)]).await.json();
    let letter = &batch["letters"][0];
    assert_eq!(letter["login_id"], ALLEN);
    let password = letter["temporary_password"]
        .as_str()
        .expect("password")
        .to_string();
    assert!(batch["portal_address"]
        .as_str()
        .unwrap_or("")
        .starts_with("http://127.0.0.1:"));
    // The database holds the letter only sealed.
    let sealed: Vec<u8> = sqlx::query("SELECT sealed FROM letter_batches")
        .fetch_one(&app.pool().await)
        .await
        .expect("sealed")
        .get("sealed");
    assert!(!String::from_utf8_lossy(&sealed).contains(&password));
    // Another session of the same teacher cannot open it.
    let other = new_client();
    app.call_with(
        &other,
        "sign_in",
        &[("username", TEACHER), ("password", "Teach-Well-2027!")],
    )
    .await;
    let foreign = app
        .call_with(&other, "letters", &[("id", &letters_id)])
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    // The CSV report of the batch, for the session that made it.
    let csv_text = app
        .client
        .get(format!("{}/staff/letters.csv?id={letters_id}", app.base))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("body");
    assert!(csv_text.contains(&password), "{csv_text}");
    // Allen signs in with the letter's password and must change it again.
    let again = app.sign_in_elsewhere(ALLEN, &password).await;
    assert_eq!(again.location.as_deref(), Some("/sspr/change-password"));

    // Clear Allen's questions.
    let cleared = app.call("staff_clear_answers", &[("id", &allen_id)]).await;
    assert_eq!(cleared.status, StatusCode::OK);
    let answers: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM security_answers WHERE account_id = ?")
            .bind(allen_id.parse::<i64>().expect("id"))
            .fetch_one(&app.pool().await)
            .await
            .expect("count")
            .get("n");
    assert_eq!(answers, 0);

    // The student's page shows these events, with the teacher as the actor.
    let detail = app
        .call("student_detail", &[("id", &allen_id)])
        .await
        .json();
    let events: Vec<(String, String)> = detail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or("").to_string(),
                e["actor"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        events.contains(&("password_reset_by_staff".into(), TEACHER.into())),
        "{events:?}"
    );
    assert!(
        events.contains(&("answers_cleared".into(), TEACHER.into())),
        "{events:?}"
    );

    // A student of another school is out of reach.
    app.portal
        .add_school("OTHER", "Other School", "test")
        .await
        .expect("school");
    app.portal
        .import_class_list("OTHER", &app_server_rows("Olivia Tan,1A\n"), None, "test")
        .await
        .expect("import")
        .expect("rows");
    let olivia = student_id(&app, "olivia_tan@students.edu.sg")
        .await
        .to_string();
    for endpoint in [
        "student_detail",
        "staff_reset",
        "staff_unlock",
        "staff_clear_answers",
    ] {
        let answer = app.call(endpoint, &[("id", &olivia)]).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{endpoint}");
    }
    let search = app
        .call("find_students", &[("query", "olivia")])
        .await
        .json();
    assert_eq!(search, serde_json::json!([]));
}

/// Uploads a class list as the signed-in teacher's browser does.
async fn upload(app: &TestApp, body: &[u8]) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(body.to_vec()).file_name("class.csv"),
    );
    app.client
        .post(format!("{}/staff/upload", app.base))
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

/// The status of each row of an import preview, in order.
fn row_statuses(preview: &serde_json::Value) -> Vec<String> {
    preview["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["status"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The batch an upload was kept as (from its redirect to the preview).
fn batch_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches("/staff/import?batch=")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_uploads_previews_and_imports_a_class_list() {
    let app = spawn_app().await;
    onboard(&app, &app.client, TEACHER).await;
    let before = count_accounts(&app).await;
    let response = upload(
        &app,
        b"full_name,class\nAisha Rahman,P5 Courage\nBen Lim,P5 Courage\n=2+2,P5 Courage\n",
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let batch = batch_of(&response);
    let preview = app
        .call("import_preview", &[("batch", &batch)])
        .await
        .json();
    let statuses = row_statuses(&preview);
    assert_eq!(statuses, ["create", "create", "error"]);
    assert_eq!(
        count_accounts(&app).await,
        before,
        "a preview writes nothing"
    );
    let refused = app.call("import_commit", &[("batch", &batch)]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(count_accounts(&app).await, before);

    let response = upload(
        &app,
        b"full_name,class\nAisha Rahman,P5 Courage\nBen Lim,P5 Courage\n",
    )
    .await;
    let batch = batch_of(&response);
    let committed = app.call("import_commit", &[("batch", &batch)]).await;
    assert_eq!(committed.status, StatusCode::OK, "{}", committed.body);
    assert_eq!(count_accounts(&app).await, before + 2);
    let letters_id = committed
        .location
        .expect("location")
        .trim_start_matches("/staff/letters?id=")
        .to_string();
    let letters = app.call("letters", &[("id", &letters_id)]).await.json();
    assert_eq!(letters["letters"].as_array().map(Vec::len), Some(2));
    // A malformed file is shown as such and writes nothing.
    let response = upload(&app, b"name;klasse\nx;y\n").await;
    let batch = batch_of(&response);
    let preview = app
        .call("import_preview", &[("batch", &batch)])
        .await
        .json();
    assert!(preview["file_problem"]
        .as_str()
        .unwrap_or("")
        .contains("full_name"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_creates_one_student_from_the_form() {
    let app = spawn_app().await;
    onboard(&app, &app.client, TEACHER).await;
    let created = app
        .call(
            "create_student",
            &[("full_name", "Siti binte Ali"), ("class", "P5 Kindness")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created
        .location
        .expect("location")
        .trim_start_matches("/staff/letters?id=")
        .to_string();
    let batch = app.call("letters", &[("id", &id)]).await.json();
    assert_eq!(batch["letters"][0]["login_id"], "siti_ali@students.edu.sg");
    // The same student again, a formula, an empty class: refused with the reason.
    for (name, class, says) in [
        ("Siti binte Ali", "P5 Kindness", "AlreadyInClass"),
        ("=HYPERLINK(\"x\")", "P5 Kindness", "Formula"),
        ("Ben Ong", "", "ClassEmpty"),
    ] {
        let refused = app
            .call("create_student", &[("full_name", name), ("class", class)])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(refused.body.contains(says), "{name}: {}", refused.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hq_adds_staff_from_the_command_line() {
    let app = spawn_app().await;
    let out = run(
        &app,
        &[
            "accounts",
            "add-staff",
            "--school",
            "DEMO",
            "--name",
            "Mdm Lee Hui Min",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (login, password) = stdout.trim().split_once('\t').expect("two columns");
    assert_eq!(login, "mdm_lee_hui_min@schools.gov.sg");
    assert_eq!(password.len(), 14);
    let role: String = sqlx::query("SELECT role FROM accounts WHERE login_id = ?")
        .bind(login)
        .fetch_one(&app.pool().await)
        .await
        .expect("row")
        .get("role");
    assert_eq!(role, "staff");
    let hq = run(
        &app,
        &[
            "accounts",
            "add-staff",
            "--school",
            "DEMO",
            "--name",
            "Mr Ong",
            "--hq",
        ],
    );
    assert!(String::from_utf8_lossy(&hq.stdout).starts_with("mr_ong@hq.moe.gov.sg\t"));
    let bad = run(
        &app,
        &["accounts", "add-staff", "--school", "NOPE", "--name", "X Y"],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no school has the code"));
}

/// The class view refreshes itself every 5 s with `x-portal-background`: those requests
/// do not count as activity, so a class view left open on a shared computer times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_class_view_refreshing_itself_does_not_keep_the_session_alive() {
    let app = spawn_app().await;
    onboard(&app, &app.client, TEACHER).await;
    let class = format!("{}/staff/class?name=P5%20Kindness", app.base);
    let refresh = || async {
        app.client
            .get(&class)
            .header(reqwest::header::ACCEPT, "text/html")
            .header("x-portal-background", "1")
            .send()
            .await
            .expect("refresh")
    };
    assert_eq!(refresh().await.status(), StatusCode::OK);
    for _ in 0..3 {
        app.clock.advance(60);
        assert_eq!(refresh().await.status(), StatusCode::OK);
    }
    app.clock.advance(60);
    let ended = refresh().await;
    assert!(ended.status().is_redirection(), "{}", ended.status());
    let location = ended
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(location.contains("timeout"), "{location}");
}

/// The letters print the configured public address, whatever `Host` the request named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_print_the_public_address_not_the_request_host() {
    let app =
        spawn_app_with(|c| c.public_url = Some("https://portal.school.example/".into())).await;
    onboard(&app, &app.client, TEACHER).await;
    let created = app
        .call(
            "create_student",
            &[("full_name", "Siti binte Ali"), ("class", "P5 Kindness")],
        )
        .await;
    let id = created
        .location
        .expect("location")
        .trim_start_matches("/staff/letters?id=")
        .to_string();
    let page = app
        .client
        .get(format!("{}/staff/letters?id={id}", app.base))
        .header(reqwest::header::ACCEPT, "text/html")
        .header(reqwest::header::HOST, "evil.example")
        .send()
        .await
        .expect("letters")
        .text()
        .await
        .expect("body");
    assert!(page.contains("https://portal.school.example/"), "{page}");
    assert!(!page.contains("evil.example"), "{page}");
}

/// Two students of the same name in one class (Tan Wei Ling, twice) are told apart by
/// the register number; without one, the preview says how to tell them apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namesakes_in_one_class_are_told_apart_by_their_register_numbers() {
    let app = spawn_app().await;
    onboard(&app, &app.client, TEACHER).await;
    let preview_of = |body: &'static [u8]| {
        let app = &app;
        async move {
            let batch = batch_of(&upload(app, body).await);
            let preview = app
                .call("import_preview", &[("batch", &batch)])
                .await
                .json();
            (batch, preview)
        }
    };
    // Imported once without register numbers: one Tan Wei Ling.
    let (batch, _) = preview_of(b"full_name,class\nTan Wei Ling,P5 Courage\n").await;
    let first = app.call("import_commit", &[("batch", &batch)]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    // Without register numbers the second row is a duplicate, and the note says why.
    let (_, preview) =
        preview_of(b"full_name,class\nTan Wei Ling,P5 Courage\nTan Wei Ling,P5 Courage\n").await;
    assert_eq!(preview["rows"][1]["status"], "duplicate", "{preview}");
    assert!(
        preview["rows"][1]["note"]
            .as_str()
            .unwrap_or_default()
            .contains("add a register_no column"),
        "{preview}"
    );
    // With them, both are created, each with a login ID of their own.
    let twins: &[u8] =
        b"full_name,class,register_no\nTan Wei Ling,P5 Courage,12\nTan Wei Ling,P5 Courage,27\n";
    let (batch, preview) = preview_of(twins).await;
    let statuses = row_statuses(&preview);
    // The earlier one stands for one of them; the other is new.
    assert_eq!(statuses, ["exists", "create"], "{preview}");
    let committed = app.call("import_commit", &[("batch", &batch)]).await;
    assert_eq!(committed.status, StatusCode::OK, "{}", committed.body);
    let ids: Vec<String> =
        sqlx::query("SELECT login_id FROM accounts WHERE full_name = 'Tan Wei Ling' ORDER BY id")
            .fetch_all(&app.pool().await)
            .await
            .expect("accounts")
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert_eq!(
        ids,
        [
            "tan_wei_ling@students.edu.sg",
            "tan_wei_ling1@students.edu.sg"
        ]
    );
    // The same file again: both exist, nothing is created twice.
    let (_, again) = preview_of(twins).await;
    let statuses = row_statuses(&again);
    assert_eq!(statuses, ["exists", "exists"], "{again}");
    // A register number that could be a formula or is too long is an error.
    let (_, bad) = preview_of(b"full_name,class,register_no\nBen Lim,P5 Courage,=1+1\n").await;
    assert_eq!(bad["rows"][0]["status"], "error", "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_added_from_the_command_line_is_audited_once() {
    let app = spawn_app().await;
    let added_rows = || async {
        sqlx::query("SELECT actor, detail FROM audit_events WHERE kind = 'school_added'")
            .fetch_all(&app.pool().await)
            .await
            .expect("audit")
            .iter()
            .map(|r| (r.get::<String, _>("actor"), r.get::<String, _>("detail")))
            .collect::<Vec<_>>()
    };
    let added = run(&app, &["schools", "add", "NEWS", "New Primary School"]);
    assert!(added.status.success(), "{added:?}");
    assert_eq!(
        added_rows().await,
        [("cli".to_string(), "NEWS (New Primary School)".to_string())]
    );
    // The same code again, and a code that is none: refused, nothing more audited.
    let again = run(&app, &["schools", "add", "NEWS", "Another Name"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let bad = run(&app, &["schools", "add", "no spaces", "X"]);
    assert!(!bad.status.success());
    assert_eq!(added_rows().await.len(), 1);
}
