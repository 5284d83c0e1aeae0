//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database
//! answers too) and `/metrics` (Prometheus text: every security event by kind, the
//! password-hash workers in use and waiting).

use std::sync::{Arc, OnceLock};

use app::ssr::service::Portal;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process-wide recorder (installed once, whatever the number of routers).
fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .as_ref()
}

pub fn routes(portal: Arc<Portal>) -> Router {
    let _ = recorder();
    Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", axum::routing::get(metrics_text))
        .with_state(portal)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(portal): State<Arc<Portal>>) -> Response {
    match portal.store().count_accounts().await {
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
