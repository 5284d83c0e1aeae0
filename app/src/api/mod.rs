//! Server functions: thin wrappers that read the request's session, call a service,
//! set the cookie and say where the browser goes next. The pages' forms post to them
//! (then a redirect: the next step, or back with the error); the pages also call the
//! read functions while rendering on the server, and the idle countdown calls
//! `keep_alive` with `fetch`.

pub mod staff;
/// The errors a server function may return (the crate `app/proto`).
pub use proto::error;
/// What the staff pages show (the crate `app/proto`).
pub use proto::staff as staff_types;
pub use proto::view::{AppTile, JourneyView, ResetView, TileKind};

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::domain::journey::Step;
use crate::domain::secret::Secret;
use error::AppError;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use std::sync::Arc;

    use leptos::prelude::*;

    use super::AppError;
    use crate::ssr::context::RequestContext;
    use portal_core::service::{ActiveSession, Portal};

    pub fn portal() -> Result<Arc<Portal>, AppError> {
        use_context::<Arc<Portal>>().ok_or(AppError::Internal)
    }

    pub fn request_context() -> RequestContext {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestContext>().cloned())
            .unwrap_or_default()
    }

    /// Reads a part of the request's context in place (no copy of the request or the
    /// session): what every page render needs.
    pub fn read_request_context<R>(read: impl FnOnce(&RequestContext) -> R) -> Option<R> {
        leptos::prelude::with_context::<http::request::Parts, _>(|parts| {
            parts.extensions.get::<RequestContext>().map(read)
        })
        .flatten()
    }

    pub fn session() -> Result<ActiveSession, AppError> {
        request_context().session.ok_or(AppError::SessionEnded)
    }

    pub fn reset_token() -> Option<String> {
        let portal = portal().ok()?;
        use_context::<http::request::Parts>().and_then(|parts| {
            crate::ssr::context::reset_token_from_headers(&parts.headers, portal.settings())
        })
    }

    /// A refused new password answered to a plain form: the browser goes back to the
    /// page with the error in the address (leptos' `__err`), and browsers keep
    /// addresses in their history. The rules broken (a length, the character types, the
    /// part of the name found: properties of the password typed) go into a one-minute
    /// cookie instead, which the page reads and removes ([`take_refusal`]); the address
    /// only says "refused". Answers to `fetch` (JSON) keep the whole list in their body.
    pub fn keep_refusal_off_the_address(error: AppError) -> AppError {
        use base64::Engine as _;
        let AppError::PasswordRefused(list) = &error else {
            return error;
        };
        let to_a_page = use_context::<http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
        });
        if !to_a_page || list.is_empty() {
            return error;
        }
        let (Ok(portal), Ok(json)) = (portal(), serde_json::to_vec(list)) else {
            return error;
        };
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        set_cookie(crate::ssr::context::refusal_cookie(
            &value,
            portal.settings(),
        ));
        AppError::PasswordRefused(Vec::new())
    }

    /// The refusal [`keep_refusal_off_the_address`] put in its cookie, if this request
    /// carries one; the cookie is removed with this page's answer.
    pub fn take_refusal() -> Option<Vec<crate::domain::password::Violation>> {
        use crate::ssr::context::{clear_refusal_cookie, cookie_value, refusal_cookie_name};
        use base64::Engine as _;
        let portal = portal().ok()?;
        let parts = use_context::<http::request::Parts>()?;
        let value = cookie_value(&parts.headers, refusal_cookie_name(portal.settings()))?;
        set_cookie(clear_refusal_cookie(portal.settings()));
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .ok()?;
        serde_json::from_slice(&json).ok()
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
    let (token, step, was_reset) = portal.sign_in(&username, &password, context.client).await?;
    server::set_cookie(session_cookie(&token, portal.settings()));
    if was_reset {
        // "Your password was reset": said once, at this sign-in.
        leptos_axum::redirect(&format!("{}?reset=1", step.path()));
    } else {
        leptos_axum::redirect(step.path());
    }
    Ok(())
}

/// The signed-in student's journey: which step they are on and what the page needs.
#[server(prefix = "/api", endpoint = "journey")]
pub async fn journey() -> Result<JourneyView, AppError> {
    let portal = server::portal()?;
    let session = server::session()?;
    let state = session.journey();
    // The tiles are read only for the portal page (the journey's last step).
    let tiles = if crate::domain::journey::redirect_for(state, crate::domain::journey::Step::Portal)
        .is_none()
    {
        portal_tiles(&portal, session.account.role).await?
    } else {
        Vec::new()
    };
    Ok(JourneyView {
        state,
        owner: session.owner(),
        policy: portal.settings().policy,
        idle_timeout_secs: portal.settings().idle_timeout_secs,
        pending: session.pending(),
        reauth_needed: portal.require_recent_sign_in(&session).is_err(),
        role: session.account.role,
        tiles,
    })
}

/// The portal page's tiles for `role`: the seed's, then the registered apps'.
#[cfg(feature = "ssr")]
async fn portal_tiles(
    portal: &portal_core::service::Portal,
    role: crate::domain::provisioning::Role,
) -> Result<Vec<proto::AppTile>, AppError> {
    use crate::domain::journey::Step;
    use crate::domain::route::Route;
    use proto::{AppTile, TileKind};
    let settings = portal.settings();
    let mut tiles = Vec::new();
    if !settings.email_url.is_empty() {
        tiles.push(AppTile {
            kind: TileKind::Email,
            href: settings.email_url.clone(),
        });
    }
    tiles.push(AppTile {
        kind: TileKind::SelfService,
        href: Route::Step(Step::SsprHome).path().to_string(),
    });
    if role != crate::domain::provisioning::Role::Student {
        tiles.push(AppTile {
            kind: TileKind::StaffTools,
            href: Route::Staff.path().to_string(),
        });
    }
    if !settings.learning_space_url.is_empty() {
        tiles.push(AppTile {
            kind: TileKind::LearningSpace,
            href: settings.learning_space_url.clone(),
        });
    }
    for client in portal.tiles_for(role).await? {
        if let (Some(tile), Some(href)) = (client.tile, client.launch_uri) {
            tiles.push(AppTile {
                kind: TileKind::App {
                    title: tile.title,
                    description: tile.description,
                },
                href,
            });
        }
    }
    Ok(tiles)
}

/// "Stay signed in": the request itself restarts the session's idle clock. Returns the
/// idle timeout in seconds.
#[server(prefix = "/api", endpoint = "keep_alive")]
pub async fn keep_alive() -> Result<i64, AppError> {
    let portal = server::portal()?;
    server::session()?;
    Ok(portal.settings().idle_timeout_secs)
}

/// Forgot password, first screen: the login ID.
#[server(prefix = "/api", endpoint = "start_reset")]
pub async fn start_reset(username: String) -> Result<(), AppError> {
    use crate::ssr::context::reset_cookie;
    let portal = server::portal()?;
    let context = server::request_context();
    let token = portal.start_reset(&username, context.client).await?;
    server::set_cookie(reset_cookie(&token, portal.settings()));
    leptos_axum::redirect(crate::domain::route::Route::ForgotQuestions.path());
    Ok(())
}

/// Where this browser's forgot-password attempt stands.
#[server(prefix = "/api", endpoint = "reset_state")]
pub async fn reset_state() -> Result<ResetView, AppError> {
    let portal = server::portal()?;
    portal.reset_view(server::reset_token().as_deref()).await
}

/// Forgot password, second screen: the answers to the two questions asked.
#[server(prefix = "/api", endpoint = "answer_reset")]
pub async fn answer_reset(answer1: Secret, answer2: Secret) -> Result<(), AppError> {
    let portal = server::portal()?;
    let context = server::request_context();
    portal
        .answer_reset(
            server::reset_token().as_deref(),
            [answer1, answer2],
            context.client,
        )
        .await?;
    leptos_axum::redirect(crate::domain::route::Route::ForgotNewPassword.path());
    Ok(())
}

/// Forgot password, third screen: the new password. Nobody is signed in by it.
#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(
    new_password: Secret,
    confirm_password: Secret,
) -> Result<(), AppError> {
    use crate::ssr::context::clear_reset_cookie;
    let portal = server::portal()?;
    let context = server::request_context();
    portal
        .reset_password(
            server::reset_token().as_deref(),
            &new_password,
            &confirm_password,
            context.client,
        )
        .await
        .map_err(server::keep_refusal_off_the_address)?;
    server::set_cookie(clear_reset_cookie(portal.settings()));
    leptos_axum::redirect(crate::domain::route::Route::ForgotDone.path());
    Ok(())
}

/// Only the SSPR's own pages are places to go back to after signing in again.
#[cfg(feature = "ssr")]
fn sspr_next(next: &str) -> &'static str {
    if next == Step::SsprPassword.path() {
        Step::SsprPassword.path()
    } else {
        Step::SsprHome.path()
    }
}

/// The SSPR's "Please Sign in": the password again before a change.
#[server(prefix = "/api", endpoint = "sspr_sign_in")]
pub async fn sspr_sign_in(password: Secret, next: String) -> Result<(), AppError> {
    let portal = server::portal()?;
    let session = server::session()?;
    portal.sspr_sign_in(&session, &password).await?;
    leptos_axum::redirect(sspr_next(&next));
    Ok(())
}

/// SSPR: "Set up security questions again" opens the set-up screen.
#[server(prefix = "/api", endpoint = "redo_questions")]
pub async fn redo_questions() -> Result<(), AppError> {
    let portal = server::portal()?;
    let session = server::session()?;
    portal.start_redo_questions(&session).await?;
    leptos_axum::redirect(Step::SetupQuestions.path());
    Ok(())
}

/// "Cancel" while setting up the questions again: the redo ends (a POST, so it
/// really ends on the server), and the SSPR's home page comes back.
#[server(prefix = "/api", endpoint = "cancel_redo_questions")]
pub async fn cancel_redo_questions() -> Result<(), AppError> {
    let portal = server::portal()?;
    let session = server::session()?;
    portal.cancel_redo_questions(&session).await?;
    leptos_axum::redirect(Step::SsprHome.path());
    Ok(())
}

/// SSPR "Change Password": current password, then the new one.
#[server(prefix = "/api", endpoint = "sspr_change_password")]
pub async fn sspr_change_password(
    current_password: Secret,
    new_password: Secret,
    confirm_password: Secret,
) -> Result<(), AppError> {
    use crate::ssr::context::session_cookie;
    let portal = server::portal()?;
    let session = server::session()?;
    let token = portal
        .sspr_change_password(
            &session,
            &current_password,
            &new_password,
            &confirm_password,
        )
        .await
        .map_err(server::keep_refusal_off_the_address)?;
    server::set_cookie(session_cookie(&token, portal.settings()));
    // The same success screen as onboarding, without the step count.
    leptos_axum::redirect(&format!("{}?from=sspr", Step::PasswordChanged.path()));
    Ok(())
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
        .await
        .map_err(server::keep_refusal_off_the_address)?;
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
    // An app's sign-in request waiting for this browser is forgotten too: the next
    // person at this computer signs in to the portal, not to that app.
    server::set_cookie(crate::ssr::context::clear_return_cookie(portal.settings()));
    leptos_axum::redirect(Step::SignIn.path());
    Ok(())
}

/// "Reset this practice account" (practice mode only): the account goes back to the
/// start of the journey and the browser to the sign-in page.
#[server(prefix = "/api", endpoint = "reset_practice_account")]
pub async fn reset_practice_account() -> Result<(), AppError> {
    use crate::ssr::context::clear_session_cookie;
    let portal = server::portal()?;
    let session = server::session()?;
    portal.restart_practice(&session).await?;
    server::set_cookie(clear_session_cookie(portal.settings()));
    leptos_axum::redirect(&crate::domain::route::Route::SIGN_IN.with(&[("practice_reset", "1")]));
    Ok(())
}
