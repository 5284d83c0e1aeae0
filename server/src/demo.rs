//! Demo data for `server --demo`: Allen Tan from the seed guide and his classmates,
//! all on the seed's generic temporary password, seeded only into an empty database.

use app::domain::login_id::LoginId;
use app::domain::provisioning::Role;
use app::domain::secret::Secret;
use app::ssr::ports::NewAccount;
use app::ssr::service::Portal;

pub use app::practice::{
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
    let store = portal.store();
    let outside = store
        .count_accounts_outside(DEMO_SCHOOL.0)
        .await
        .map_err(|e| DemoError::Failed(e.to_string()))?;
    if outside > 0 {
        return Err(DemoError::RealAccounts(outside));
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
    let mut created = 0;
    for (full_name, login_id, role) in staff.chain(students) {
        // A practice database from an earlier version gets the accounts it lacks (the
        // sign-in page lists them all); the ones there are left as they are.
        let parsed = LoginId::parse(login_id)
            .ok_or_else(|| DemoError::Failed(format!("{login_id:?} is not a login ID")))?;
        if store
            .account_by_login(&parsed)
            .await
            .map_err(|e| DemoError::Failed(e.to_string()))?
            .is_some()
        {
            continue;
        }
        created += 1;
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
                    register_no: None,
                    temporary_expires_at: None,
                },
                now,
            )
            .await
            .map_err(|e| DemoError::Failed(e.to_string()))?;
    }
    Ok(created)
}
