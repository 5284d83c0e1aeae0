//! Server functions: thin wrappers that read the request's session, call a service,
//! set the cookie and say where the browser goes next. The same functions serve the
//! hydrated app (fetch) and plain HTML forms (POST, then a redirect).

pub mod error;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::answers::{ChosenQuestion, QUESTION_COUNT};
use crate::domain::journey::JourneyState;
#[cfg(feature = "ssr")]
use crate::domain::journey::Step;
use crate::domain::password::{PasswordOwner, PasswordPolicy};
use crate::domain::secret::Secret;
use error::AppError;

/// What a journey page needs to draw itself for the signed-in student.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JourneyView {
    pub state: JourneyState,
    pub owner: PasswordOwner,
    pub policy: PasswordPolicy,
    pub idle_timeout_secs: i64,
    /// The student's own choices waiting for confirmation (shown on step 4 only).
    pub pending: Option<[ChosenQuestion; QUESTION_COUNT]>,
}

#[cfg(feature = "ssr")]
mod server {
    use std::sync::Arc;

    use leptos::prelude::*;

    use super::AppError;
    use crate::ssr::context::RequestContext;
    use crate::ssr::service::{ActiveSession, Portal};

    pub fn portal() -> Result<Arc<Portal>, AppError> {
        use_context::<Arc<Portal>>().ok_or(AppError::Internal)
    }

    pub fn request_context() -> RequestContext {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestContext>().cloned())
            .unwrap_or_default()
    }

    pub fn session() -> Result<ActiveSession, AppError> {
        request_context().session.ok_or(AppError::SessionEnded)
    }

    pub fn set_cookie(value: String) {
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(&value),
        ) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }
}

/// Step 1: sign in with the login ID and (temporary) password.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(username: String, password: Secret) -> Result<(), AppError> {
    use crate::ssr::context::session_cookie;
    let portal = server::portal()?;
    let context = server::request_context();
    let (token, step) = portal.sign_in(&username, &password, context.client).await?;
    server::set_cookie(session_cookie(&token, portal.settings()));
    leptos_axum::redirect(step.path());
    Ok(())
}

/// The signed-in student's journey: which step they are on and what the page needs.
#[server(prefix = "/api", endpoint = "journey")]
pub async fn journey() -> Result<JourneyView, AppError> {
    let portal = server::portal()?;
    let session = server::session()?;
    Ok(JourneyView {
        state: session.journey(),
        owner: session.owner(),
        policy: portal.settings().policy,
        idle_timeout_secs: portal.settings().idle_timeout_secs,
        pending: session.pending(),
    })
}

/// Step 3: the three chosen questions and their answers, kept for review.
#[server(prefix = "/api", endpoint = "setup_questions")]
#[allow(clippy::too_many_arguments)]
pub async fn setup_questions(
    question1: String,
    answer1: Secret,
    question2: String,
    answer2: Secret,
    question3: String,
    answer3: Secret,
) -> Result<(), AppError> {
    let portal = server::portal()?;
    let session = server::session()?;
    let questions = [question1, question2, question3];
    let answers = [answer1, answer2, answer3].map(|a| a.expose().to_string());
    portal
        .submit_questions(&session, &questions, &answers)
        .await?;
    leptos_axum::redirect(Step::ConfirmQuestions.path());
    Ok(())
}

/// Step 4: "Confirm Security Answers".
#[server(prefix = "/api", endpoint = "confirm_questions")]
pub async fn confirm_questions() -> Result<(), AppError> {
    let portal = server::portal()?;
    let session = server::session()?;
    portal.confirm_questions(&session).await?;
    leptos_axum::redirect(Step::QuestionsSaved.path());
    Ok(())
}

/// Step 6: "Change Password". On success the session is replaced by a new one.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    new_password: Secret,
    confirm_password: Secret,
) -> Result<(), AppError> {
    use crate::ssr::context::session_cookie;
    let portal = server::portal()?;
    let session = server::session()?;
    let token = portal
        .change_password(&session, &new_password, &confirm_password)
        .await?;
    server::set_cookie(session_cookie(&token, portal.settings()));
    leptos_axum::redirect(Step::PasswordChanged.path());
    Ok(())
}

/// "Sign out": ends the session on the server and clears the cookie.
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr::context::clear_session_cookie;
    let portal = server::portal()?;
    if let Ok(session) = server::session() {
        portal.sign_out(&session).await?;
    }
    server::set_cookie(clear_session_cookie(portal.settings()));
    leptos_axum::redirect(Step::SignIn.path());
    Ok(())
}
