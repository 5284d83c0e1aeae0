//! Command-line operations for staff and HQ batch jobs, on the database named by
//! `DATABASE_URL`: read an account's audit trail, unlock an account.

use app::domain::login_id::LoginId;
use app::ssr::ports::{Account, AuditEvent};
use app::ssr::service::Portal;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Who the audit trail names as the actor of command-line operations.
pub const CLI_ACTOR: &str = "cli";

async fn find(portal: &Portal, login_id: &str) -> Result<Account, String> {
    let parsed = LoginId::parse(login_id).ok_or_else(|| {
        format!("{login_id:?} is not a login ID (e.g. allen_tan@students.edu.sg)")
    })?;
    portal
        .store()
        .account_by_login(parsed.as_str())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account has the login ID {:?}", parsed.as_str()))
}

/// `server audit --account LOGIN_ID`: the account's events, oldest first, one per line.
pub async fn audit(portal: &Portal, login_id: &str) -> Result<String, String> {
    let account = find(portal, login_id).await?;
    let events = portal
        .store()
        .audit_history(account.id)
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
