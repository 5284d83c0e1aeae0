//! What the staff pages show: shared by the server functions and the pages.

use serde::{Deserialize, Serialize};

/// Where a student stands in onboarding (the class view's columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    NotStarted,
    QuestionsSet,
    PasswordChanged,
    Done,
}

impl Stage {
    pub fn of(temporary_password: bool, questions_set: bool) -> Stage {
        match (temporary_password, questions_set) {
            (true, false) => Stage::NotStarted,
            (true, true) => Stage::QuestionsSet,
            (false, false) => Stage::PasswordChanged,
            (false, true) => Stage::Done,
        }
    }

    pub const ALL: [Stage; 4] = [
        Stage::NotStarted,
        Stage::QuestionsSet,
        Stage::PasswordChanged,
        Stage::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::NotStarted => "not_started",
            Stage::QuestionsSet => "questions_set",
            Stage::PasswordChanged => "password_changed",
            Stage::Done => "done",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentRow {
    pub id: i64,
    pub login_id: String,
    pub full_name: String,
    pub class: String,
    pub stage: Stage,
    /// Unix seconds of the last sign-in.
    pub last_sign_in: Option<i64>,
    pub locked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassCount {
    pub class: String,
    pub total: usize,
    pub done: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffHome {
    pub staff_name: String,
    pub school_code: String,
    pub school_name: String,
    pub classes: Vec<ClassCount>,
    pub idle_timeout_secs: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassProgress {
    pub class: String,
    pub students: Vec<StudentRow>,
    /// How many students are at each [`Stage::ALL`] stage.
    pub counts: [usize; 4],
    pub idle_timeout_secs: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    pub at: i64,
    pub kind: String,
    pub actor: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentDetail {
    pub student: StudentRow,
    pub events: Vec<EventLine>,
    pub idle_timeout_secs: i64,
}

/// One row of an import preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub line: usize,
    pub full_name: String,
    pub class: String,
    pub login_id: Option<String>,
    /// "create", "exists", "duplicate" or "error".
    pub status: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub batch: i64,
    /// Why the whole file cannot be read, if it cannot.
    pub file_problem: Option<String>,
    pub rows: Vec<PreviewRow>,
    pub idle_timeout_secs: i64,
}

/// A parent letter: what the student needs for the first sign-in.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Letter {
    pub login_id: String,
    pub full_name: String,
    pub class: String,
    pub temporary_password: String,
}

impl std::fmt::Debug for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Letter")
            .field("login_id", &self.login_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LetterBatch {
    pub school_name: String,
    pub letters: Vec<Letter>,
    /// Where parents go: the portal's own address, as this request reached it.
    #[serde(default)]
    pub portal_address: String,
}
