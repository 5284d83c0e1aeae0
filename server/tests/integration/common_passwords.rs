//! The common-password check (issue 14, part 6): the browser's checklist knows only a
//! small subset of the list, the server checks the full one before storing anything,
//! and staff cannot hand out a common generic temporary password either.

use domain::password::{check_password, PasswordOwner, PasswordPolicy, RuleId, Violation};
use reqwest::StatusCode;

use crate::common::*;

/// In the full list (a leak's 12+ character entry), not in the browser's subset, and
/// it passes every other rule for Allen Tan.
const ONLY_THE_SERVER_KNOWS: &str = "Spiderman123";

fn allen() -> PasswordOwner {
    PasswordOwner {
        full_name: "Allen Tan".into(),
        login_id: ALLEN.into(),
    }
}

#[test]
fn the_chosen_password_passes_every_rule_the_browser_checks_but_is_in_the_full_list() {
    assert!(ONLY_THE_SERVER_KNOWS.chars().count() >= 12);
    let browser = check_password(ONLY_THE_SERVER_KNOWS, &allen(), &PasswordPolicy::default());
    assert_eq!(browser, Vec::<Violation>::new());
    assert!(portal_core::common_passwords::is_common(
        ONLY_THE_SERVER_KNOWS
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_only_the_full_list_knows_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    assert_eq!(app.sign_in(ALLEN, TEMP).await.status, StatusCode::OK);
    assert_eq!(app.setup_seed_questions().await.status, StatusCode::OK);
    assert_eq!(
        app.call("confirm_questions", &[]).await.status,
        StatusCode::OK
    );

    for password in [ONLY_THE_SERVER_KNOWS, "sPIDERMAN123"] {
        let refused = app.change_password(password, password).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(
            refused.json(),
            serde_json::json!({"PasswordRefused": [{"rule": "common"}]}),
            "{password}"
        );
        assert_eq!(Violation::Common.rule(), RuleId::NotCommon);
    }

    // With another broken rule, the common one comes in rule order, not last.
    let both = app
        .change_password(ONLY_THE_SERVER_KNOWS, "Spiderman124")
        .await;
    assert_eq!(
        both.json(),
        serde_json::json!({"PasswordRefused": [{"rule": "common"}, {"rule": "confirm_mismatch"}]})
    );

    // Nothing changed: the temporary password still signs in, the new one does not.
    let again = app.sign_in_elsewhere(ALLEN, TEMP).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let common = app.sign_in_elsewhere(ALLEN, ONLY_THE_SERVER_KNOWS).await;
    assert_eq!(common.status, StatusCode::UNAUTHORIZED);

    // And a strong one still goes through.
    let changed = app.change_password(NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_common_generic_temporary_password_is_refused_for_a_batch() {
    let app = spawn_app().await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts")
            .fetch_one(&app.pool().await)
            .await
            .expect("count")
    };
    let before = count().await;

    // Through the service (the staff side's provisioning).
    let rows =
        portal_core::provisioning::parse_class_list(b"full_name,class\nZara Lim,P5 Courage\n")
            .expect("rows");
    let generic = domain::secret::Secret::new("Password1234");
    let refused = app
        .portal
        .import_class_list("DEMO", &rows, Some(&generic), "test")
        .await;
    assert!(
        matches!(
            &refused,
            Err(proto::error::AppError::InputRefused {
                reason: proto::error::InputProblem::CommonGenericPassword
            })
        ),
        "{refused:?}"
    );

    // Through the command line, dry run or not.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("class.csv");
    std::fs::write(&file, "full_name,class\nZara Lim,P5 Courage\n").expect("write");
    let path = file.to_str().expect("path");
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec![
            "accounts",
            "import",
            path,
            "--school",
            "DEMO",
            "--generic-password",
            "QWERTY123456",
        ];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(&args)
            .env("DATABASE_URL", &app.database_url)
            .env_remove("PORTAL_GENERIC_PASSWORD")
            .output()
            .expect("run server");
        assert!(!out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("common password"), "{stderr}");
    }
    assert_eq!(count().await, before);
}
