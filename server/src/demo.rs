//! Demo data for `server --demo`: Allen Tan from the seed guide and his classmates,
//! all on the seed's generic temporary password, seeded only into an empty database.

use domain::provisioning::Role;
use domain::secret::Secret;
use portal_core::service::{Portal, PracticeAccount, PracticeSeed};

pub use domain::practice::{
    PRACTICE_CLASS as DEMO_CLASS, PRACTICE_PASSWORD as DEMO_TEMPORARY_PASSWORD,
    PRACTICE_SCHOOL as DEMO_SCHOOL, PRACTICE_STAFF as DEMO_STAFF,
    PRACTICE_STUDENTS as DEMO_STUDENTS,
};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not seed the demo accounts: {0}")]
    Failed(String),
    #[error(
        "practice mode (--demo) refused: this database holds {0} account(s) outside the \
         practice school {school}. Practice mode runs only on a database of its own, \
         e.g. DATABASE_URL=sqlite:data/practice.db",
        school = DEMO_SCHOOL.0
    )]
    RealAccounts(i64),
}

/// Seeds the practice accounts that are missing; returns how many were created.
/// Refuses a database holding any account outside the practice school: practice mode
/// must never run on a real school's accounts.
pub async fn seed(portal: &Portal) -> Result<usize, DemoError> {
    let staff = std::iter::once(PracticeAccount {
        full_name: DEMO_STAFF.0,
        login_id: DEMO_STAFF.1,
        role: Role::Staff,
        class_name: None,
    });
    let students = DEMO_STUDENTS
        .iter()
        .map(|(full_name, login_id)| PracticeAccount {
            full_name,
            login_id,
            role: Role::Student,
            class_name: Some(DEMO_CLASS),
        });
    let accounts: Vec<PracticeAccount> = staff.chain(students).collect();
    match portal
        .seed_practice(
            DEMO_SCHOOL,
            &accounts,
            &Secret::new(DEMO_TEMPORARY_PASSWORD),
        )
        .await
        .map_err(|e| DemoError::Failed(e.to_string()))?
    {
        PracticeSeed::Created(created) => Ok(created),
        PracticeSeed::RealAccounts(outside) => Err(DemoError::RealAccounts(outside)),
    }
}
