//! The errors a server function may return to the browser. Each is safe to show:
//! internal causes are logged on the server and become [`AppError::Internal`].

use domain::answers::AnswerProblem;
use domain::password::Violation;
use serde::{Deserialize, Serialize};

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
    /// A staff form's input cannot be used; `reason` says why. Only fixed texts (and
    /// numbers): an error read back from the address can never carry free text.
    #[error("the input was not accepted: {reason}")]
    InputRefused { reason: InputProblem },
    /// Not allowed for this account's role (a student calling a staff function), or
    /// not one of this staff member's students.
    #[error("not allowed")]
    Forbidden,
    /// The right temporary password, but its time is over: ask for a new one.
    #[error("the temporary password has expired")]
    TemporaryExpired,
    /// A signed-in student typed a wrong current password (SSPR).
    #[error("the password is not correct")]
    WrongPassword,
    /// The SSPR needs the password typed again: the last sign-in is not recent.
    #[error("please sign in again")]
    ReauthRequired,
    /// Forgot password: the answers did not match (never which one).
    #[error("the answers do not match our records")]
    AnswersDoNotMatch,
    /// Forgot password: too many wrong answers for this login ID.
    #[error("password reset is blocked for now")]
    ResetBlocked { hours: u32 },
    /// Forgot password for a staff or HQ login ID (known from its domain, so this says
    /// nothing about whether the account exists): staff are reset by a person.
    #[error("staff accounts are not reset with security questions")]
    StaffResetRefused,
    /// Forgot password: the attempt expired or does not exist; start again.
    #[error("the password reset has ended")]
    ResetEnded,
    /// Not a login ID at all (its format, not whether it exists).
    #[error("not a login ID")]
    InvalidLoginId,
    /// The database does not answer; try again in a moment.
    #[error("the portal is temporarily unavailable")]
    Unavailable,
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
            AppError::WrongPassword
            | AppError::AnswersDoNotMatch
            | AppError::InvalidLoginId
            | AppError::InputRefused { .. } => 422,
            AppError::ReauthRequired | AppError::Forbidden | AppError::StaffResetRefused => 403,
            AppError::TemporaryExpired => 401,
            AppError::ResetBlocked { .. } => 429,
            AppError::ResetEnded => 410,
            AppError::AnswersRefused(_) | AppError::PasswordRefused(_) => 422,
            AppError::BadRequest => 400,
            AppError::Busy | AppError::Unavailable => 503,
            AppError::Internal => 500,
        }
    }

    /// How long a client should wait before trying again (`Retry-After`), for the
    /// errors that pass.
    pub fn retry_after_secs(&self) -> Option<u32> {
        match self {
            AppError::Busy => Some(2),
            AppError::Unavailable => Some(5),
            AppError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

/// How a server function's own failures (a missing or malformed argument) become an
/// [`AppError`]: only the Leptos crate needs this, so only its build (feature
/// `server_fn`) compiles it.
#[cfg(feature = "server_fn")]
impl server_fn::error::FromServerFnError for AppError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr;
        match value {
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_) => AppError::BadRequest,
            _ => AppError::Internal,
        }
    }
}

/// The longest full name a class list may hold.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest class name.
pub const MAX_CLASS_CHARS: usize = 20;
/// The longest register number (letters, digits or `-`).
pub const MAX_REGISTER_CHARS: usize = 12;

/// Why a staff form's input, or a row of a class list, cannot be used. Each is a fixed
/// text (English for now, like the staff screens), never text taken from the request:
/// a refusal travels back to the page in the address, where anyone could write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum InputProblem {
    #[error("the full name is empty")]
    NameEmpty,
    #[error("the full name is longer than {} characters", MAX_NAME_CHARS)]
    NameTooLong,
    #[error("looks like a spreadsheet formula (starts with = + - or @)")]
    Formula,
    #[error("the full name contains control characters")]
    ControlCharacters,
    #[error("the full name has no letters a login ID can be made of")]
    NoLoginLetters,
    #[error("the class is empty")]
    ClassEmpty,
    #[error(
        "the class must be at most {} letters, digits, spaces or - / .",
        MAX_CLASS_CHARS
    )]
    ClassInvalid,
    #[error(
        "the register number must be at most {} letters, digits or -",
        MAX_REGISTER_CHARS
    )]
    RegisterInvalid,
    #[error("the login ID column does not hold a student login ID (…@students.edu.sg)")]
    NotAStudentLoginId,
    #[error("the login ID is already in use")]
    LoginIdInUse,
    #[error("This student is already in this class. To give a new password, use \"Reset to a new temporary password\" on the student's page.")]
    AlreadyInClass,
    #[error("the generic temporary password is a common password; choose another")]
    CommonGenericPassword,
}
