//! The staff tools: the school's classes, a class's onboarding progress (refreshing by
//! itself), a student's page with reset / unlock / clear questions and their history,
//! the class-list import with its preview, and the printable parent letters.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::error::AppError;
use crate::api::staff::{
    class_progress, find_students, import_preview, letters, staff_home, student_detail,
    CreateStudent, ImportCommit, StaffClearAnswers, StaffReset, StaffUnlock,
};
use crate::api::staff_types::{ClassProgress, Stage, StudentRow};
use crate::components::islands::{LiveRefresh, PrintButton};
use crate::components::page_locale;
use crate::components::{ErrorSummary, IdleCountdown, LanguageSelect, SignOutButton};
use crate::domain::route::{Endpoint, Route};
use crate::i18n::*;

/// The frame of every staff page.
#[component]
fn StaffFrame(idle_timeout_secs: i64, children: Children) -> impl IntoView {
    let locale = page_locale();
    let header = view! {
        <header class="sspr-header no-print">
            <div class="sspr-header__bar">
                <p class="sspr-header__title">
                    <a href=Route::Staff.path() class="sspr-header__home">{td!(locale, staff.title)}</a>
                </p>
                <div class="sspr-header__tools">
                    <IdleCountdown timeout_secs=idle_timeout_secs />
                    <span aria-hidden="true">" · "</span>
                    <LanguageSelect />
                    <a class="button--link" href=Route::PORTAL.path()>{td!(locale, staff.portal)}</a>
                    <SignOutButton />
                </div>
            </div>
        </header>
    }
    .into_any();
    view! {
        {header}
        <main id="main" class="card card--wide">{children()}</main>
    }
}

/// Errors of a staff page: not signed in goes to the sign-in page.
fn staff_error(error: AppError) -> AnyView {
    match error {
        AppError::SessionEnded => {
            view! { <leptos_router::components::Redirect path=Route::timed_out() /> }.into_any()
        }
        AppError::WrongStep { path } => {
            view! { <leptos_router::components::Redirect path=path /> }.into_any()
        }
        error => view! {
            <main id="main" class="card card--narrow">
                <ErrorSummary error=Some(error) />
                <p><a href=Route::PORTAL.path()>"MIMS Portal"</a></p>
            </main>
        }
        .into_any(),
    }
}

fn stage_text(locale: Locale, stage: Stage) -> String {
    match stage {
        Stage::NotStarted => td_string!(locale, staff.stage_not_started).to_string(),
        Stage::QuestionsSet => td_string!(locale, staff.stage_questions_set).to_string(),
        Stage::PasswordChanged => td_string!(locale, staff.stage_password_changed).to_string(),
        Stage::Done => td_string!(locale, staff.stage_done).to_string(),
    }
}

/// Unix seconds as "2026-11-27 14:05" (UTC+8, Singapore time), or "—".
fn when(at: Option<i64>) -> String {
    let Some(at) = at else {
        return "—".to_string();
    };
    let local = at + 8 * 3600;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60
    )
}

#[component]
fn StudentTable(rows: Vec<StudentRow>) -> impl IntoView {
    let locale = page_locale();
    view! {
        <table class="table" data-testid="students">
            <thead>
                <tr>
                    <th scope="col">{td!(locale, staff.col_name)}</th>
                    <th scope="col">{td!(locale, staff.col_login)}</th>
                    <th scope="col">{td!(locale, staff.col_class)}</th>
                    <th scope="col">{td!(locale, staff.col_stage)}</th>
                    <th scope="col">{td!(locale, staff.col_last)}</th>
                    <th scope="col">{td!(locale, staff.col_locked)}</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        let stage = row.stage;
                        let login = row.login_id.clone();
                        view! {
                            <tr data-login=login data-stage=stage.as_str()>
                                <td>
                                    <a href=Route::StaffStudent.with(&[("id", &row.id.to_string())])>{row.full_name}</a>
                                </td>
                                <td>{row.login_id}</td>
                                <td>{row.class}</td>
                                <td class=format!("stage stage--{}", stage.as_str())>
                                    {move || stage_text(locale, stage)}
                                </td>
                                <td>{when(row.last_sign_in)}</td>
                                <td>
                                    {if row.locked {
                                        view! { <strong class="locked">{td!(locale, staff.locked)}</strong> }
                                            .into_any()
                                    } else {
                                        "—".into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// `/staff`: the school's classes, search, and the class-list upload.
#[component]
pub fn StaffHomePage() -> impl IntoView {
    let locale = page_locale();
    let home = Resource::new(|| (), |_| staff_home());
    let query = use_query_map();
    let search = move || query.get().get("q").unwrap_or_default();
    let found = Resource::new(search, |q| async move {
        if q.trim().is_empty() {
            Ok(Vec::new())
        } else {
            find_students(q).await
        }
    });
    let upload_problem = move || query.get().get("upload");
    let create = ServerAction::<CreateStudent>::new();
    let create_error = move || match create.value().get() {
        Some(Err(error)) => Some(error),
        _ => None,
    };
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let home = match home.await {
                    Ok(home) => home,
                    Err(error) => return staff_error(error),
                };
                let found = found.await;
                view! {
                    <StaffFrame idle_timeout_secs=home.idle_timeout_secs>
                        <h1>{home.school_name.clone()}</h1>
                        <p>{td!(locale, staff.welcome, name = home.staff_name.clone())}</p>
                        <h2>{td!(locale, staff.classes)}</h2>
                        <table class="table" data-testid="classes">
                            <thead>
                                <tr>
                                    <th scope="col">{td!(locale, staff.col_class)}</th>
                                    <th scope="col">{td!(locale, staff.col_students)}</th>
                                    <th scope="col">{td!(locale, staff.col_done)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {home
                                    .classes
                                    .into_iter()
                                    .map(|c| {
                                        let href = Route::StaffClass.with(&[("name", &c.class)]);
                                        view! {
                                            <tr>
                                                <td><a href=href>{c.class}</a></td>
                                                <td>{c.total}</td>
                                                <td>{c.done}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                        <h2>{td!(locale, staff.find)}</h2>
                        <form method="get" action=Route::Staff.path() class="inline-form" role="search">
                            <label for="q">{td!(locale, staff.find_label)}</label>
                            <input id="q" name="q" type="search" value=search() maxlength="100" />
                            <button type="submit" class="button">{td!(locale, staff.find_button)}</button>
                        </form>
                        {match found {
                            Ok(rows) if !rows.is_empty() => view! { <StudentTable rows /> }.into_any(),
                            Ok(_) if !search().trim().is_empty() => {
                                view! { <p>{td!(locale, staff.nothing_found)}</p> }.into_any()
                            }
                            Ok(_) => ().into_any(),
                            Err(error) => view! { <ErrorSummary error=Some(error) /> }.into_any(),
                        }}
                        <h2>{td!(locale, staff.create)}</h2>
                        {move || view! { <ErrorSummary error=create_error() /> }}
                        <ActionForm action=create attr:class="inline-form">
                            <label for="new-name">{td!(locale, staff.col_name)}</label>
                            <input id="new-name" name="full_name" type="text" maxlength="100" required />
                            <label for="new-class">{td!(locale, staff.col_class)}</label>
                            <input id="new-class" name="class" type="text" maxlength="20" required />
                            <button type="submit" class="button">{td!(locale, staff.create_button)}</button>
                        </ActionForm>
                        <h2>{td!(locale, staff.import)}</h2>
                        <p>{td!(locale, staff.import_intro)}</p>
                        {move || {
                            upload_problem()
                                .map(|_| {
                                    view! {
                                        <p class="field-error" role="alert">{td!(locale, staff.upload_problem)}</p>
                                    }
                                })
                        }}
                        <form method="post" action=Endpoint::StaffUpload.path() enctype="multipart/form-data">
                            <div class="field">
                                <label for="file">{td!(locale, staff.file_label)}</label>
                                <input id="file" name="file" type="file" accept=".csv,text/csv" required />
                            </div>
                            <div class="actions">
                                <button type="submit" class="button">{td!(locale, staff.preview_button)}</button>
                            </div>
                        </form>
                    </StaffFrame>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// Seconds between refreshes of the class view.
const REFRESH_SECS: u64 = 5;

/// `/staff/class?name=…`: who is where in onboarding; with JavaScript the counts and
/// the table refresh by themselves (a [`LiveRefresh`] island), without it a link
/// reloads them.
#[component]
pub fn StaffClassPage() -> impl IntoView {
    let locale = page_locale();
    let query = use_query_map();
    let class = move || query.get().get("name").unwrap_or_default();
    let progress = Resource::new(class, class_progress);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let progress: ClassProgress = match progress.await {
                    Ok(p) => p,
                    Err(error) => return staff_error(error),
                };
                let labels = Stage::ALL;
                let self_link = Route::StaffClass.with(&[("name", &progress.class)]);
                view! {
                    <StaffFrame idle_timeout_secs=progress.idle_timeout_secs>
                        <h1>{td!(locale, staff.class_heading, class = progress.class.clone())}</h1>
                        <LiveRefresh every_secs=REFRESH_SECS>
                            <ul class="counts" data-testid="counts" aria-live="polite" data-live="counts">
                                {labels
                                    .into_iter()
                                    .zip(progress.counts)
                                    .map(|(stage, n)| {
                                        view! {
                                            <li data-stage=stage.as_str()>
                                                <span class="counts__n">{n}</span>
                                                <span class="counts__label">{stage_text(locale, stage)}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <p class="hint">
                                {td!(locale, staff.refreshes)}" "
                                <a href=self_link>{td!(locale, staff.refresh)}</a>
                            </p>
                            <div data-live="students">
                                <StudentTable rows=progress.students />
                            </div>
                        </LiveRefresh>
                    </StaffFrame>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// `/staff/student?id=N`: one student, the actions that help, and their history.
#[component]
pub fn StaffStudentPage() -> impl IntoView {
    let locale = page_locale();
    let query = use_query_map();
    let id = move || {
        query
            .get()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let done = move || query.get().get("done");
    let detail = Resource::new(id, student_detail);
    let reset = ServerAction::<StaffReset>::new();
    let unlock = ServerAction::<StaffUnlock>::new();
    let clear = ServerAction::<StaffClearAnswers>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let detail = match detail.await {
                    Ok(d) => d,
                    Err(error) => return staff_error(error),
                };
                let s = detail.student.clone();
                let stage = s.stage;
                let (sid1, sid2, sid3) = (s.id.to_string(), s.id.to_string(), s.id.to_string());
                view! {
                    <StaffFrame idle_timeout_secs=detail.idle_timeout_secs>
                        <h1>{s.full_name.clone()}</h1>
                        {move || {
                            done()
                                .map(|what| {
                                    let text = if what == "unlocked" {
                                        td_string!(locale, staff.done_unlocked)
                                    } else {
                                        td_string!(locale, staff.done_cleared)
                                    };
                                    view! { <p class="success" role="status">{text}</p> }
                                })
                        }}
                        <dl class="facts">
                            <dt>{td!(locale, staff.col_login)}</dt>
                            <dd>{s.login_id.clone()}</dd>
                            <dt>{td!(locale, staff.col_class)}</dt>
                            <dd>{s.class.clone()}</dd>
                            <dt>{td!(locale, staff.col_stage)}</dt>
                            <dd data-testid="stage">{move || stage_text(locale, stage)}</dd>
                            <dt>{td!(locale, staff.col_last)}</dt>
                            <dd>{when(s.last_sign_in)}</dd>
                            <dt>{td!(locale, staff.col_locked)}</dt>
                            <dd data-testid="locked">
                                {if s.locked { td!(locale, staff.locked).into_any() } else { "—".into_any() }}
                            </dd>
                        </dl>
                        <h2>{td!(locale, staff.help)}</h2>
                        <div class="staff-actions">
                            <ActionForm action=reset>
                                <input type="hidden" name="id" value=sid1 />
                                <button type="submit" class="button">{td!(locale, staff.reset_button)}</button>
                                <p class="hint">{td!(locale, staff.reset_hint)}</p>
                            </ActionForm>
                            <ActionForm action=unlock>
                                <input type="hidden" name="id" value=sid2 />
                                <button type="submit" class="button button--secondary">{td!(locale, staff.unlock_button)}</button>
                            </ActionForm>
                            <ActionForm action=clear>
                                <input type="hidden" name="id" value=sid3 />
                                <button type="submit" class="button button--secondary">{td!(locale, staff.clear_button)}</button>
                                <p class="hint">{td!(locale, staff.clear_hint)}</p>
                            </ActionForm>
                        </div>
                        <h2>{td!(locale, staff.history)}</h2>
                        <table class="table" data-testid="history">
                            <thead>
                                <tr>
                                    <th scope="col">{td!(locale, staff.col_when)}</th>
                                    <th scope="col">{td!(locale, staff.col_event)}</th>
                                    <th scope="col">{td!(locale, staff.col_by)}</th>
                                    <th scope="col">{td!(locale, staff.col_detail)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {detail
                                    .events
                                    .into_iter()
                                    .map(|e| {
                                        view! {
                                            <tr>
                                                <td>{when(Some(e.at))}</td>
                                                <td>{e.kind}</td>
                                                <td>{e.actor}</td>
                                                <td>{e.detail.unwrap_or_default()}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </StaffFrame>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// `/staff/import?batch=N`: the preview of an uploaded class list, then "Import".
#[component]
pub fn StaffImportPage() -> impl IntoView {
    let locale = page_locale();
    let query = use_query_map();
    let batch = move || {
        query
            .get()
            .get("batch")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let preview = Resource::new(batch, import_preview);
    let commit = ServerAction::<ImportCommit>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let preview = match preview.await {
                    Ok(p) => p,
                    Err(error) => return staff_error(error),
                };
                let count = |status: &str| preview.rows.iter().filter(|r| r.status == status).count();
                let (create, exists, duplicate, errors) =
                    (count("create"), count("exists"), count("duplicate"), count("error"));
                let importable = preview.file_problem.is_none() && errors == 0 && create > 0;
                let batch = preview.batch.to_string();
                view! {
                    <StaffFrame idle_timeout_secs=preview.idle_timeout_secs>
                        <h1>{td!(locale, staff.preview_heading)}</h1>
                        {preview
                            .file_problem
                            .clone()
                            .map(|problem| {
                                view! {
                                    <div class="error-summary" role="alert">
                                        <h2 class="error-summary__title">{td!(locale, staff.file_refused)}</h2>
                                        <p>{problem}</p>
                                    </div>
                                }
                            })}
                        <p data-testid="preview-summary">
                            {td!(
                                locale,
                                staff.preview_summary,
                                create = create,
                                exists = exists,
                                duplicate = duplicate,
                                errors = errors
                            )}
                        </p>
                        {(errors > 0)
                            .then(|| view! { <p class="field-error" role="alert">{td!(locale, staff.fix_errors)}</p> })}
                        <table class="table" data-testid="preview">
                            <thead>
                                <tr>
                                    <th scope="col">{td!(locale, staff.col_line)}</th>
                                    <th scope="col">{td!(locale, staff.col_name)}</th>
                                    <th scope="col">{td!(locale, staff.col_class)}</th>
                                    <th scope="col">{td!(locale, staff.col_login)}</th>
                                    <th scope="col">{td!(locale, staff.col_status)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {preview
                                    .rows
                                    .into_iter()
                                    .map(|r| {
                                        let status = r.status.clone();
                                        view! {
                                            <tr data-status=status>
                                                <td>{r.line}</td>
                                                <td>{r.full_name}</td>
                                                <td>{r.class}</td>
                                                <td>{r.login_id.unwrap_or_default()}</td>
                                                <td>{r.status}" "{r.note.unwrap_or_default()}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                        <div class="actions">
                            <a class="button button--secondary" href=Route::Staff.path()>{td!(locale, staff.back)}</a>
                            {importable
                                .then(|| {
                                    view! {
                                        <ActionForm action=commit>
                                            <input type="hidden" name="batch" value=batch.clone() />
                                            <button
                                                type="submit"
                                                class="button"
                                            >
                                                {td!(locale, staff.import_button, n = create)}
                                            </button>
                                        </ActionForm>
                                    }
                                })}
                        </div>
                    </StaffFrame>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// `/staff/letters?id=N`: one printable letter per student (right after creation or a
/// reset only: the passwords are never stored in clear).
#[component]
pub fn StaffLettersPage() -> impl IntoView {
    let locale = page_locale();
    let query = use_query_map();
    let id = move || {
        query
            .get()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let batch = Resource::new(id, letters);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let batch = match batch.await {
                    Ok(b) => b,
                    Err(error) => return staff_error(error),
                };
                let csv_href = Endpoint::LettersCsv.with(&[("id", &id().to_string())]);
                let count = batch.letters.len();
                let school = batch.school_name.clone();
                let address = batch.portal_address.clone();
                view! {
                    <StaffFrame idle_timeout_secs=240>
                        <div class="no-print">
                            <h1>{td!(locale, letters.heading, n = count)}</h1>
                            <p>{td!(locale, letters.intro)}</p>
                            <p class="actions">
                                <PrintButton label=td_string!(locale, letters.print).to_string() />
                                <a class="button button--secondary" href=csv_href download="accounts-report.csv">
                                    {td!(locale, letters.download)}
                                </a>
                            </p>
                        </div>
                        {batch
                            .letters
                            .into_iter()
                            .map(|l| {
                                let school = school.clone();
                                let address = address.clone();
                                let login = l.login_id.clone();
                                let (name, class) = (l.full_name.clone(), l.class.clone());
                                view! {
                                    <article class="letter" data-login=login>
                                        <p class="letter__school">{school}</p>
                                        <h2>{td!(locale, letters.to, name = name.clone(), class = class.clone())}</h2>
                                        <p>{td!(locale, letters.body)}</p>
                                        <dl class="letter__credentials">
                                            <dt>{td!(locale, letters.address)}</dt>
                                            <dd>{address}</dd>
                                            <dt>{td!(locale, letters.username)}</dt>
                                            <dd class="letter__login">{l.login_id}</dd>
                                            <dt>{td!(locale, letters.password)}</dt>
                                            <dd class="letter__password">{l.temporary_password}</dd>
                                        </dl>
                                        <h3>{td!(locale, letters.steps_heading)}</h3>
                                        <ol class="letter__steps">
                                            <li>{td!(locale, letters.step1)}</li>
                                            <li>{td!(locale, letters.step2)}</li>
                                            <li>{td!(locale, letters.step3)}</li>
                                            <li>{td!(locale, letters.step4)}</li>
                                            <li>{td!(locale, letters.step5)}</li>
                                            <li>{td!(locale, letters.step6)}</li>
                                        </ol>
                                        <p class="hint">{td!(locale, letters.keep_safe)}</p>
                                    </article>
                                }
                            })
                            .collect_view()}
                    </StaffFrame>
                }
                .into_any()
            })}
        </Suspense>
    }
}
