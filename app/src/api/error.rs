//! The errors a server function may return to the browser. Each is safe to show:
//! internal causes are logged on the server and become [`AppError::Internal`].

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::answers::AnswerProblem;
use crate::domain::password::Violation;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Unknown user, wrong password or locked account: always this one message, with
    /// the lockout rule (the same for everyone, so it tells nothing about the account).
    #[error("invalid username or password")]
    InvalidCredentials {
        max_failures: u32,
        lock_minutes: u32,
    },
    /// Too many sign-in attempts from this network address; slow down.
    #[error("too many attempts from this address")]
    Throttled { retry_after_secs: u32 },
    /// Not signed in, or the session ended (idle or absolute timeout, signed out).
    #[error("the session has ended")]
    SessionEnded,
    /// The request belongs to another step of the journey; go to `path` instead.
    #[error("this step is not available now")]
    WrongStep { path: String },
    #[error("the security answers were not accepted")]
    AnswersRefused(Vec<AnswerProblem>),
    #[error("the new password was not accepted")]
    PasswordRefused(Vec<Violation>),
    /// The server is at its hashing capacity; try again in a moment.
    #[error("the server is busy")]
    Busy,
    /// The request itself was malformed (missing or wrongly-typed fields).
    #[error("the request was not understood")]
    BadRequest,
    #[error("something went wrong on the server")]
    Internal,
}

impl AppError {
    /// The HTTP status the server answers with for this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::InvalidCredentials { .. } | AppError::SessionEnded => 401,
            AppError::Throttled { .. } => 429,
            AppError::WrongStep { .. } => 409,
            AppError::AnswersRefused(_) | AppError::PasswordRefused(_) => 422,
            AppError::BadRequest => 400,
            AppError::Busy => 503,
            AppError::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_) => AppError::BadRequest,
            _ => AppError::Internal,
        }
    }
}
