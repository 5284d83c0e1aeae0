//! The two staff routes that are not server functions: uploading a class list (a
//! multipart form, so it works without JavaScript and takes a real file) and the
//! report of a batch as a CSV download.

use std::sync::Arc;

use app::ssr::context::RequestContext;
use axum::extract::{Multipart, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use domain::route::Route;
use portal_core::provisioning::{report_csv, ImportRow, ReportLine, RowOutcome};
use portal_core::service::Portal;
use proto::error::AppError;

/// The largest class list accepted (2,000 rows fit with room to spare).
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;

fn refuse(error: AppError) -> Response {
    crate::errors::route_error(error)
}

fn context(request: &Request) -> RequestContext {
    request
        .extensions()
        .get::<RequestContext>()
        .cloned()
        .unwrap_or_default()
}

/// `POST /staff/upload`: keeps the file for its preview, then shows the preview.
pub async fn upload(State(portal): State<Arc<Portal>>, request: Request) -> Response {
    let ctx = context(&request);
    let Some(session) = ctx.session else {
        return refuse(AppError::SessionEnded);
    };
    let scope = match portal.staff_scope(&session) {
        Ok(scope) => scope,
        Err(error) => return refuse(error),
    };
    let Ok(mut multipart) =
        <Multipart as axum::extract::FromRequest<()>>::from_request(request, &()).await
    else {
        return Redirect::to(&Route::Staff.with(&[("upload", "unreadable")])).into_response();
    };
    let mut file = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            match field.bytes().await {
                Ok(bytes) => file = Some(bytes),
                Err(_) => {
                    return Redirect::to(&Route::Staff.with(&[("upload", "too_large")]))
                        .into_response()
                }
            }
        }
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return Redirect::to(&Route::Staff.with(&[("upload", "missing")])).into_response();
    };
    match portal.upload_class_list(&scope, &file).await {
        Ok(batch) => {
            Redirect::to(&Route::StaffImport.with(&[("batch", &batch.to_string())])).into_response()
        }
        Err(error) => refuse(error),
    }
}

#[derive(serde::Deserialize)]
pub struct LettersQuery {
    id: i64,
}

/// `GET /staff/letters.csv?id=N`: the batch's report, for the session that made it.
pub async fn letters_csv(
    State(portal): State<Arc<Portal>>,
    Query(query): Query<LettersQuery>,
    request: Request,
) -> Response {
    let ctx = context(&request);
    let Some(session) = ctx.session else {
        return refuse(AppError::SessionEnded);
    };
    let scope = match portal.staff_scope(&session) {
        Ok(scope) => scope,
        Err(error) => return refuse(error),
    };
    let batch = match portal.open_letters(&session, &scope, query.id).await {
        Ok(batch) => batch,
        Err(error) => return refuse(error),
    };
    let lines: Vec<ReportLine> = batch
        .letters
        .into_iter()
        .map(|l| ReportLine {
            row: ImportRow {
                line: 0,
                full_name: l.full_name,
                class: l.class,
                login_id: None,
                register_no: None,
            },
            outcome: RowOutcome::Create {
                login_id: l.login_id,
            },
            temporary_password: Some(domain::secret::Secret::new(l.temporary_password)),
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"accounts-report.csv\"",
            ),
        ],
        report_csv(&lines),
    )
        .into_response()
}
