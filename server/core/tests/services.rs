//! The services' rules, fast: [`Portal`] on the in-memory fakes (`MemoryStore`,
//! `FakeHasher`, `FakeClock`), no HTTP, no database, no argon2. The same rules the HTTP
//! tests (`server/tests/integration/`) check through a browser-like client — the
//! lockout, the forgot-password limit, the step machine, staff scope and session
//! timeouts — each asserted here on the service itself. The store contract suite runs
//! the fake against the SQL store's assertions, so what passes here holds there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use domain::answers::QuestionId;
use domain::journey::{current_step, Step};
use domain::password::Violation;
use domain::provisioning::Role;
use domain::secret::Secret;
use portal_core::memory::{FakeClock, FakeHasher, MemoryStore};
use portal_core::ports::{
    AccountId, Accounts, Audit, AuditEvent, Clock as _, NewAccount, ResetLimit, StaffRecords,
    StoredAnswer,
};
use portal_core::service::{ActiveSession, NewToken, Portal, Settings};
use portal_core::throttle::ThrottleSettings;
use proto::error::AppError;
use proto::ResetView;

const SCHOOL: &str = "DEMO";
const OTHER_SCHOOL: &str = "OTHER";
const ALLEN: &str = "allen_tan@students.edu.sg";
const CHLOE: &str = "chloe_lim@students.edu.sg";
/// A student of the other school.
const BOB: &str = "bob_ong@students.edu.sg";
const TEACHER: &str = "mei_teo@schools.gov.sg";
const TEMP: &str = "2024Kmps";
const NEW_PASSWORD: &str = "Blue-Whale-Swims9";
const STAFF_PASSWORD: &str = "Staff-Room-Key-42";
/// The set-up screen's three questions (one per list) and their answers.
const QUESTIONS: [(QuestionId, &str); 3] = [
    (QuestionId::Food, "Ramen"),
    (QuestionId::Animal, "Shark"),
    (QuestionId::Colour, "Turquoise"),
];

/// Settings as the HTTP tests' server has them: the defaults (5 wrong passwords lock
/// for 15 minutes, 4-minute idle timeout, 8-hour sessions), the per-address throttles
/// off, and the forgot-password bucket holding 5 wrong answers and emptying over an hour.
fn settings() -> Settings {
    let off = ThrottleSettings {
        per_minute: 0,
        burst: 1,
    };
    Settings {
        throttle: off,
        answer_throttle: off,
        reset_limit: ResetLimit {
            max_failures: 5,
            window_secs: 3600,
            block_secs: 24 * 3600,
        },
        ..Settings::default()
    }
}

/// A portal on the fakes, with two schools: Allen and Chloe (students of DEMO, on the
/// letter's password), Bob (a student of OTHER) and a DEMO teacher who finished the
/// journey.
struct World {
    store: Arc<MemoryStore>,
    hasher: Arc<FakeHasher>,
    clock: Arc<FakeClock>,
    portal: Portal,
}

impl World {
    async fn new() -> World {
        World::with(settings()).await
    }

    async fn with(settings: Settings) -> World {
        let store = Arc::new(MemoryStore::new());
        let hasher = Arc::new(FakeHasher::new());
        let clock = Arc::new(FakeClock::default());
        let portal = Portal::new(store.clone(), hasher.clone(), clock.clone(), settings);
        let world = World {
            store,
            hasher,
            clock,
            portal,
        };
        for (code, name) in [(SCHOOL, "Demo School"), (OTHER_SCHOOL, "Other School")] {
            assert!(world.store.add_school(code, name).await.unwrap());
        }
        world.student(ALLEN, "Allen Tan", SCHOOL).await;
        world.student(CHLOE, "Chloe Lim", SCHOOL).await;
        world.student(BOB, "Bob Ong", OTHER_SCHOOL).await;
        // The teacher is past the journey: a password of her own and three answers.
        let teacher = world
            .store
            .insert_account(
                NewAccount {
                    login_id: TEACHER.into(),
                    full_name: "Mei Teo".into(),
                    password_hash: FakeHasher::phc(STAFF_PASSWORD),
                    temporary_password: false,
                    role: Role::Staff,
                    school_code: Some(SCHOOL.into()),
                    class_name: None,
                    register_no: None,
                    temporary_expires_at: None,
                },
                world.clock.now(),
            )
            .await
            .unwrap();
        let answers = QUESTIONS.map(|(question, answer)| StoredAnswer {
            question_id: question.as_str().into(),
            answer_hash: FakeHasher::phc(&answer.to_lowercase()),
        });
        world
            .store
            .save_answers(
                teacher,
                &answers,
                b"no session",
                world.clock.now(),
                &AuditEvent {
                    at: world.clock.now(),
                    account_id: Some(teacher),
                    actor: "seed".into(),
                    kind: "answers set".into(),
                    client: None,
                    detail: None,
                },
            )
            .await
            .unwrap();
        world
    }

    async fn student(&self, login: &str, name: &str, school: &str) -> AccountId {
        self.store
            .insert_account(
                NewAccount {
                    login_id: login.into(),
                    full_name: name.into(),
                    password_hash: FakeHasher::phc(TEMP),
                    temporary_password: true,
                    role: Role::Student,
                    school_code: Some(school.into()),
                    class_name: Some("5B".into()),
                    register_no: None,
                    temporary_expires_at: None,
                },
                self.clock.now(),
            )
            .await
            .unwrap()
    }

    async fn id(&self, login: &str) -> AccountId {
        self.portal
            .find_account(&domain::login_id::LoginId::parse(login).unwrap())
            .await
            .unwrap()
            .unwrap()
            .id
    }

    async fn sign_in(&self, login: &str, password: &str) -> Result<(NewToken, Step), AppError> {
        self.portal
            .sign_in(login, &Secret::new(password), None)
            .await
            .map(|(token, step, _)| (token, step))
    }

    /// The session behind `token` as a request from a person (not a background
    /// refresh) loads it now.
    async fn session(&self, token: &NewToken) -> Option<ActiveSession> {
        self.portal
            .session(Some(token.expose()), None, false)
            .await
            .unwrap()
    }

    async fn live(&self, token: &NewToken) -> ActiveSession {
        self.session(token).await.expect("a live session")
    }

    /// Steps 3 and 4: the three questions chosen and confirmed.
    async fn set_questions(&self, token: &NewToken) {
        let questions = QUESTIONS.map(|(q, _)| q.as_str().to_string());
        let answers = QUESTIONS.map(|(_, a)| a.to_string());
        self.portal
            .submit_questions(&self.live(token).await, &questions, &answers)
            .await
            .unwrap();
        self.portal
            .confirm_questions(&self.live(token).await)
            .await
            .unwrap();
    }

    /// The whole first-login journey with the letter's password; the new session.
    async fn onboard(&self, login: &str) -> NewToken {
        let (token, step) = self.sign_in(login, TEMP).await.unwrap();
        assert_eq!(step, Step::SetupQuestions);
        self.set_questions(&token).await;
        let session = self.live(&token).await;
        self.portal
            .change_password(
                &session,
                &Secret::new(NEW_PASSWORD),
                &Secret::new(NEW_PASSWORD),
            )
            .await
            .unwrap()
    }

    fn locked(&self) -> AppError {
        self.portal.invalid_credentials()
    }

    /// The audit kinds of an account's trail, oldest first.
    async fn events(&self, id: AccountId) -> Vec<String> {
        self.store
            .audit_history(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

// ---- the lockout ------------------------------------------------------------------------

#[tokio::test]
async fn five_different_wrong_passwords_lock_even_the_right_one_out_until_the_lock_lifts() {
    let w = World::new().await;
    let generic = w.locked();
    assert_eq!(
        generic,
        AppError::InvalidCredentials {
            max_failures: 5,
            lock_minutes: 15
        }
    );
    for i in 0..5 {
        let refused = w.sign_in(ALLEN, &format!("wrong-{i}")).await.err();
        assert_eq!(refused, Some(generic.clone()), "attempt {i}");
    }
    let allen = w.store.account(w.id(ALLEN).await).await.unwrap().unwrap();
    assert!(allen.is_locked(w.clock.now()));

    // Locked: the right password is refused with the very same error, and still costs
    // one check (the answer's time says nothing either).
    let checks = w.hasher.checks();
    assert_eq!(w.sign_in(ALLEN, TEMP).await.err(), Some(generic.clone()));
    assert_eq!(w.hasher.checks(), checks + 1);

    w.clock.advance(15 * 60 - 1);
    assert_eq!(w.sign_in(ALLEN, TEMP).await.err(), Some(generic.clone()));
    w.clock.advance(1);
    let (_, step) = w.sign_in(ALLEN, TEMP).await.expect("the lock has lifted");
    assert_eq!(step, Step::SetupQuestions);

    // The lockout is Allen's alone.
    assert!(w.sign_in(CHLOE, TEMP).await.is_ok());
    let kinds = w.events(w.id(ALLEN).await).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "account_locked").count(),
        1,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn the_same_wrong_password_again_does_not_count_again() {
    let w = World::new().await;
    for _ in 0..8 {
        assert_eq!(w.sign_in(ALLEN, "2024kmps").await.err(), Some(w.locked()));
    }
    for other in ["one-more", "two-more", "three-more"] {
        assert_eq!(w.sign_in(ALLEN, other).await.err(), Some(w.locked()));
    }
    // Four distinct wrong passwords in all, under the limit of five: not locked.
    assert!(w.sign_in(ALLEN, TEMP).await.is_ok());
}

#[tokio::test]
async fn a_successful_sign_in_clears_the_count() {
    let w = World::new().await;
    for round in 0..3 {
        for i in 0..4 {
            assert!(w
                .sign_in(ALLEN, &format!("wrong-{round}-{i}"))
                .await
                .is_err());
        }
        assert!(w.sign_in(ALLEN, TEMP).await.is_ok(), "round {round}");
    }
}

#[tokio::test]
async fn unknown_login_ids_get_the_same_answer_at_the_same_cost() {
    let w = World::new().await;
    let wrong = w.sign_in(ALLEN, "not-the-password").await.err();
    let checks = w.hasher.checks();
    let unknown = w.sign_in("nobody@students.edu.sg", TEMP).await.err();
    assert_eq!(w.hasher.checks(), checks + 1, "one check for nobody too");
    let malformed = w.sign_in("not a login id", TEMP).await.err();
    assert_eq!(unknown, Some(w.locked()));
    assert_eq!(wrong, unknown);
    assert_eq!(malformed, unknown);
    // An unknown ID is never locked out differently from a real one: after five
    // tries it answers exactly as before.
    for i in 0..5 {
        let again = w
            .sign_in("nobody@students.edu.sg", &format!("guess-{i}"))
            .await
            .err();
        assert_eq!(again, unknown);
    }
}

// ---- the forgot-password limit ----------------------------------------------------------

/// A browser's forgot-password attempt for `login`.
async fn start_reset(w: &World, login: &str) -> NewToken {
    w.portal.start_reset(login, None).await.unwrap()
}

async fn answer_wrongly(w: &World, reset: &NewToken) -> Result<(), AppError> {
    w.portal
        .answer_reset(
            Some(reset.expose()),
            [Secret::new("wrong one"), Secret::new("wrong two")],
            None,
        )
        .await
}

/// Answers the two questions asked with the onboarding answers (in another case); a
/// login ID without answers is asked other questions, answered with something.
async fn answer_rightly(w: &World, reset: &NewToken) -> Result<(), AppError> {
    let ResetView::Questions { questions } = w.portal.reset_view(Some(reset.expose())).await?
    else {
        panic!("not asking questions");
    };
    let answers = questions.map(|asked| {
        let answer = QUESTIONS
            .iter()
            .find(|(q, _)| *q == asked)
            .map_or("not one of mine", |(_, a)| *a);
        Secret::new(format!("  {} ", answer.to_uppercase()))
    });
    w.portal
        .answer_reset(Some(reset.expose()), answers, None)
        .await
}

const BLOCKED: AppError = AppError::ResetBlocked { hours: 24 };

#[tokio::test(start_paused = true)]
async fn wrong_answers_fill_the_login_ids_bucket_and_block_it() {
    let w = World::new().await;
    w.onboard(ALLEN).await;
    for login in [ALLEN, "nobody_at_all@students.edu.sg"] {
        let reset = start_reset(&w, login).await;
        for attempt in 1..=5 {
            let expected = if attempt < 5 {
                AppError::AnswersDoNotMatch
            } else {
                BLOCKED
            };
            assert_eq!(
                answer_wrongly(&w, &reset).await,
                Err(expected),
                "{login} attempt {attempt}"
            );
        }
        // Blocked: a new attempt with the right answers is refused too.
        let again = start_reset(&w, login).await;
        assert_eq!(answer_rightly(&w, &again).await, Err(BLOCKED), "{login}");
    }
    // Per login ID: another student's bucket is empty, and sign-in is not locked.
    let chloe = start_reset(&w, CHLOE).await;
    assert_eq!(
        answer_wrongly(&w, &chloe).await,
        Err(AppError::AnswersDoNotMatch)
    );
    assert!(w.sign_in(ALLEN, NEW_PASSWORD).await.is_ok());
    // The block lasts its 24 hours.
    w.clock.advance(24 * 3600 - 1);
    let reset = start_reset(&w, ALLEN).await;
    assert_eq!(answer_rightly(&w, &reset).await, Err(BLOCKED));
    w.clock.advance(1);
    let reset = start_reset(&w, ALLEN).await;
    assert_eq!(answer_rightly(&w, &reset).await, Ok(()));
}

#[tokio::test(start_paused = true)]
async fn the_bucket_drains_over_its_window() {
    let w = World::new().await;
    w.onboard(ALLEN).await;
    let reset = start_reset(&w, ALLEN).await;
    for _ in 0..4 {
        assert_eq!(
            answer_wrongly(&w, &reset).await,
            Err(AppError::AnswersDoNotMatch)
        );
    }
    // Half the window: two and a half answers' worth has drained (5 an hour), so two
    // more go through and the third fills the bucket.
    w.clock.advance(1800);
    let reset = start_reset(&w, ALLEN).await;
    for _ in 0..2 {
        assert_eq!(
            answer_wrongly(&w, &reset).await,
            Err(AppError::AnswersDoNotMatch)
        );
    }
    assert_eq!(answer_wrongly(&w, &reset).await, Err(BLOCKED));

    // Without the wait, the fifth wrong answer in a row blocks at once.
    let w = World::new().await;
    w.onboard(ALLEN).await;
    let reset = start_reset(&w, ALLEN).await;
    for _ in 0..4 {
        answer_wrongly(&w, &reset).await.unwrap_err();
    }
    assert_eq!(answer_wrongly(&w, &reset).await, Err(BLOCKED));

    // After a whole window the bucket is empty: four more go through again.
    let w = World::new().await;
    w.onboard(ALLEN).await;
    let reset = start_reset(&w, ALLEN).await;
    for _ in 0..4 {
        answer_wrongly(&w, &reset).await.unwrap_err();
    }
    w.clock.advance(3600);
    let reset = start_reset(&w, ALLEN).await;
    for _ in 0..4 {
        assert_eq!(
            answer_wrongly(&w, &reset).await,
            Err(AppError::AnswersDoNotMatch)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn right_answers_empty_the_bucket_and_let_the_password_be_reset() {
    let w = World::new().await;
    let token = w.onboard(ALLEN).await;
    let reset = start_reset(&w, ALLEN).await;
    for _ in 0..4 {
        answer_wrongly(&w, &reset).await.unwrap_err();
    }
    // The fifth answer is right: matched, and the four wrong ones are forgotten.
    assert_eq!(answer_rightly(&w, &reset).await, Ok(()));
    assert!(matches!(
        w.portal.reset_view(Some(reset.expose())).await,
        Ok(ResetView::NewPassword { .. })
    ));
    let next = start_reset(&w, ALLEN).await;
    for attempt in 1..=4 {
        assert_eq!(
            answer_wrongly(&w, &next).await,
            Err(AppError::AnswersDoNotMatch),
            "attempt {attempt} after the right answers"
        );
    }
    // The matched attempt sets a new password (checked against the policy), ends
    // every session and signs nobody in.
    let weak = w
        .portal
        .reset_password(
            Some(reset.expose()),
            &Secret::new("short"),
            &Secret::new("short"),
            None,
        )
        .await;
    assert!(
        matches!(weak, Err(AppError::PasswordRefused(_))),
        "{weak:?}"
    );
    w.portal
        .reset_password(
            Some(reset.expose()),
            &Secret::new("Green-Turtle-Dives7"),
            &Secret::new("Green-Turtle-Dives7"),
            None,
        )
        .await
        .unwrap();
    assert!(w.session(&token).await.is_none(), "every session ended");
    assert!(w.sign_in(ALLEN, NEW_PASSWORD).await.is_err());
    assert!(w.sign_in(ALLEN, "Green-Turtle-Dives7").await.is_ok());
}

// ---- the step machine -------------------------------------------------------------------

#[tokio::test]
async fn the_password_changes_only_after_the_questions_are_set_and_confirmed() {
    let w = World::new().await;
    let (token, step) = w.sign_in(ALLEN, TEMP).await.unwrap();
    assert_eq!(step, Step::SetupQuestions);
    let new = Secret::new(NEW_PASSWORD);

    // Skipping ahead is refused by the service, whatever the browser shows.
    let session = w.live(&token).await;
    assert_eq!(
        w.portal.change_password(&session, &new, &new).await.err(),
        Some(AppError::WrongStep {
            path: Step::SetupQuestions.path().into()
        })
    );
    assert_eq!(
        w.portal.confirm_questions(&session).await,
        Err(AppError::WrongStep {
            path: Step::SetupQuestions.path().into()
        })
    );
    let questions = QUESTIONS.map(|(q, _)| q.as_str().to_string());
    let answers = QUESTIONS.map(|(_, a)| a.to_string());
    w.portal
        .submit_questions(&session, &questions, &answers)
        .await
        .unwrap();

    // Chosen but not confirmed: still no password change.
    let session = w.live(&token).await;
    assert_eq!(current_step(session.journey()), Step::ConfirmQuestions);
    assert_eq!(
        w.portal.change_password(&session, &new, &new).await.err(),
        Some(AppError::WrongStep {
            path: Step::ConfirmQuestions.path().into()
        })
    );
    let allen = w.store.account(session.account.id).await.unwrap().unwrap();
    assert!(
        allen.temporary_password && !allen.questions_set,
        "nothing changed"
    );

    w.portal.confirm_questions(&session).await.unwrap();
    let session = w.live(&token).await;
    assert_eq!(current_step(session.journey()), Step::ChangePassword);

    // The policy is the server's: a weak password is refused with every broken rule.
    let weak = Secret::new("#allen");
    let Err(AppError::PasswordRefused(violations)) =
        w.portal.change_password(&session, &weak, &weak).await
    else {
        panic!("a weak password was accepted");
    };
    assert!(violations
        .iter()
        .any(|v| matches!(v, Violation::TooShort { .. })));
    assert!(violations.contains(&Violation::FirstCharacterSymbol));
    assert!(violations
        .iter()
        .any(|v| matches!(v, Violation::ContainsNamePart { .. })));
    let temp = Secret::new(TEMP);
    assert!(matches!(
        w.portal.change_password(&session, &temp, &temp).await,
        Err(AppError::PasswordRefused(_))
    ));
    let mismatch = w
        .portal
        .change_password(&session, &new, &Secret::new("Blue-Whale-Swims8"))
        .await
        .err();
    assert_eq!(
        mismatch,
        Some(AppError::PasswordRefused(vec![Violation::ConfirmMismatch]))
    );

    // The journey's end: a new session (the old one is over) on the portal.
    let rotated = w
        .portal
        .change_password(&session, &new, &new)
        .await
        .unwrap();
    assert!(
        w.session(&token).await.is_none(),
        "the old token is worthless"
    );
    let session = w.live(&rotated).await;
    assert_eq!(current_step(session.journey()), Step::Portal);
    assert!(w.sign_in(ALLEN, TEMP).await.is_err());
    let (_, step) = w.sign_in(ALLEN, NEW_PASSWORD).await.unwrap();
    assert_eq!(step, Step::Portal);
}

// ---- staff scope ------------------------------------------------------------------------

#[tokio::test]
async fn staff_see_and_act_on_their_own_schools_students_only() {
    let w = World::new().await;
    let (token, step) = w.sign_in(TEACHER, STAFF_PASSWORD).await.unwrap();
    assert_eq!(step, Step::Portal);
    let session = w.live(&token).await;
    let scope = w.portal.staff_scope(&session).unwrap();
    assert_eq!(scope.school, SCHOOL);
    let (allen, bob) = (w.id(ALLEN).await, w.id(BOB).await);

    // The class view lists DEMO's 5B, not OTHER's 5B (Bob).
    let class = w.portal.class_progress(&scope, "5B").await.unwrap();
    let logins: Vec<&str> = class.students.iter().map(|s| s.login_id.as_str()).collect();
    assert_eq!(logins, [ALLEN, CHLOE]);
    assert!(w
        .portal
        .find_students(&scope, "bob")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        w.portal
            .student_detail(&scope, allen)
            .await
            .unwrap()
            .student
            .id,
        allen
    );

    // Another school's student: refused, and nothing happens to him.
    assert_eq!(
        w.portal.student_detail(&scope, bob).await.err(),
        Some(AppError::Forbidden)
    );
    assert_eq!(
        w.portal.staff_reset(&session, &scope, bob).await.err(),
        Some(AppError::Forbidden)
    );
    assert_eq!(
        w.portal.staff_unlock(&scope, bob).await.err(),
        Some(AppError::Forbidden)
    );
    assert_eq!(
        w.portal.staff_clear_answers(&scope, bob).await.err(),
        Some(AppError::Forbidden)
    );
    assert!(
        w.sign_in(BOB, TEMP).await.is_ok(),
        "Bob's password unchanged"
    );
    assert!(w
        .events(bob)
        .await
        .iter()
        .all(|k| k != "password_reset_by_staff"));
    // Nor a colleague, nor an id that does not exist.
    let teacher = w.id(TEACHER).await;
    for id in [teacher, 9999] {
        assert_eq!(
            w.portal.student_detail(&scope, id).await.err(),
            Some(AppError::Forbidden)
        );
    }

    // Their own student: a lockout lifted by the teacher.
    for i in 0..5 {
        w.sign_in(ALLEN, &format!("wrong-{i}")).await.unwrap_err();
    }
    assert_eq!(w.sign_in(ALLEN, TEMP).await.err(), Some(w.locked()));
    w.portal.staff_unlock(&scope, allen).await.unwrap();
    assert!(w.sign_in(ALLEN, TEMP).await.is_ok());
    // …and a new temporary password, sealed in a letter only this session opens.
    let letters = w.portal.staff_reset(&session, &scope, allen).await.unwrap();
    let batch = w
        .portal
        .open_letters(&session, &scope, letters)
        .await
        .unwrap();
    assert_eq!(batch.letters.len(), 1);
    let letter = &batch.letters[0];
    assert_eq!(letter.login_id, ALLEN);
    assert!(w.sign_in(ALLEN, TEMP).await.is_err());
    assert!(w.sign_in(ALLEN, &letter.temporary_password).await.is_ok());
}

#[tokio::test]
async fn a_student_calling_a_staff_service_is_forbidden() {
    let w = World::new().await;
    // On the letter's password, and after the whole journey: a student is a student.
    let (first, _) = w.sign_in(CHLOE, TEMP).await.unwrap();
    assert_eq!(
        w.portal.staff_scope(&w.live(&first).await).err(),
        Some(AppError::Forbidden)
    );
    let token = w.onboard(ALLEN).await;
    let session = w.live(&token).await;
    assert_eq!(current_step(session.journey()), Step::Portal);
    assert_eq!(
        w.portal.staff_scope(&session).err(),
        Some(AppError::Forbidden)
    );
}

#[tokio::test]
async fn staff_must_finish_their_own_journey_first() {
    let w = World::new().await;
    let (login, password) = w
        .portal
        .add_staff(SCHOOL, "Raj Kumar", Role::Staff, "test")
        .await
        .unwrap();
    let (token, step) = w.sign_in(login.as_str(), password.expose()).await.unwrap();
    assert_eq!(step, Step::SetupQuestions);
    assert_eq!(
        w.portal.staff_scope(&w.live(&token).await).err(),
        Some(AppError::WrongStep {
            path: Step::SetupQuestions.path().into()
        })
    );
}

// ---- session timeouts -------------------------------------------------------------------

#[tokio::test]
async fn an_idle_session_ends_after_its_timeout() {
    let w = World::new().await;
    let (token, _) = w.sign_in(ALLEN, TEMP).await.unwrap();
    // Each request within four minutes keeps it alive…
    for _ in 0..3 {
        w.clock.advance(239);
        assert!(w.session(&token).await.is_some());
    }
    // …four minutes without one end it, for good.
    w.clock.advance(240);
    assert!(w.session(&token).await.is_none());
    w.clock.advance(-240);
    assert!(
        w.session(&token).await.is_none(),
        "deleted, not just hidden"
    );
    let kinds = w.events(w.id(ALLEN).await).await;
    assert_eq!(kinds.last().map(String::as_str), Some("session_timeout"));
}

#[tokio::test]
async fn a_background_refresh_does_not_keep_a_session_alive() {
    let w = World::new().await;
    let (token, _) = w.sign_in(ALLEN, TEMP).await.unwrap();
    w.clock.advance(200);
    let background = w
        .portal
        .session(Some(token.expose()), None, true)
        .await
        .unwrap();
    assert!(background.is_some());
    w.clock.advance(40);
    assert!(w.session(&token).await.is_none());
}

#[tokio::test]
async fn a_busy_session_still_ends_after_eight_hours() {
    let w = World::new().await;
    let token = w.onboard(ALLEN).await;
    let started = w.clock.now();
    while w.clock.now() - started + 200 < 8 * 3600 {
        w.clock.advance(200);
        assert!(w.session(&token).await.is_some());
    }
    w.clock.set(started + 8 * 3600);
    assert!(w.session(&token).await.is_none());
}

// ---- the store's outage -----------------------------------------------------------------

#[tokio::test]
async fn a_store_that_does_not_answer_is_unavailable_not_a_wrong_password() {
    let w = World::new().await;
    w.store.set_unavailable(true);
    assert_eq!(
        w.sign_in(ALLEN, TEMP).await.err(),
        Some(AppError::Unavailable)
    );
    assert_eq!(w.portal.ready().await, Err(AppError::Unavailable));
    w.store.set_unavailable(false);
    assert!(w.sign_in(ALLEN, TEMP).await.is_ok());
}

// ---- single sign-on: the registry and the keys ----------------------------------------

mod federation {
    use super::*;
    use portal_core::ports::{ClientTile, Federation};
    use portal_core::service::federation::{
        client_secret_hash, ClientProblem, NewClient, NewSigningKey, CLOCK_SKEW_SECS, TOKEN_SECS,
    };

    fn app(public: bool) -> NewClient {
        NewClient {
            name: "Student Learning Space".into(),
            redirect_uris: vec!["https://sls.school.example/callback".into()],
            public,
            roles: vec![Role::Student],
            tile: Some(ClientTile {
                title: "Student Learning Space".into(),
                description: None,
            }),
            launch_uri: Some("https://sls.school.example/".into()),
        }
    }

    fn key(kid: &str) -> Result<NewSigningKey, String> {
        Ok(NewSigningKey {
            kid: kid.into(),
            algorithm: "RS256".into(),
            private_pem: Secret::new(format!("pem of {kid}")),
            public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        })
    }

    /// A confidential app's secret is shown once and kept only as its SHA-256; a public
    /// one has none; a refused registration stores nothing; both are audited.
    #[tokio::test]
    async fn a_secret_is_shown_once_and_kept_hashed() {
        let w = World::new().await;
        let confidential = w
            .portal
            .register_client(app(false), "cli")
            .await
            .expect("add");
        let secret = confidential
            .secret
            .expect("a confidential client has a secret");
        assert!(secret.expose().len() >= 43, "256 bits of secret");
        let stored = w
            .store
            .client(&confidential.client_id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(stored.secret_hash, Some(client_secret_hash(&secret)));
        assert_ne!(stored.secret_hash.as_deref(), Some(secret.expose()));

        let public = w
            .portal
            .register_client(app(true), "cli")
            .await
            .expect("add");
        assert!(public.secret.is_none());
        assert_ne!(public.client_id, confidential.client_id);

        let mut refused = app(false);
        refused.redirect_uris = vec!["http://sls.school.example/callback".into()];
        assert!(matches!(
            w.portal.register_client(refused, "cli").await,
            Err(ClientProblem::RedirectUri { .. })
        ));
        assert_eq!(w.portal.registered_clients().await.expect("list").len(), 2);

        assert!(w
            .portal
            .remove_client(&public.client_id, "cli")
            .await
            .expect("remove"));
        assert!(!w
            .portal
            .remove_client(&public.client_id, "cli")
            .await
            .expect("again"));
        let kinds: Vec<String> = w
            .store
            .all_audit_events()
            .into_iter()
            .map(|event| event.kind)
            .collect();
        assert_eq!(
            kinds
                .iter()
                .filter(|k| k.as_str() == "client_registered")
                .count(),
            2
        );
        assert_eq!(
            kinds
                .iter()
                .filter(|k| k.as_str() == "client_removed")
                .count(),
            1
        );
    }

    /// The first start makes a key (once: later starts find it); a rotation's new key
    /// signs and the old one stays published until its tokens have expired.
    #[tokio::test]
    async fn one_key_signs_and_a_retired_one_is_published_while_its_tokens_live() {
        let w = World::new().await;
        assert!(w
            .portal
            .ensure_signing_key("RS256", || key("k1"))
            .await
            .expect("first"));
        let again = w
            .portal
            .ensure_signing_key("RS256", || panic!("a second start must not make a key"))
            .await
            .expect("second start");
        assert!(!again);
        let kids = |keys: Vec<portal_core::ports::SigningKeyRecord>| -> Vec<String> {
            keys.into_iter().map(|k| k.kid).collect()
        };
        assert_eq!(
            kids(w.portal.published_signing_keys().await.expect("keys")),
            ["k1"]
        );

        w.clock.advance(10);
        w.portal
            .rotate_signing_key(key("k2").expect("key"), "cli")
            .await
            .expect("rotate");
        assert_eq!(
            kids(w.portal.published_signing_keys().await.expect("keys")),
            ["k2", "k1"],
            "the new key signs (first); the old one is still published"
        );
        w.clock.advance(TOKEN_SECS + CLOCK_SKEW_SECS);
        assert_eq!(
            kids(w.portal.published_signing_keys().await.expect("keys")),
            ["k2"],
            "every token the old key signed has expired"
        );
        // A rotation does not run the first-start generator again.
        assert!(!w
            .portal
            .ensure_signing_key("RS256", || panic!("the rotated key is active"))
            .await
            .expect("start after rotation"));
    }
}

// ---- single sign-on: the authorization code flow --------------------------------------

mod sign_on {
    use super::*;
    use portal_core::service::authorization::{
        Authorization, AuthorizationRequest, TokenError, TokenRequest, UntrustedRequest, CODE_SECS,
    };
    use portal_core::service::federation::NewClient;

    const CALLBACK: &str = "https://sls.school.example/callback";
    /// RFC 7636 Appendix B's verifier and its S256 challenge.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    /// Registers an app for students; its id and (confidential) secret.
    async fn register(w: &World, public: bool) -> (String, Option<Secret>) {
        let registered = w
            .portal
            .register_client(
                NewClient {
                    name: "Student Learning Space".into(),
                    redirect_uris: vec![CALLBACK.into()],
                    public,
                    roles: vec![Role::Student],
                    tile: None,
                    launch_uri: None,
                },
                "test",
            )
            .await
            .unwrap();
        (registered.client_id, registered.secret)
    }

    fn request(client_id: &str) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: Some(client_id.into()),
            redirect_uri: Some(CALLBACK.into()),
            response_type: Some("code".into()),
            scope: Some("openid school".into()),
            state: Some("st-1".into()),
            nonce: Some("n-1".into()),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
            ..AuthorizationRequest::default()
        }
    }

    fn token_request(client_id: &str, secret: Option<&Secret>, code: &Secret) -> TokenRequest {
        TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(Secret::new(code.expose())),
            redirect_uri: Some(CALLBACK.into()),
            client_id: Some(client_id.into()),
            client_secret: secret.map(|s| Secret::new(s.expose())),
            code_verifier: Some(Secret::new(VERIFIER)),
        }
    }

    async fn code_for(w: &World, session: &ActiveSession, req: &AuthorizationRequest) -> Secret {
        match w.portal.authorize(req, Some(session), None).await.unwrap() {
            Authorization::Granted {
                code,
                state,
                redirect_uri,
            } => {
                assert_eq!(state.as_deref(), Some("st-1"));
                assert_eq!(redirect_uri, CALLBACK);
                code
            }
            other => panic!("expected a code, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_signed_in_student_gets_a_code_once_and_tokens_that_read_userinfo() {
        let w = World::new().await;
        let (client, secret) = register(&w, false).await;
        let token = w.onboard(ALLEN).await;
        let session = w.live(&token).await;
        let code = code_for(&w, &session, &request(&client)).await;
        let issued = w
            .portal
            .redeem(token_request(&client, secret.as_ref(), &code), None)
            .await
            .unwrap();
        assert_eq!(issued.nonce.as_deref(), Some("n-1"));
        assert_eq!(issued.identity.login_id, ALLEN);
        assert_eq!(issued.identity.name, "Allen Tan");
        assert_ne!(
            issued.identity.subject, ALLEN,
            "sub must not be the login ID"
        );
        let school = issued.identity.school.clone().expect("school scope");
        assert_eq!(school.class.as_deref(), Some("5B"));
        assert_eq!(school.role, Role::Student);
        let info = w
            .portal
            .userinfo(issued.access_token.expose())
            .await
            .unwrap()
            .expect("userinfo");
        assert_eq!(info, issued.identity);
        // The same account gets the same subject from a second sign-on.
        let again = code_for(&w, &w.live(&token).await, &request(&client)).await;
        let second = w
            .portal
            .redeem(token_request(&client, secret.as_ref(), &again), None)
            .await
            .unwrap();
        assert_eq!(second.identity.subject, issued.identity.subject);
        // A replayed code is refused and revokes what its first redemption issued.
        assert_eq!(
            w.portal
                .redeem(token_request(&client, secret.as_ref(), &code), None)
                .await
                .unwrap_err(),
            TokenError::InvalidGrant("the code was used before")
        );
        assert_eq!(
            w.portal
                .userinfo(issued.access_token.expose())
                .await
                .unwrap(),
            None
        );
        // The access token expires with the id token.
        w.clock
            .advance(portal_core::service::federation::TOKEN_SECS);
        assert_eq!(
            w.portal
                .userinfo(second.access_token.expose())
                .await
                .unwrap(),
            None
        );
        let events = w.events(w.id(ALLEN).await).await;
        assert!(
            events.contains(&"sign_on_code_issued".to_string()),
            "{events:?}"
        );
        assert!(
            events.contains(&"sign_on_token_issued".to_string()),
            "{events:?}"
        );
    }

    #[tokio::test]
    async fn every_wrong_redemption_is_refused() {
        let w = World::new().await;
        let (client, secret) = register(&w, false).await;
        let (public, _) = register(&w, true).await;
        let token = w.onboard(ALLEN).await;
        let session = w.live(&token).await;
        let code = code_for(&w, &session, &request(&client)).await;
        let mut wrong_secret = token_request(&client, Some(&Secret::new("guess")), &code);
        assert_eq!(
            w.portal.redeem(wrong_secret, None).await.unwrap_err(),
            TokenError::InvalidClient
        );
        wrong_secret = token_request(&client, None, &code);
        assert_eq!(
            w.portal.redeem(wrong_secret, None).await.unwrap_err(),
            TokenError::InvalidClient
        );
        let unknown = token_request("no-such-client", None, &code);
        assert_eq!(
            w.portal.redeem(unknown, None).await.unwrap_err(),
            TokenError::InvalidClient
        );
        // Another client cannot redeem it (the public one has no secret to check).
        let other = token_request(&public, None, &code);
        assert!(matches!(
            w.portal.redeem(other, None).await.unwrap_err(),
            TokenError::InvalidGrant(_)
        ));
        let mut bad_verifier = token_request(&client, secret.as_ref(), &code);
        bad_verifier.code_verifier = Some(Secret::new("x".repeat(43)));
        assert!(matches!(
            w.portal.redeem(bad_verifier, None).await.unwrap_err(),
            TokenError::InvalidGrant(_)
        ));
        let mut other_uri = token_request(&client, secret.as_ref(), &code);
        other_uri.redirect_uri = Some("https://sls.school.example/other".into());
        assert!(matches!(
            w.portal.redeem(other_uri, None).await.unwrap_err(),
            TokenError::InvalidGrant(_)
        ));
        // None of those used the code up.
        assert!(w
            .portal
            .redeem(token_request(&client, secret.as_ref(), &code), None)
            .await
            .is_ok());

        let late = code_for(&w, &w.live(&token).await, &request(&client)).await;
        w.clock.advance(CODE_SECS);
        let token = w.sign_in(ALLEN, NEW_PASSWORD).await.unwrap().0;
        assert!(matches!(
            w.portal
                .redeem(token_request(&client, secret.as_ref(), &late), None)
                .await
                .unwrap_err(),
            TokenError::InvalidGrant(_)
        ));
        let mut wrong_grant = token_request(&client, secret.as_ref(), &late);
        wrong_grant.grant_type = Some("password".into());
        assert_eq!(
            w.portal.redeem(wrong_grant, None).await.unwrap_err(),
            TokenError::UnsupportedGrantType
        );

        // A code of a request without PKCE cannot be redeemed with a verifier (downgrade).
        let mut no_pkce = request(&client);
        no_pkce.code_challenge = None;
        no_pkce.code_challenge_method = None;
        let plain = code_for(&w, &w.live(&token).await, &no_pkce).await;
        assert!(matches!(
            w.portal
                .redeem(token_request(&client, secret.as_ref(), &plain), None)
                .await
                .unwrap_err(),
            TokenError::InvalidGrant(_)
        ));
        // Each refusal of the registered app is audited with why; the unknown client's
        // only counted.
        let refused: Vec<String> = w
            .store
            .all_audit_events()
            .into_iter()
            .filter(|e| e.kind == "sign_on_refused")
            .filter_map(|e| e.detail)
            .collect();
        assert!(
            refused
                .iter()
                .any(|d| *d == format!("{client}: invalid_client: client authentication failed")),
            "{refused:?}"
        );
        assert!(refused
            .iter()
            .any(|d| d.starts_with(&format!("{client}: invalid_grant"))));
        assert!(
            !refused.iter().any(|d| d.contains("no-such-client")),
            "{refused:?}"
        );
    }

    fn refused(decision: &Authorization) -> &'static str {
        match decision {
            Authorization::Refused { refusal, .. } => refusal.error,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn requests_an_app_cannot_be_trusted_with_stay_here_and_bad_ones_go_back_with_an_error() {
        let w = World::new().await;
        let (client, _) = register(&w, false).await;
        let (public, _) = register(&w, true).await;
        let token = w.onboard(ALLEN).await;
        let session = w.live(&token).await;
        let decide = |req: AuthorizationRequest| {
            let session = session.clone();
            let portal = &w.portal;
            async move { portal.authorize(&req, Some(&session), None).await.unwrap() }
        };
        assert!(matches!(
            decide(request("unknown")).await,
            Authorization::Untrusted(UntrustedRequest::UnknownClient)
        ));
        let mut elsewhere = request(&client);
        elsewhere.redirect_uri = Some("https://evil.example/callback".into());
        assert!(matches!(
            decide(elsewhere).await,
            Authorization::Untrusted(UntrustedRequest::RedirectUri)
        ));
        let mut implicit = request(&client);
        implicit.response_type = Some("id_token token".into());
        assert_eq!(
            refused(&decide(implicit).await),
            "unsupported_response_type"
        );
        let mut no_openid = request(&client);
        no_openid.scope = Some("profile".into());
        assert_eq!(refused(&decide(no_openid).await), "invalid_scope");
        let mut plain = request(&client);
        plain.code_challenge_method = Some("plain".into());
        assert_eq!(refused(&decide(plain).await), "invalid_request");
        let mut public_without_pkce = request(&public);
        public_without_pkce.code_challenge = None;
        public_without_pkce.code_challenge_method = None;
        assert_eq!(
            refused(&decide(public_without_pkce).await),
            "invalid_request"
        );
        let mut request_object = request(&client);
        request_object.request_object = true;
        assert_eq!(
            refused(&decide(request_object).await),
            "request_not_supported"
        );
        // prompt=login and an exceeded max_age send the person to sign in again.
        let mut login = request(&client);
        login.prompt = Some("login".into());
        assert!(matches!(
            decide(login).await,
            Authorization::SignIn {
                end_session: true,
                ..
            }
        ));
        w.clock.advance(30);
        let mut max_age = request(&client);
        max_age.max_age = Some("10".into());
        assert!(matches!(
            decide(max_age).await,
            Authorization::SignIn {
                end_session: true,
                ..
            }
        ));
        let mut max_age_none = request(&client);
        max_age_none.max_age = Some("10".into());
        max_age_none.prompt = Some("none".into());
        assert_eq!(refused(&decide(max_age_none).await), "login_required");
    }

    #[tokio::test]
    async fn the_journey_gates_the_app_and_a_locked_or_signed_out_account_gets_no_code() {
        let w = World::new().await;
        let (client, secret) = register(&w, false).await;
        // Not signed in: sign in first (or, with prompt=none, login_required).
        assert!(matches!(
            w.portal
                .authorize(&request(&client), None, None)
                .await
                .unwrap(),
            Authorization::SignIn {
                end_session: false,
                ..
            }
        ));
        let mut silent = request(&client);
        silent.prompt = Some("none".into());
        assert_eq!(
            refused(&w.portal.authorize(&silent, None, None).await.unwrap()),
            "login_required"
        );
        // On the letter's password: the journey first.
        let (token, _) = w.sign_in(ALLEN, TEMP).await.unwrap();
        let session = w.live(&token).await;
        assert!(matches!(
            w.portal
                .authorize(&request(&client), Some(&session), None)
                .await
                .unwrap(),
            Authorization::Journey
        ));
        assert_eq!(
            refused(
                &w.portal
                    .authorize(&silent, Some(&session), None)
                    .await
                    .unwrap()
            ),
            "interaction_required"
        );
        // Questions set, password not yet changed: still the journey.
        w.set_questions(&token).await;
        assert!(matches!(
            w.portal
                .authorize(&request(&client), Some(&w.live(&token).await), None)
                .await
                .unwrap(),
            Authorization::Journey
        ));
        // A staff member's app refuses a student.
        let staff_only = w
            .portal
            .register_client(
                NewClient {
                    name: "Staff room".into(),
                    redirect_uris: vec![CALLBACK.into()],
                    public: false,
                    roles: vec![Role::Staff],
                    tile: None,
                    launch_uri: None,
                },
                "test",
            )
            .await
            .unwrap();
        let chloe = w.onboard(CHLOE).await;
        assert_eq!(
            refused(
                &w.portal
                    .authorize(
                        &request(&staff_only.client_id),
                        Some(&w.live(&chloe).await),
                        None
                    )
                    .await
                    .unwrap()
            ),
            "access_denied"
        );
        // A code issued before the account was locked cannot be redeemed after it.
        let code = code_for(&w, &w.live(&chloe).await, &request(&client)).await;
        for wrong in ["wrong-1", "wrong-2", "wrong-3", "wrong-4", "wrong-5"] {
            assert!(w.sign_in(CHLOE, wrong).await.is_err());
        }
        assert_eq!(
            w.portal
                .redeem(token_request(&client, secret.as_ref(), &code), None)
                .await
                .unwrap_err(),
            TokenError::InvalidGrant("the account cannot sign in now")
        );
    }
}
