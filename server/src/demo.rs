//! Demo data for `server --demo`: Allen Tan from the seed guide and his classmates,
//! all on the seed's generic temporary password, seeded only into an empty database.

use app::domain::provisioning::Role;
use app::domain::secret::Secret;
use app::ssr::ports::NewAccount;
use app::ssr::service::Portal;

/// The seed guide's default generic password.
pub const DEMO_TEMPORARY_PASSWORD: &str = "2024Kmps";

/// (full name, login ID) of the demo class.
pub const DEMO_STUDENTS: &[(&str, &str)] = &[
    ("Allen Tan", "allen_tan@students.edu.sg"),
    (
        "Nur Aisyah binte Rahman",
        "nur_aisyah_rahman@students.edu.sg",
    ),
    ("Lim Wei Ling", "lim_wei_ling@students.edu.sg"),
    ("Priya d/o Subramaniam", "priya_subramaniam@students.edu.sg"),
    (
        "Muhammad Hafiz bin Ismail",
        "muhammad_hafiz_ismail@students.edu.sg",
    ),
    ("Chloe Ng", "chloe_ng@students.edu.sg"),
    ("Tan Jun Jie", "tan_jun_jie@students.edu.sg"),
    (
        "Siti Nurhaliza binte Osman",
        "siti_nurhaliza_osman@students.edu.sg",
    ),
    ("Arjun s/o Kumar", "arjun_kumar@students.edu.sg"),
    ("Wong Mei Xin", "wong_mei_xin@students.edu.sg"),
    ("Farah binte Abdullah", "farah_abdullah@students.edu.sg"),
    ("Ethan Lee", "ethan_lee@students.edu.sg"),
];

/// The demo school, and the class every demo student is in.
pub const DEMO_SCHOOL: (&str, &str) = ("DEMO", "Demo Primary School");
pub const DEMO_CLASS: &str = "P5 Kindness";
/// A teacher of the demo school, on the same temporary password.
pub const DEMO_STAFF: (&str, &str) = ("Tan Mei Hua", "tan_mei_hua@schools.gov.sg");

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not seed the demo accounts: {0}")]
    Failed(String),
}

/// Seeds the demo class if the database holds no account; returns how many were created.
pub async fn seed(portal: &Portal) -> Result<usize, DemoError> {
    let store = portal.store();
    let existing = store
        .count_accounts()
        .await
        .map_err(|e| DemoError::Failed(e.to_string()))?;
    if existing > 0 {
        return Ok(0);
    }
    let now = portal.now();
    let password = Secret::new(DEMO_TEMPORARY_PASSWORD);
    store
        .add_school(DEMO_SCHOOL.0, DEMO_SCHOOL.1)
        .await
        .map_err(|e| DemoError::Failed(e.to_string()))?;
    let staff = std::iter::once((DEMO_STAFF.0, DEMO_STAFF.1, Role::Staff));
    let students = DEMO_STUDENTS
        .iter()
        .map(|(name, login)| (*name, *login, Role::Student));
    for (full_name, login_id, role) in staff.chain(students) {
        let password_hash = portal
            .hasher()
            .hash(&password)
            .await
            .map_err(|e| DemoError::Failed(e.to_string()))?;
        store
            .insert_account(
                NewAccount {
                    login_id: login_id.to_string(),
                    full_name: full_name.to_string(),
                    password_hash,
                    temporary_password: true,
                    role,
                    school_code: Some(DEMO_SCHOOL.0.to_string()),
                    class_name: (role == Role::Student).then(|| DEMO_CLASS.to_string()),
                    // The demo's generic password does not expire.
                    temporary_expires_at: None,
                },
                now,
            )
            .await
            .map_err(|e| DemoError::Failed(e.to_string()))?;
    }
    Ok(DEMO_STUDENTS.len() + 1)
}
