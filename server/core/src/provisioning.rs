//! Provisioning by staff and HQ batch jobs: class lists from CSV (a preview first, then
//! the accounts and a report), new temporary passwords, unlocking and clearing answers.
//! The temporary passwords exist in clear only in the report returned here; the
//! database keeps their argon2id hashes.

use std::collections::{HashMap, HashSet};

use rand::Rng as _;

use super::ports::{Account, AccountId, NewAccount};
use super::service::{hash_error, internal, Portal};
use domain::audit::AuditKind;
use domain::login_id::LoginId;
use domain::provisioning::{
    login_base, login_id_candidate, new_student_login_id, temporary_password, Role, STUDENT_DOMAIN,
};
use domain::secret::Secret;
use proto::error::{AppError, InputProblem};
pub use proto::error::{MAX_CLASS_CHARS, MAX_NAME_CHARS, MAX_REGISTER_CHARS};

/// Rows a class list may have (a whole cohort fits; a runaway export does not).
pub const MAX_IMPORT_ROWS: usize = 2_000;
/// Temporary passwords stop working after this many days by default.
pub const TEMPORARY_DAYS: i64 = 30;

/// One data row of a class list (`line` counts the header as line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line: usize,
    pub full_name: String,
    pub class: String,
    pub login_id: Option<String>,
    /// The school's register (index) number, optional: it tells apart two students of
    /// the same name in one class.
    pub register_no: Option<String>,
}

/// What importing a row will do (the preview) or did (the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Create {
        login_id: String,
    },
    /// Would have been created, but other rows have errors: nothing was imported.
    NotImported {
        login_id: String,
    },
    /// The same name in the same class of this school exists already: left alone.
    Exists {
        login_id: String,
    },
    /// The same name and class (and register number, if any) appear earlier in the
    /// file.
    Duplicate {
        of_line: usize,
    },
    Error {
        reason: InputProblem,
    },
}

/// Why a whole file is refused; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    #[error("the file is empty")]
    Empty,
    #[error(
        "the file is not UTF-8 text (save it as \"CSV UTF-8\"); first bad byte on line {line}"
    )]
    NotUtf8 { line: usize },
    #[error("the header has no {0:?} column (expected at least full_name,class)")]
    MissingColumn(&'static str),
    #[error("the file has {rows} rows; at most {max} can be imported at once")]
    TooManyRows { rows: usize, max: usize },
    #[error("line {line} cannot be read as CSV: {reason}")]
    Malformed { line: usize, reason: String },
}

/// Reads a class list: a header with `full_name` and `class` (any order, any case, an
/// optional `login_id` and `register_no`), then one student per row.
pub fn parse_class_list(bytes: &[u8]) -> Result<Vec<ImportRow>, FileProblem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileProblem::Empty);
    }
    if let Err(error) = std::str::from_utf8(bytes) {
        let line = bytes[..error.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        return Err(FileProblem::NotUtf8 { line });
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| FileProblem::Malformed {
            line: 1,
            reason: e.to_string(),
        })?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let name_at = column("full_name").ok_or(FileProblem::MissingColumn("full_name"))?;
    let class_at = column("class").ok_or(FileProblem::MissingColumn("class"))?;
    let login_at = column("login_id");
    let register_at = REGISTER_COLUMNS.iter().find_map(|name| column(name));
    let mut rows = Vec::new();
    // The line a record starts on, counted from its byte offset (blank lines included).
    let line_at = |position: Option<&csv::Position>| {
        position
            .and_then(|p| usize::try_from(p.byte()).ok())
            .map(|at| {
                // The reader counts the blank lines before a record as part of it.
                let mut at = at.min(bytes.len());
                while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
                    at += 1;
                }
                bytes[..at].iter().filter(|b| **b == b'\n').count() + 1
            })
            .unwrap_or(0)
    };
    let mut records = reader.records();
    while let Some(record) = records.next() {
        let record = record.map_err(|e| FileProblem::Malformed {
            line: line_at(e.position()),
            reason: e.to_string(),
        })?;
        let line = line_at(record.position());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_IMPORT_ROWS {
            let more = records.count();
            return Err(FileProblem::TooManyRows {
                rows: MAX_IMPORT_ROWS + 1 + more,
                max: MAX_IMPORT_ROWS,
            });
        }
        let field = |at: usize| record.get(at).unwrap_or("").to_string();
        rows.push(ImportRow {
            line,
            full_name: field(name_at),
            class: field(class_at),
            login_id: login_at.map(field).filter(|l| !l.is_empty()),
            register_no: register_at.map(field).filter(|r| !r.is_empty()),
        });
    }
    if rows.is_empty() {
        return Err(FileProblem::Empty);
    }
    Ok(rows)
}

/// Header names accepted for the register (index) number column.
pub const REGISTER_COLUMNS: [&str; 4] =
    ["register_no", "register_number", "index_no", "index_number"];

/// A cell a spreadsheet would run as a formula.
fn looks_like_formula(value: &str) -> bool {
    value.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Why a row cannot be imported, if it cannot.
fn row_problem(row: &ImportRow) -> Option<InputProblem> {
    let name = row.full_name.as_str();
    if name.is_empty() {
        return Some(InputProblem::NameEmpty);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Some(InputProblem::NameTooLong);
    }
    if looks_like_formula(name) || looks_like_formula(&row.class) {
        return Some(InputProblem::Formula);
    }
    if name.chars().any(char::is_control) {
        return Some(InputProblem::ControlCharacters);
    }
    if login_base(name).is_none() {
        return Some(InputProblem::NoLoginLetters);
    }
    if row.class.is_empty() {
        return Some(InputProblem::ClassEmpty);
    }
    if row.class.chars().count() > MAX_CLASS_CHARS
        || !row
            .class
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '/' | '.'))
    {
        return Some(InputProblem::ClassInvalid);
    }
    if let Some(register) = &row.register_no {
        if register.chars().count() > MAX_REGISTER_CHARS
            || !register.chars().all(|c| c.is_alphanumeric() || c == '-')
            || looks_like_formula(register)
        {
            return Some(InputProblem::RegisterInvalid);
        }
    }
    if let Some(login) = &row.login_id {
        match LoginId::parse(login) {
            Some(id) if Role::of(&id) == Some(Role::Student) => {}
            _ => return Some(InputProblem::NotAStudentLoginId),
        }
    }
    None
}

/// A row of the report: what happened, and the temporary password for new accounts.
#[derive(Clone, PartialEq, Eq)]
pub struct ReportLine {
    pub row: ImportRow,
    pub outcome: RowOutcome,
    pub temporary_password: Option<Secret>,
}

impl std::fmt::Debug for ReportLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportLine")
            .field("row", &self.row)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// Neutralises a cell for spreadsheets: a leading `'` stops formulas.
fn safe_cell(value: &str) -> String {
    if looks_like_formula(value) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// The report as CSV: `login_id,full_name,class,temporary_password,status`.
pub fn report_csv(lines: &[ReportLine]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record([
        "login_id",
        "full_name",
        "class",
        "temporary_password",
        "status",
    ]);
    for line in lines {
        let (login_id, status) = match &line.outcome {
            RowOutcome::Create { login_id } => (login_id.clone(), "created".to_string()),
            RowOutcome::NotImported { login_id } => (
                login_id.clone(),
                "not imported: fix the rows with errors first".to_string(),
            ),
            RowOutcome::Exists { login_id } => (login_id.clone(), "exists".to_string()),
            RowOutcome::Duplicate { of_line } => {
                (String::new(), format!("duplicate of line {of_line}"))
            }
            RowOutcome::Error { reason } => (String::new(), format!("error: {reason}")),
        };
        let password = line
            .temporary_password
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        let _ = writer.write_record([
            safe_cell(&login_id),
            safe_cell(&line.row.full_name),
            safe_cell(&line.row.class),
            password,
            safe_cell(&status),
        ]);
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// What tells two rows apart: the name, the class and the register number.
fn row_key(row: &ImportRow) -> (String, String, Option<String>) {
    (
        row.full_name.clone(),
        row.class.clone(),
        row.register_no.clone(),
    )
}

fn random_temporary_password() -> Secret {
    let mut rng = rand::rngs::OsRng;
    Secret::new(temporary_password(|len| rng.gen_range(0..len)))
}

impl Portal {
    /// Adds to `taken` the login IDs the naming rules would try for `base` in `domain`
    /// that exist already, up to the first one free both there and in `taken`. Exact
    /// look-ups on the login ID's unique index, a chunk at a time.
    async fn learn_taken_login_ids(
        &self,
        base: &str,
        domain: &str,
        taken: &mut HashSet<String>,
    ) -> Result<(), AppError> {
        const CHUNK: usize = 32;
        for start in (0..).step_by(CHUNK) {
            let candidates: Vec<String> = (start..start + CHUNK)
                .map(|n| login_id_candidate(base, domain, n))
                .collect();
            let existing = self
                .store()
                .existing_login_ids(&candidates)
                .await
                .map_err(internal)?;
            taken.extend(existing);
            if candidates.iter().any(|c| !taken.contains(c)) || start >= 100_000 {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The preview: what importing `rows` into `school` would do. Writes nothing.
    pub async fn plan_import(
        &self,
        school: &str,
        rows: &[ImportRow],
    ) -> Result<Vec<(ImportRow, RowOutcome)>, AppError> {
        let mut seen: HashMap<(String, String, Option<String>), usize> = HashMap::new();
        // Each existing account stands for one row at most (two namesakes of an
        // earlier list without register numbers are two accounts, matched in turn).
        let mut matched: HashSet<AccountId> = HashSet::new();
        let mut taken: HashSet<String> = HashSet::new();
        let mut plan = Vec::with_capacity(rows.len());
        for row in rows {
            let outcome = if let Some(reason) = row_problem(row) {
                RowOutcome::Error { reason }
            } else if let Some(first) = seen.get(&row_key(row)) {
                RowOutcome::Duplicate { of_line: *first }
            } else if let Some(existing) = self
                .store()
                .students_named(
                    school,
                    &row.class,
                    &row.full_name,
                    row.register_no.as_deref(),
                )
                .await
                .map_err(internal)?
                .into_iter()
                .find(|account| matched.insert(account.id))
            {
                RowOutcome::Exists {
                    login_id: existing.login_id.to_string(),
                }
            } else {
                self.plan_login_id(row, &mut taken).await?
            };
            seen.entry(row_key(row)).or_insert(row.line);
            plan.push((row.clone(), outcome));
        }
        Ok(plan)
    }

    async fn plan_login_id(
        &self,
        row: &ImportRow,
        taken: &mut HashSet<String>,
    ) -> Result<RowOutcome, AppError> {
        if let Some(given) = row.login_id.as_deref().and_then(LoginId::parse) {
            let in_use = self
                .store()
                .account_by_login(&given)
                .await
                .map_err(internal)?
                .is_some();
            return Ok(if in_use || !taken.insert(given.to_string()) {
                RowOutcome::Error {
                    reason: InputProblem::LoginIdInUse,
                }
            } else {
                RowOutcome::Create {
                    login_id: given.to_string(),
                }
            });
        }
        let base = login_base(&row.full_name).unwrap_or_default();
        self.learn_taken_login_ids(&base, STUDENT_DOMAIN, taken)
            .await?;
        match new_student_login_id(&row.full_name, taken) {
            Some(id) => {
                taken.insert(id.to_string());
                Ok(RowOutcome::Create {
                    login_id: id.to_string(),
                })
            }
            None => Ok(RowOutcome::Error {
                reason: InputProblem::NoLoginLetters,
            }),
        }
    }

    /// Imports `rows` into `school`: creates the planned accounts, each with its own
    /// random temporary password unless `generic` gives one for the whole batch. If any
    /// row has an error, nothing is written and the report says why (`Err`).
    pub async fn import_class_list(
        &self,
        school: &str,
        rows: &[ImportRow],
        generic: Option<&Secret>,
        actor: &str,
    ) -> Result<Result<Vec<ReportLine>, Vec<ReportLine>>, AppError> {
        if self
            .store()
            .school_name(school)
            .await
            .map_err(internal)?
            .is_none()
        {
            return Err(AppError::BadRequest);
        }
        if generic.is_some_and(|password| crate::common_passwords::is_common(password.expose())) {
            return Err(AppError::InputRefused {
                reason: InputProblem::CommonGenericPassword,
            });
        }
        let plan = self.plan_import(school, rows).await?;
        if plan
            .iter()
            .any(|(_, outcome)| matches!(outcome, RowOutcome::Error { .. }))
        {
            let refused = plan
                .into_iter()
                .map(|(row, outcome)| ReportLine {
                    row,
                    outcome: match outcome {
                        RowOutcome::Create { login_id } => RowOutcome::NotImported { login_id },
                        other => other,
                    },
                    temporary_password: None,
                })
                .collect();
            return Ok(Err(refused));
        }
        let now = self.now();
        let generic_hash = match generic {
            Some(password) => Some(self.hasher().hash(password).await.map_err(hash_error)?),
            None => None,
        };
        // Every password is hashed before anything is written, and the accounts go in
        // one transaction: a busy hasher or a failed write midway leaves no account
        // whose password never reached a letter.
        let mut report = Vec::with_capacity(plan.len());
        let mut accounts = Vec::new();
        for (row, outcome) in plan {
            let RowOutcome::Create { login_id } = &outcome else {
                report.push(ReportLine {
                    row,
                    outcome,
                    temporary_password: None,
                });
                continue;
            };
            let (password, hash) = match (&generic_hash, generic) {
                (Some(hash), Some(password)) => (password.clone(), hash.clone()),
                _ => {
                    let password = random_temporary_password();
                    let hash = self.hasher().hash(&password).await.map_err(hash_error)?;
                    (password, hash)
                }
            };
            accounts.push(NewAccount {
                login_id: login_id.clone(),
                full_name: row.full_name.clone(),
                password_hash: hash,
                temporary_password: true,
                role: Role::Student,
                school_code: Some(school.to_string()),
                class_name: Some(row.class.clone()),
                register_no: row.register_no.clone(),
                temporary_expires_at: Some(now + TEMPORARY_DAYS * 86_400),
            });
            report.push(ReportLine {
                row,
                outcome,
                temporary_password: Some(password),
            });
        }
        let ids = self
            .store()
            .insert_accounts(&accounts, now)
            .await
            .map_err(internal)?;
        for (id, account) in ids.into_iter().zip(&accounts) {
            let class = account.class_name.as_deref().unwrap_or_default();
            self.audit_as(
                Some(id),
                actor,
                AuditKind::AccountCreated,
                None,
                Some(&format!("class {class} of {school}")),
            )
            .await;
        }
        Ok(Ok(report))
    }

    /// A new random temporary password (staff "reset"): the journey starts again,
    /// every session ends, a lockout is lifted. Returns the password, shown once.
    pub async fn reset_to_temporary(
        &self,
        account: &Account,
        actor: &str,
    ) -> Result<Secret, AppError> {
        let password = random_temporary_password();
        let hash = self.hasher().hash(&password).await.map_err(hash_error)?;
        let now = self.now();
        self.store()
            .reset_to_temporary(account.id, &hash, now + TEMPORARY_DAYS * 86_400, now)
            .await
            .map_err(internal)?;
        self.audit_as(
            Some(account.id),
            actor,
            AuditKind::PasswordResetByStaff,
            None,
            Some("new temporary password; sessions ended"),
        )
        .await;
        Ok(password)
    }

    /// A staff (or HQ) account for `school`, from the full name: its login ID and a
    /// random temporary password (shown once).
    pub async fn add_staff(
        &self,
        school: &str,
        full_name: &str,
        role: Role,
        actor: &str,
    ) -> Result<(LoginId, Secret), AppError> {
        use domain::provisioning::{new_login_id, HQ_DOMAIN, STAFF_DOMAIN};
        let name = full_name.trim();
        let domain = match role {
            Role::Staff => STAFF_DOMAIN,
            Role::Hq => HQ_DOMAIN,
            Role::Student => return Err(AppError::BadRequest),
        };
        let base = login_base(name).ok_or(AppError::InputRefused {
            reason: InputProblem::NoLoginLetters,
        })?;
        let mut taken = HashSet::new();
        self.learn_taken_login_ids(&base, domain, &mut taken)
            .await?;
        let login_id = new_login_id(name, domain, &taken).ok_or(AppError::BadRequest)?;
        let password = random_temporary_password();
        let hash = self.hasher().hash(&password).await.map_err(hash_error)?;
        let now = self.now();
        let id = self
            .store()
            .insert_account(
                NewAccount {
                    login_id: login_id.to_string(),
                    full_name: name.to_string(),
                    password_hash: hash,
                    temporary_password: true,
                    role,
                    school_code: Some(school.to_string()),
                    class_name: None,
                    register_no: None,
                    temporary_expires_at: Some(now + TEMPORARY_DAYS * 86_400),
                },
                now,
            )
            .await
            .map_err(internal)?;
        self.audit_as(
            Some(id),
            actor,
            AuditKind::AccountCreated,
            None,
            Some(role.as_str()),
        )
        .await;
        Ok((login_id, password))
    }

    /// Forgets the account's security answers (staff "clear security questions").
    pub async fn clear_answers(&self, account: AccountId, actor: &str) -> Result<(), AppError> {
        self.store()
            .clear_answers(account)
            .await
            .map_err(internal)?;
        self.audit_as(Some(account), actor, AuditKind::AnswersCleared, None, None)
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_list_with_the_two_columns_in_any_order() {
        let rows = parse_class_list(
            b"\xEF\xBB\xBFClass, Full_Name\nP5 Kindness, Allen Tan\n\n5B,\"Tan, Ah Kow\"\n",
        );
        let rows = rows.unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].full_name, "Allen Tan");
        assert_eq!(rows[0].class, "P5 Kindness");
        assert_eq!(rows[1].full_name, "Tan, Ah Kow");
        assert_eq!(rows[1].line, 4);
    }

    #[test]
    fn malformed_files_are_refused_whole() {
        assert_eq!(parse_class_list(b""), Err(FileProblem::Empty));
        assert_eq!(
            parse_class_list(b"full_name,class\n"),
            Err(FileProblem::Empty)
        );
        assert_eq!(
            parse_class_list(b"name,class\nAllen Tan,5B\n"),
            Err(FileProblem::MissingColumn("full_name"))
        );
        assert_eq!(
            parse_class_list(b"full_name,class\nAllen Tan,5B\nChlo\xe9,5B\n"),
            Err(FileProblem::NotUtf8 { line: 3 })
        );
        let mut big = String::from("full_name,class\n");
        for i in 0..(MAX_IMPORT_ROWS + 5) {
            big.push_str(&format!("Student {i},5B\n"));
        }
        assert_eq!(
            parse_class_list(big.as_bytes()),
            Err(FileProblem::TooManyRows {
                rows: MAX_IMPORT_ROWS + 5,
                max: MAX_IMPORT_ROWS
            })
        );
    }

    #[test]
    fn bad_rows_say_why() {
        let row = |name: &str, class: &str| ImportRow {
            line: 2,
            full_name: name.into(),
            class: class.into(),
            login_id: None,
            register_no: None,
        };
        assert_eq!(
            row_problem(&row("=cmd()", "5B")),
            Some(InputProblem::Formula)
        );
        assert_eq!(row_problem(&row("", "5B")), Some(InputProblem::NameEmpty));
        assert_eq!(
            row_problem(&row("Allen Tan", "")),
            Some(InputProblem::ClassEmpty)
        );
        assert_eq!(
            row_problem(&row("陈大文", "5B")),
            Some(InputProblem::NoLoginLetters)
        );
        assert_eq!(row_problem(&row("Allen Tan", "P5 Kindness")), None);
    }

    #[test]
    fn exports_neutralise_formulas() {
        let line = ReportLine {
            row: ImportRow {
                line: 2,
                full_name: "=HYPERLINK(\"x\")".into(),
                class: "5B".into(),
                login_id: None,
                register_no: None,
            },
            outcome: RowOutcome::Error {
                reason: InputProblem::Formula,
            },
            temporary_password: None,
        };
        let csv = report_csv(&[line]);
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
        assert!(csv.starts_with("login_id,full_name,class,temporary_password,status\n"));
    }
}
