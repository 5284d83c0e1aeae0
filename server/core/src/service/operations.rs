//! What the command line, the practice seed and the operations endpoints need, as
//! services: they never reach the store themselves, so every change they make goes
//! through the same rules and the same audit trail as the web's.

use super::{internal, Portal};
use crate::ports::{Account, AccountId, AuditEvent, NewAccount};
use domain::audit::AuditKind;
use domain::login_id::LoginId;
use domain::provisioning::Role;
use domain::secret::Secret;
use proto::error::AppError;

/// One account the practice seed puts in place.
pub struct PracticeAccount<'a> {
    pub full_name: &'a str,
    pub login_id: &'a str,
    pub role: Role,
    pub class_name: Option<&'a str>,
}

/// What seeding the practice school did.
#[derive(Debug, PartialEq, Eq)]
pub enum PracticeSeed {
    /// How many accounts it created (0: they were all there).
    Created(usize),
    /// The database holds this many accounts outside the practice school: nothing done.
    RealAccounts(i64),
}

impl Portal {
    /// The account with this login ID, if any.
    pub async fn find_account(&self, login_id: &LoginId) -> Result<Option<Account>, AppError> {
        self.store
            .account_by_login(login_id)
            .await
            .map_err(internal)
    }

    /// The account's audit trail, oldest first.
    pub async fn audit_trail(&self, account: AccountId) -> Result<Vec<AuditEvent>, AppError> {
        self.store.audit_history(account).await.map_err(internal)
    }

    /// The school's name, if the code is a school's.
    pub async fn school_name(&self, code: &str) -> Result<Option<String>, AppError> {
        self.store.school_name(code).await.map_err(internal)
    }

    /// Adds a school; `false` if one has the code already. Audited (`school_added`).
    pub async fn add_school(&self, code: &str, name: &str, actor: &str) -> Result<bool, AppError> {
        let added = self.store.add_school(code, name).await.map_err(internal)?;
        if added {
            self.audit_as(
                None,
                actor,
                AuditKind::SchoolAdded,
                None,
                Some(&format!("{code} ({name})")),
            )
            .await;
        }
        Ok(added)
    }

    /// Whether the database answers (`/readyz`): a `SELECT 1`, no table read.
    pub async fn ready(&self) -> Result<(), AppError> {
        self.store.ping().await.map(|_| ()).map_err(internal)
    }

    /// Puts the practice school and its accounts in place, each on `password` (which
    /// does not expire), creating only those missing. Refuses, changing nothing, a
    /// database holding any account outside the practice school.
    pub async fn seed_practice(
        &self,
        school: (&str, &str),
        accounts: &[PracticeAccount<'_>],
        password: &Secret,
    ) -> Result<PracticeSeed, AppError> {
        let outside = self
            .store
            .count_accounts_outside(school.0)
            .await
            .map_err(internal)?;
        if outside > 0 {
            return Ok(PracticeSeed::RealAccounts(outside));
        }
        self.store
            .add_school(school.0, school.1)
            .await
            .map_err(internal)?;
        let now = self.clock.now();
        let mut created = 0;
        for account in accounts {
            let login_id = LoginId::parse(account.login_id).ok_or(AppError::InvalidLoginId)?;
            // A practice database from an earlier version gets the accounts it lacks
            // (the sign-in page lists them all); the ones there are left as they are.
            if self.find_account(&login_id).await?.is_some() {
                continue;
            }
            let password_hash = self
                .hasher
                .hash(password)
                .await
                .map_err(super::hash_error)?;
            self.store
                .insert_account(
                    NewAccount {
                        login_id: login_id.to_string(),
                        full_name: account.full_name.to_string(),
                        password_hash,
                        temporary_password: true,
                        role: account.role,
                        school_code: Some(school.0.to_string()),
                        class_name: account.class_name.map(str::to_string),
                        register_no: None,
                        temporary_expires_at: None,
                    },
                    now,
                )
                .await
                .map_err(internal)?;
            created += 1;
        }
        Ok(PracticeSeed::Created(created))
    }
}
