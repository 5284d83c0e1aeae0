//! Command-line operations for staff and HQ batch jobs, on the database named by
//! `DATABASE_URL`: accounts (import, add staff, reset, unlock, audit trail), schools,
//! and single sign-on's apps and signing keys. Each calls a service, never the store.

use domain::login_id::LoginId;
use domain::provisioning::Role;
use portal_core::ports::{Account, AuditEvent, ClientTile};
use portal_core::service::federation::NewClient;
use portal_core::service::Portal;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Who the audit trail names as the actor of command-line operations.
pub const CLI_ACTOR: &str = "cli";

async fn find(portal: &Portal, login_id: &str) -> Result<Account, String> {
    let parsed = LoginId::parse(login_id).ok_or_else(|| {
        format!("{login_id:?} is not a login ID (e.g. allen_tan@students.edu.sg)")
    })?;
    portal
        .find_account(&parsed)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account has the login ID {:?}", parsed.as_str()))
}

/// `server audit --account LOGIN_ID`: the account's events, oldest first, one per line.
pub async fn audit(portal: &Portal, login_id: &str) -> Result<String, String> {
    let account = find(portal, login_id).await?;
    let events = portal
        .audit_trail(account.id)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = format!(
        "Audit trail of {} ({}){}\n",
        account.login_id,
        account.full_name,
        if account.is_locked(portal.now()) {
            format!(
                " — locked until {}",
                format_time(account.locked_until.unwrap_or_default())
            )
        } else {
            String::new()
        }
    );
    out.push_str("time\tevent\tactor\tclient\tdetail\n");
    for event in &events {
        out.push_str(&format_event(event));
        out.push('\n');
    }
    if events.is_empty() {
        out.push_str("(no events)\n");
    }
    Ok(out)
}

/// `server accounts unlock LOGIN_ID`.
pub async fn unlock(portal: &Portal, login_id: &str) -> Result<String, String> {
    let account = find(portal, login_id).await?;
    let was_locked = portal
        .unlock(account.id, CLI_ACTOR)
        .await
        .map_err(|e| e.to_string())?;
    Ok(if was_locked {
        format!("{} is unlocked.\n", account.login_id)
    } else {
        format!(
            "{} was not locked; its failed sign-in count is cleared.\n",
            account.login_id
        )
    })
}

/// `server schools add CODE NAME`.
pub async fn add_school(portal: &Portal, code: &str, name: &str) -> Result<String, String> {
    let valid = !code.is_empty()
        && code.len() <= 16
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !valid {
        return Err(format!(
            "{code:?} is not a school code: use up to 16 letters, digits, - or _"
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("the school name must be 1 to 100 characters".into());
    }
    let added = portal
        .add_school(code, name, CLI_ACTOR)
        .await
        .map_err(|e| e.to_string())?;
    if added {
        Ok(format!("Added school {code} ({name}).\n"))
    } else {
        Err(format!("a school with the code {code} exists already"))
    }
}

/// `server accounts import FILE --school CODE`: the report as CSV on stdout.
pub async fn import(
    portal: &Portal,
    file: &std::path::Path,
    school: &str,
    generic_password: Option<&str>,
    dry_run: bool,
) -> Result<String, String> {
    use portal_core::provisioning::{parse_class_list, report_csv, ReportLine};
    if portal
        .school_name(school)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err(format!(
            "no school has the code {school:?} (add it with `server schools add CODE NAME`)"
        ));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if bytes.len() > 16 * 1024 * 1024 {
        return Err(format!("{} is larger than 16 MiB", file.display()));
    }
    let rows = parse_class_list(&bytes)
        .map_err(|e| format!("{}: {e}; nothing was imported", file.display()))?;
    if generic_password.is_some_and(portal_core::common_passwords::is_common) {
        return Err(
            "the generic password is a common password (it is in the list of leaked \
             passwords); choose another; nothing was imported"
                .to_string(),
        );
    }
    let generic = generic_password.map(domain::secret::Secret::new);
    let report = if dry_run {
        portal
            .plan_import(school, &rows)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(row, outcome)| ReportLine {
                row,
                outcome,
                temporary_password: None,
            })
            .collect::<Vec<_>>()
    } else {
        match portal
            .import_class_list(school, &rows, generic.as_ref(), CLI_ACTOR)
            .await
            .map_err(|e| e.to_string())?
        {
            Ok(report) => report,
            Err(refused) => {
                // The report still goes to stdout, so the operator sees every row.
                print!("{}", report_csv(&refused));
                let bad = refused
                    .iter()
                    .filter(|l| {
                        matches!(
                            l.outcome,
                            portal_core::provisioning::RowOutcome::Error { .. }
                        )
                    })
                    .count();
                return Err(format!(
                    "{bad} row(s) have errors (see the report); nothing was imported"
                ));
            }
        }
    };
    Ok(report_csv(&report))
}

/// `server accounts add-staff --school CODE --name NAME [--hq]`.
pub async fn add_staff(
    portal: &Portal,
    school: &str,
    name: &str,
    hq: bool,
) -> Result<String, String> {
    if portal
        .school_name(school)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err(format!("no school has the code {school:?}"));
    }
    let role = if hq { Role::Hq } else { Role::Staff };
    let (login_id, password) = portal
        .add_staff(school, name, role, CLI_ACTOR)
        .await
        .map_err(|e| match e {
            proto::error::AppError::InputRefused { reason } => reason.to_string(),
            other => other.to_string(),
        })?;
    Ok(format!("{login_id}\t{}\n", password.expose()))
}

/// `server accounts reset LOGIN_ID`: prints the new temporary password.
pub async fn reset(portal: &Portal, login_id: &str) -> Result<String, String> {
    let account = find(portal, login_id).await?;
    let password = portal
        .reset_to_temporary(&account, CLI_ACTOR)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("{}\n", password.expose()))
}

/// What `server clients add` was given.
pub struct ClientArgs {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub public: bool,
    pub tile: Option<String>,
    pub tile_description: Option<String>,
    pub launch_uri: Option<String>,
    pub roles: Vec<String>,
}

/// `server clients add …`: the client id and, for a confidential client, the secret —
/// printed this once.
pub async fn add_client(portal: &Portal, args: ClientArgs) -> Result<String, String> {
    let mut roles = Vec::new();
    for name in &args.roles {
        let role = Role::parse(name.trim())
            .ok_or_else(|| format!("{name:?} is not a role: use student, staff or hq"))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    let new = NewClient {
        name: args.name,
        redirect_uris: args.redirect_uris,
        public: args.public,
        roles,
        tile: args.tile.map(|title| ClientTile {
            title,
            description: args.tile_description,
        }),
        launch_uri: args.launch_uri,
    };
    let registered = portal
        .register_client(new, CLI_ACTOR)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = format!("client_id\t{}\n", registered.client_id);
    match registered.secret {
        Some(secret) => out.push_str(&format!(
            "client_secret\t{}\n(Keep the secret now: it is not shown again.)\n",
            secret.expose()
        )),
        None => out.push_str("public client: no secret; it must use PKCE (S256)\n"),
    }
    Ok(out)
}

/// `server clients list`: one app per line, never a secret.
pub async fn list_clients(portal: &Portal) -> Result<String, String> {
    let clients = portal
        .registered_clients()
        .await
        .map_err(|e| e.to_string())?;
    let mut out = String::from("client_id\tname\ttype\troles\ttile\tredirect_uris\n");
    for client in &clients {
        let roles: Vec<&str> = client.roles.iter().map(|role| role.as_str()).collect();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            client.client_id,
            client.name,
            if client.secret_hash.is_some() {
                "confidential"
            } else {
                "public"
            },
            roles.join(","),
            client.tile.as_ref().map_or("-", |tile| tile.title.as_str()),
            client.redirect_uris.join(" ")
        ));
    }
    if clients.is_empty() {
        out.push_str("(no apps registered)\n");
    }
    Ok(out)
}

/// `server clients remove CLIENT_ID`.
pub async fn remove_client(portal: &Portal, client_id: &str) -> Result<String, String> {
    if portal
        .remove_client(client_id, CLI_ACTOR)
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(format!("Removed the app {client_id}.\n"))
    } else {
        Err(format!("no app has the client id {client_id:?}"))
    }
}

/// `server keys rotate`.
pub async fn rotate_key(portal: &Portal) -> Result<String, String> {
    let key = crate::oidc::generate_key()?;
    let kid = key.kid.clone();
    portal.rotate_signing_key(key, CLI_ACTOR).await?;
    Ok(format!(
        "New signing key {kid}; the previous one stays published for {} seconds.\n",
        portal_core::service::federation::TOKEN_SECS
            + portal_core::service::federation::CLOCK_SKEW_SECS
    ))
}

fn format_time(at: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| at.to_string())
}

fn format_event(event: &AuditEvent) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        format_time(event.at),
        event.kind,
        event.actor,
        event.client.as_deref().unwrap_or("-"),
        event.detail.as_deref().unwrap_or("")
    )
}
