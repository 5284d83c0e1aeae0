//! Retention: what has expired is deleted, so no table grows without bound — sessions
//! past their timeouts, forgot-password attempts, letters, uploaded class lists, emptied
//! answer limits, audit events older than the configured age, and retired signing keys
//! (private keys) once no token they signed is valid.

use super::self_service::RESET_CHALLENGE_SECS;
use super::{internal, Portal};
use crate::ports::{Purged, Retention};
use proto::error::AppError;

/// An uploaded class list waits this long for its "Import" button.
pub const IMPORT_BATCH_SECS: i64 = 24 * 3600;

impl Portal {
    /// One retention run. Every instance may run it, also at the same time: each
    /// statement deletes only rows past a cutoff. Counted in
    /// `portal_purged_rows_total{table}`.
    pub async fn purge_expired(&self) -> Result<Purged, AppError> {
        let now = self.clock.now();
        let settings = &self.settings;
        let retention = Retention {
            now,
            sessions_idle_since: now - settings.idle_timeout_secs,
            sessions_created_before: now - settings.absolute_timeout_secs,
            challenges_created_before: now - RESET_CHALLENGE_SECS,
            batches_created_before: now - IMPORT_BATCH_SECS,
            reset_limits_idle_since: now - settings.reset_limit.window_secs,
            unknown_sign_ins_idle_since: now - settings.lockout.max_lock_secs,
            audit_before: now - settings.audit_retention_secs,
            signing_keys_retired_before: now
                - super::federation::TOKEN_SECS
                - super::federation::CLOCK_SKEW_SECS,
            grants_expired_before: now,
        };
        let purged = self.store.purge(&retention).await.map_err(internal)?;
        for (table, rows) in purged.tables() {
            metrics::counter!("portal_purged_rows_total", "table" => table).increment(rows);
        }
        Ok(purged)
    }
}
