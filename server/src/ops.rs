//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database
//! answers too) and `/metrics` (Prometheus text: every security event by kind, the
//! password-hash workers in use and waiting).

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use portal_core::service::Portal;

/// The process-wide recorder (installed once, whatever the number of routers).
fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .as_ref()
}

/// The operations endpoints on the portal's own listener: `/healthz` and `/readyz` for
/// the load balancer (they say only up or down), and `/metrics` only to a request with
/// `Authorization: Bearer <PORTAL_METRICS_TOKEN>` — without a token set, not at all
/// (`404`, as for any unknown address): serve it on `PORTAL_OPS_ADDR` instead.
pub fn routes(portal: Arc<Portal>, metrics_token: Option<Arc<str>>) -> Router {
    let _ = recorder();
    let metrics = axum::routing::get(
        move |State(portal): State<Arc<Portal>>, headers: axum::http::HeaderMap| {
            let token = metrics_token.clone();
            async move {
                let offered = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "));
                match (token.as_deref(), offered) {
                    (Some(token), Some(offered)) if same_token(token, offered) => {
                        metrics_text(State(portal)).await
                    }
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            }
        },
    );
    Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", metrics)
        .with_state(portal)
}

/// The operations endpoints for a listener of their own (`PORTAL_OPS_ADDR`, on the
/// monitoring network): `/metrics` needs no token there.
pub fn private_routes(portal: Arc<Portal>) -> Router {
    let _ = recorder();
    Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", axum::routing::get(metrics_text))
        .with_state(portal)
}

/// Compares two tokens in time that does not depend on where they differ.
fn same_token(expected: &str, offered: &str) -> bool {
    use sha2::{Digest as _, Sha256};
    let (a, b) = (Sha256::digest(expected), Sha256::digest(offered));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(portal): State<Arc<Portal>>) -> Response {
    match portal.ready().await {
        Ok(_) => (StatusCode::OK, "ready\n").into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                "the database is unavailable\n",
            )
                .into_response()
        }
    }
}

async fn metrics_text(State(portal): State<Arc<Portal>>) -> Response {
    let (running, waiting) = portal.hasher().load();
    metrics::gauge!("portal_hash_running").set(running as f64);
    metrics::gauge!("portal_hash_queue_depth").set(waiting as f64);
    metrics::gauge!("portal_hash_memory_bytes").set(portal.hasher().memory_bytes() as f64);
    let body = recorder().map(PrometheusHandle::render).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Runs the retention job every `every` for as long as the process lives (the first run
/// right away). Several instances may run it at once; a failed run is logged and the
/// next one tries again.
pub fn spawn_retention(portal: Arc<Portal>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match portal.purge_expired().await {
                Ok(purged) => {
                    let total: u64 = purged.tables().iter().map(|(_, rows)| rows).sum();
                    if total > 0 {
                        tracing::info!(?purged, "retention: expired rows deleted");
                    }
                }
                Err(error) => tracing::warn!(%error, "retention run failed; retrying later"),
            }
        }
    });
}
