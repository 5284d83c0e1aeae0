//! The staff tools' use cases: who may use them (the role stored with the account, a
//! finished first-login journey, and only their own school's students), the class
//! view, helping a stuck student, and letters sealed to the staff member's session.

use super::ports::{Account, StudentStatus};
use super::provisioning::{parse_class_list, RowOutcome};
use super::service::{internal, ActiveSession, Portal};
use domain::journey::{current_step, Step};
use domain::provisioning::Role;
use proto::error::{AppError, InputProblem};
use proto::staff::{
    ClassCount, ClassProgress, EventLine, ImportPreview, Letter, LetterBatch, PreviewRow,
    StaffHome, Stage, StudentDetail, StudentRow,
};

/// Letters stay readable for an hour after they were made.
const LETTERS_SECS: i64 = 3600;
const LETTERS_PURPOSE: &str = "letters";

/// A staff member and the school they manage.
#[derive(Debug, Clone)]
pub struct StaffScope {
    pub staff: Account,
    pub school: String,
}

fn row_of(s: &StudentStatus, now: i64) -> StudentRow {
    StudentRow {
        id: s.id,
        login_id: s.login_id.clone(),
        full_name: s.full_name.clone(),
        class: s.class_name.clone().unwrap_or_default(),
        stage: Stage::of(s.temporary_password, s.questions_set),
        last_sign_in: s.last_sign_in_at,
        locked: s.locked_until.is_some_and(|u| u > now),
    }
}

impl Portal {
    /// Staff tools need a staff or HQ account (as stored), with the journey finished
    /// and a school to manage. Everyone else gets 403 and nothing happens.
    pub fn staff_scope(&self, session: &ActiveSession) -> Result<StaffScope, AppError> {
        let account = &session.account;
        if !matches!(account.role, Role::Staff | Role::Hq) {
            return Err(AppError::Forbidden);
        }
        let state = session.journey();
        if current_step(state) != Step::Portal {
            return Err(AppError::WrongStep {
                path: current_step(state).path().to_string(),
            });
        }
        let school = account.school_code.clone().ok_or(AppError::Forbidden)?;
        Ok(StaffScope {
            staff: account.clone(),
            school,
        })
    }

    /// A student of the staff member's own school, or 403.
    pub async fn student_in_scope(&self, scope: &StaffScope, id: i64) -> Result<Account, AppError> {
        let account = self
            .store()
            .account(id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Forbidden)?;
        if account.role != Role::Student || account.school_code.as_deref() != Some(&scope.school) {
            return Err(AppError::Forbidden);
        }
        Ok(account)
    }

    pub async fn staff_home(&self, scope: &StaffScope) -> Result<StaffHome, AppError> {
        let school_name = self
            .store()
            .school_name(&scope.school)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        let students = self
            .store()
            .students(&scope.school, None)
            .await
            .map_err(internal)?;
        let mut classes: Vec<ClassCount> = Vec::new();
        for s in &students {
            let class = s.class_name.clone().unwrap_or_default();
            let done = Stage::of(s.temporary_password, s.questions_set) == Stage::Done;
            match classes.iter_mut().find(|c| c.class == class) {
                Some(c) => {
                    c.total += 1;
                    c.done += usize::from(done);
                }
                None => classes.push(ClassCount {
                    class,
                    total: 1,
                    done: usize::from(done),
                }),
            }
        }
        Ok(StaffHome {
            staff_name: scope.staff.full_name.clone(),
            school_code: scope.school.clone(),
            school_name,
            classes,
            idle_timeout_secs: self.settings().idle_timeout_secs,
        })
    }

    pub async fn class_progress(
        &self,
        scope: &StaffScope,
        class: &str,
    ) -> Result<ClassProgress, AppError> {
        let now = self.now();
        let students: Vec<StudentRow> = self
            .store()
            .students(&scope.school, Some(class))
            .await
            .map_err(internal)?
            .iter()
            .map(|s| row_of(s, now))
            .collect();
        let mut counts = [0usize; 4];
        for s in &students {
            if let Some(i) = Stage::ALL.iter().position(|st| *st == s.stage) {
                counts[i] += 1;
            }
        }
        Ok(ClassProgress {
            class: class.to_string(),
            students,
            counts,
            idle_timeout_secs: self.settings().idle_timeout_secs,
        })
    }

    /// Students whose name or login ID contains `query` (case-insensitive).
    pub async fn find_students(
        &self,
        scope: &StaffScope,
        query: &str,
    ) -> Result<Vec<StudentRow>, AppError> {
        let query = query.trim().to_lowercase();
        if query.is_empty() || query.chars().count() > 100 {
            return Ok(Vec::new());
        }
        let now = self.now();
        Ok(self
            .store()
            .students(&scope.school, None)
            .await
            .map_err(internal)?
            .iter()
            .filter(|s| s.full_name.to_lowercase().contains(&query) || s.login_id.contains(&query))
            .take(50)
            .map(|s| row_of(s, now))
            .collect())
    }

    pub async fn student_detail(
        &self,
        scope: &StaffScope,
        id: i64,
    ) -> Result<StudentDetail, AppError> {
        let account = self.student_in_scope(scope, id).await?;
        let now = self.now();
        let status = StudentStatus {
            id: account.id,
            login_id: account.login_id.to_string(),
            full_name: account.full_name.clone(),
            class_name: account.class_name.clone(),
            temporary_password: account.temporary_password,
            questions_set: account.questions_set,
            last_sign_in_at: account.last_sign_in_at,
            locked_until: account.locked_until,
        };
        let events = self
            .store()
            .audit_history(id)
            .await
            .map_err(internal)?
            .into_iter()
            .rev()
            .take(100)
            .map(|e| EventLine {
                at: e.at,
                kind: e.kind,
                actor: e.actor,
                detail: e.detail,
            })
            .collect();
        Ok(StudentDetail {
            student: row_of(&status, now),
            events,
            idle_timeout_secs: self.settings().idle_timeout_secs,
        })
    }

    /// Staff "reset": a new temporary password and its letter, sealed for this session.
    pub async fn staff_reset(
        &self,
        session: &ActiveSession,
        scope: &StaffScope,
        id: i64,
    ) -> Result<i64, AppError> {
        let account = self.student_in_scope(scope, id).await?;
        let password = self
            .reset_to_temporary(&account, scope.staff.login_id.as_str())
            .await?;
        let letter = Letter {
            login_id: account.login_id.to_string(),
            full_name: account.full_name.clone(),
            class: account.class_name.clone().unwrap_or_default(),
            temporary_password: password.expose().to_string(),
        };
        self.seal_letters(session, &scope.staff, vec![letter]).await
    }

    /// "Create one student": the same rules as an imported row; returns the letter's id.
    pub async fn create_student(
        &self,
        session: &ActiveSession,
        scope: &StaffScope,
        full_name: &str,
        class: &str,
    ) -> Result<i64, AppError> {
        let row = super::provisioning::ImportRow {
            line: 1,
            full_name: full_name.trim().to_string(),
            class: class.trim().to_string(),
            login_id: None,
            register_no: None,
        };
        let report = match self
            .import_class_list(&scope.school, &[row], None, scope.staff.login_id.as_str())
            .await?
        {
            Ok(report) => report,
            Err(refused) => {
                let reason = refused
                    .into_iter()
                    .find_map(|l| match l.outcome {
                        RowOutcome::Error { reason } => Some(reason),
                        _ => None,
                    })
                    .unwrap_or(InputProblem::NoLoginLetters);
                return Err(AppError::InputRefused { reason });
            }
        };
        let letters: Vec<Letter> = report
            .into_iter()
            .filter_map(|line| match (line.outcome, line.temporary_password) {
                (RowOutcome::Create { login_id }, Some(password)) => Some(Letter {
                    login_id,
                    full_name: line.row.full_name,
                    class: line.row.class,
                    temporary_password: password.expose().to_string(),
                }),
                _ => None,
            })
            .collect();
        if letters.is_empty() {
            return Err(AppError::InputRefused {
                reason: InputProblem::AlreadyInClass,
            });
        }
        self.seal_letters(session, &scope.staff, letters).await
    }

    pub async fn staff_unlock(&self, scope: &StaffScope, id: i64) -> Result<(), AppError> {
        let account = self.student_in_scope(scope, id).await?;
        self.unlock(account.id, scope.staff.login_id.as_str())
            .await
            .map(|_| ())
    }

    pub async fn staff_clear_answers(&self, scope: &StaffScope, id: i64) -> Result<(), AppError> {
        let account = self.student_in_scope(scope, id).await?;
        self.clear_answers(account.id, scope.staff.login_id.as_str())
            .await
    }

    /// Keeps an uploaded class list for its preview.
    pub async fn upload_class_list(
        &self,
        scope: &StaffScope,
        file: &[u8],
    ) -> Result<i64, AppError> {
        self.store()
            .save_import_batch(&scope.school, scope.staff.id, file, self.now())
            .await
            .map_err(internal)
    }

    /// The preview of an uploaded batch. Writes nothing.
    pub async fn import_preview(
        &self,
        scope: &StaffScope,
        batch: i64,
    ) -> Result<ImportPreview, AppError> {
        let (school, file) = self
            .store()
            .import_batch(batch, scope.staff.id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Forbidden)?;
        let idle_timeout_secs = self.settings().idle_timeout_secs;
        let rows = match parse_class_list(&file) {
            Ok(rows) => rows,
            Err(problem) => {
                return Ok(ImportPreview {
                    batch,
                    file_problem: Some(problem.to_string()),
                    rows: Vec::new(),
                    idle_timeout_secs,
                })
            }
        };
        let plan = self.plan_import(&school, &rows).await?;
        Ok(ImportPreview {
            batch,
            file_problem: None,
            rows: plan
                .into_iter()
                .map(|(row, outcome)| {
                    let (status, login_id, note) = match outcome {
                        RowOutcome::Create { login_id } | RowOutcome::NotImported { login_id } => {
                            ("create", Some(login_id), None)
                        }
                        RowOutcome::Exists { login_id } => ("exists", Some(login_id), None),
                        RowOutcome::Duplicate { of_line } => (
                            "duplicate",
                            None,
                            Some(if row.register_no.is_some() {
                                format!("same as line {of_line}")
                            } else {
                                format!(
                                    "same name and class as line {of_line}: if they are two \
                                     students, add a register_no column to tell them apart"
                                )
                            }),
                        ),
                        RowOutcome::Error { reason } => ("error", None, Some(reason.to_string())),
                    };
                    PreviewRow {
                        line: row.line,
                        full_name: row.full_name,
                        class: row.class,
                        login_id,
                        status: status.to_string(),
                        note,
                    }
                })
                .collect(),
            idle_timeout_secs,
        })
    }

    /// Imports an uploaded batch; returns the sealed letters' id. Nothing is written if
    /// any row has an error.
    pub async fn import_commit(
        &self,
        session: &ActiveSession,
        scope: &StaffScope,
        batch: i64,
    ) -> Result<i64, AppError> {
        let (school, file) = self
            .store()
            .import_batch(batch, scope.staff.id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Forbidden)?;
        let rows = parse_class_list(&file).map_err(|_| AppError::BadRequest)?;
        let report = self
            .import_class_list(&school, &rows, None, scope.staff.login_id.as_str())
            .await?
            .map_err(|_| AppError::BadRequest)?;
        self.store()
            .delete_import_batch(batch)
            .await
            .map_err(internal)?;
        let letters = report
            .into_iter()
            .filter_map(|line| match (line.outcome, line.temporary_password) {
                (RowOutcome::Create { login_id }, Some(password)) => Some(Letter {
                    login_id,
                    full_name: line.row.full_name,
                    class: line.row.class,
                    temporary_password: password.expose().to_string(),
                }),
                _ => None,
            })
            .collect();
        self.seal_letters(session, &scope.staff, letters).await
    }

    async fn seal_letters(
        &self,
        session: &ActiveSession,
        staff: &Account,
        letters: Vec<Letter>,
    ) -> Result<i64, AppError> {
        let school_name = match &staff.school_code {
            Some(code) => self.store().school_name(code).await.map_err(internal)?,
            None => None,
        };
        let batch = LetterBatch {
            school_name: school_name.unwrap_or_default(),
            letters,
            portal_address: String::new(),
        };
        let plain = serde_json::to_vec(&batch).map_err(|_| AppError::Internal)?;
        let sealed = session.seal(LETTERS_PURPOSE, &plain)?;
        let (nonce, sealed) = sealed.split_at(12);
        let now = self.now();
        self.store()
            .save_letters(staff.id, nonce, sealed, now, now + LETTERS_SECS)
            .await
            .map_err(internal)
    }

    /// The letters of a batch, for the session that made them, within the hour.
    pub async fn open_letters(
        &self,
        session: &ActiveSession,
        scope: &StaffScope,
        id: i64,
    ) -> Result<LetterBatch, AppError> {
        let (nonce, sealed) = self
            .store()
            .letters(id, scope.staff.id, self.now())
            .await
            .map_err(internal)?
            .ok_or(AppError::Forbidden)?;
        let plain = session
            .open(LETTERS_PURPOSE, &[nonce, sealed].concat())
            .ok_or(AppError::Forbidden)?;
        serde_json::from_slice(&plain).map_err(|_| AppError::Internal)
    }
}
