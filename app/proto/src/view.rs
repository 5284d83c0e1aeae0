//! What the journey pages draw: the server's answer to "where does this student stand".

use domain::answers::{ChosenQuestion, QuestionId, QUESTION_COUNT};
use domain::journey::JourneyState;
use domain::password::{PasswordOwner, PasswordPolicy};
use domain::provisioning::Role;
use serde::{Deserialize, Serialize};

/// What a journey page needs to draw itself for the signed-in student.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JourneyView {
    pub state: JourneyState,
    pub owner: PasswordOwner,
    pub policy: PasswordPolicy,
    pub idle_timeout_secs: i64,
    /// The student's own choices waiting for confirmation (shown on step 4 only).
    pub pending: Option<[ChosenQuestion; QUESTION_COUNT]>,
    /// The SSPR must ask for the password again before it changes anything.
    pub reauth_needed: bool,
    /// As stored with the account: staff see the staff tools' tile.
    pub role: Role,
    /// The portal page's tiles, in order: the seed's (where configuration points them)
    /// and the registered apps' for this role.
    pub tiles: Vec<AppTile>,
}

/// A tile on the portal page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppTile {
    pub kind: TileKind,
    pub href: String,
}

/// Which tile: the seed's have their texts in every language; a registered app's are
/// as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TileKind {
    Email,
    SelfService,
    StaffTools,
    LearningSpace,
    App {
        title: String,
        description: Option<String>,
    },
}

/// Where this browser's forgot-password attempt stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResetView {
    /// No attempt (or it expired): start by typing the login ID.
    Start,
    /// Answer these two of the three security questions.
    Questions { questions: [QuestionId; 2] },
    /// The answers matched: choose a new password.
    NewPassword {
        owner: PasswordOwner,
        policy: PasswordPolicy,
    },
}
