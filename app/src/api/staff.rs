//! Server functions of the staff tools. Each checks the role stored with the signed-in
//! account (and the school) on the server before it reads or changes anything.

use leptos::prelude::*;

use super::error::AppError;
// Qualified: each server function's own struct takes the PascalCase name.
use super::staff_types as t;

#[cfg(feature = "ssr")]
fn scope() -> Result<
    (
        std::sync::Arc<portal_core::service::Portal>,
        portal_core::service::ActiveSession,
        portal_core::staff::StaffScope,
    ),
    AppError,
> {
    let portal = super::server::portal()?;
    let session = super::server::session()?;
    let scope = portal.staff_scope(&session)?;
    Ok((portal, session, scope))
}

/// The letters of a batch (what a reset, a new student or an import leads to).
#[cfg(feature = "ssr")]
fn letters_page(batch: impl std::fmt::Display) -> String {
    crate::domain::route::Route::StaffLetters.with(&[("id", &batch.to_string())])
}

/// A student's page saying what was just done.
#[cfg(feature = "ssr")]
fn student_page(id: i64, done: &str) -> String {
    crate::domain::route::Route::StaffStudent.with(&[("id", &id.to_string()), ("done", done)])
}

#[server(prefix = "/api", endpoint = "staff_home")]
pub async fn staff_home() -> Result<t::StaffHome, AppError> {
    let (portal, _, scope) = scope()?;
    portal.staff_home(&scope).await
}

#[server(prefix = "/api", endpoint = "class_progress")]
pub async fn class_progress(class: String) -> Result<t::ClassProgress, AppError> {
    let (portal, _, scope) = scope()?;
    portal.class_progress(&scope, &class).await
}

#[server(prefix = "/api", endpoint = "find_students")]
pub async fn find_students(query: String) -> Result<Vec<t::StudentRow>, AppError> {
    let (portal, _, scope) = scope()?;
    portal.find_students(&scope, &query).await
}

#[server(prefix = "/api", endpoint = "student_detail")]
pub async fn student_detail(id: i64) -> Result<t::StudentDetail, AppError> {
    let (portal, _, scope) = scope()?;
    portal.student_detail(&scope, id).await
}

/// "Reset to a new temporary password": then the new letter.
#[server(prefix = "/api", endpoint = "staff_reset")]
pub async fn staff_reset(id: i64) -> Result<(), AppError> {
    let (portal, session, scope) = scope()?;
    let letters = portal.staff_reset(&session, &scope, id).await?;
    leptos_axum::redirect(&letters_page(letters));
    Ok(())
}

/// "Create one student" from the form: then the student's letter.
#[server(prefix = "/api", endpoint = "create_student")]
pub async fn create_student(full_name: String, class: String) -> Result<(), AppError> {
    let (portal, session, scope) = scope()?;
    let letters = portal
        .create_student(&session, &scope, &full_name, &class)
        .await?;
    leptos_axum::redirect(&letters_page(letters));
    Ok(())
}

#[server(prefix = "/api", endpoint = "staff_unlock")]
pub async fn staff_unlock(id: i64) -> Result<(), AppError> {
    let (portal, _, scope) = scope()?;
    portal.staff_unlock(&scope, id).await?;
    leptos_axum::redirect(&student_page(id, "unlocked"));
    Ok(())
}

#[server(prefix = "/api", endpoint = "staff_clear_answers")]
pub async fn staff_clear_answers(id: i64) -> Result<(), AppError> {
    let (portal, _, scope) = scope()?;
    portal.staff_clear_answers(&scope, id).await?;
    leptos_axum::redirect(&student_page(id, "cleared"));
    Ok(())
}

#[server(prefix = "/api", endpoint = "import_preview")]
pub async fn import_preview(batch: i64) -> Result<t::ImportPreview, AppError> {
    let (portal, _, scope) = scope()?;
    portal.import_preview(&scope, batch).await
}

#[server(prefix = "/api", endpoint = "import_commit")]
pub async fn import_commit(batch: i64) -> Result<(), AppError> {
    let (portal, session, scope) = scope()?;
    let letters = portal.import_commit(&session, &scope, batch).await?;
    leptos_axum::redirect(&letters_page(letters));
    Ok(())
}

#[server(prefix = "/api", endpoint = "letters")]
pub async fn letters(id: i64) -> Result<t::LetterBatch, AppError> {
    let (portal, session, scope) = scope()?;
    let mut batch = portal.open_letters(&session, &scope, id).await?;
    if let Some(url) = &portal.settings().public_url {
        batch.portal_address = url.clone();
        return Ok(batch);
    }
    let host = use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_default();
    let scheme = if portal.settings().secure_cookies {
        "https"
    } else {
        "http"
    };
    batch.portal_address = format!("{scheme}://{host}/");
    Ok(batch)
}
