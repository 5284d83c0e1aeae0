//! The portal's web server: wires the store, the hasher and the clock into the
//! journey's services, puts the session middleware and the step guard in front of
//! the Leptos pages and server functions, and serves the built site.

pub mod backup;
pub mod cli;
pub mod clock;
pub mod compression;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod demo_app;
pub mod errors;
pub mod guard;
pub mod headers;
pub mod oidc;
pub mod ops;
pub mod staff_routes;

use std::net::SocketAddr;
use std::sync::Arc;

use app::{shell, App};
use axum::Router;
use domain::route::Endpoint;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use portal_core::ports::Clock;
pub use portal_core::service::Portal;
use tower_http::limit::RequestBodyLimitLayer;

use crate::config::Config;
use crate::crypto::{Argon2Hasher, HashCost};

/// Largest request body accepted; the biggest form (three answers) is far smaller.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] store::OpenError),
    #[error("could not set up password hashing: {0}")]
    Hasher(String),
    #[error("could not set up the single sign-on signing key: {0}")]
    SigningKey(String),
}

/// Opens the database and builds the services from `config`.
pub async fn build_portal(
    config: &Config,
    cost: HashCost,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Portal>, StartupError> {
    let store = store::open(&config.database_url).await?;
    let hasher = Argon2Hasher::new(cost, config.hash_workers(cost), config.hash_queue)
        .map_err(|e| StartupError::Hasher(e.to_string()))?;
    let settings = config.settings();
    let portal = Arc::new(Portal::new(store, Arc::new(hasher), clock, settings));
    // Single sign-on signs id tokens from the first start on (every instance with the
    // key in the database).
    portal
        .ensure_signing_key(oidc::ALGORITHM, oidc::generate_key)
        .await
        .map_err(StartupError::SigningKey)?;
    Ok(portal)
}

/// The paths of the app's pages (its Leptos routes), the ones [`router`] serves: what
/// a test walks to check every page, including one added later.
pub fn page_paths() -> Vec<String> {
    let mut paths: Vec<String> = generate_route_list(App)
        .iter()
        .map(|route| route.path().to_string())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The whole HTTP application: pages, server functions, static files.
pub fn router(portal: Arc<Portal>, leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let context_portal = portal.clone();
    let provide = move || provide_context(context_portal.clone());
    let shell_options = leptos_options.clone();
    let fallback_options = leptos_options.clone();
    let https = portal.settings().secure_cookies;
    let leptos_options_site_addr = leptos_options.site_addr;
    // Pages and server functions take small bodies; the class-list upload up to 2 MiB.
    let pages = Router::new()
        .route(
            Endpoint::SetLanguage.path(),
            axum::routing::get(set_language),
        )
        .route(
            Endpoint::Presenter.path(),
            axum::routing::get(set_presenter).with_state(portal.clone()),
        )
        .leptos_routes_with_context(&leptos_options, routes, provide.clone(), move || {
            shell(shell_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            provide,
            move |_| shell(fallback_options.clone()),
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(leptos_options);
    let staff = Router::new()
        .route(
            Endpoint::StaffUpload.path(),
            axum::routing::post(staff_routes::upload),
        )
        .route(
            Endpoint::LettersCsv.path(),
            axum::routing::get(staff_routes::letters_csv),
        )
        .layer(RequestBodyLimitLayer::new(staff_routes::MAX_UPLOAD_BYTES))
        .layer(axum::extract::DefaultBodyLimit::max(
            staff_routes::MAX_UPLOAD_BYTES,
        ))
        .with_state(portal.clone());
    // Single sign-on: what relying parties fetch.
    let federation = Router::new()
        .route(
            Endpoint::Jwks.path(),
            axum::routing::get(oidc::jwks_endpoint),
        )
        .route(
            Endpoint::Discovery.path(),
            axum::routing::get(oidc::discovery),
        )
        .route(
            Endpoint::Authorize.path(),
            axum::routing::get(oidc::authorize).post(oidc::authorize_post),
        )
        .route(Endpoint::Token.path(), axum::routing::post(oidc::token))
        .route(
            Endpoint::UserInfo.path(),
            axum::routing::get(oidc::userinfo).post(oidc::userinfo),
        )
        .route(
            Endpoint::EndSession.path(),
            axum::routing::get(oidc::end_session_page).post(oidc::end_session),
        )
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(oidc::Provider::new(portal.clone()));
    // Practice mode's demo app, signing in through the provider like any other app.
    let demo_app = if portal.settings().practice {
        demo_app::routes(demo_app::DemoApp::new(
            portal.clone(),
            leptos_options_site_addr,
        ))
    } else {
        Router::new()
    };
    let router = pages
        .merge(staff)
        .merge(federation)
        .merge(demo_app)
        .merge(ops::routes(
            portal.clone(),
            portal
                .settings()
                .metrics_token
                .as_ref()
                .map(|token| Arc::from(token.expose())),
        ))
        .layer(axum::middleware::from_fn_with_state(
            portal.clone(),
            guard::step_guard,
        ))
        .layer(axum::middleware::from_fn(guard::server_fn_status))
        .layer(axum::middleware::from_fn_with_state(
            portal,
            guard::load_session,
        ))
        .layer(axum::middleware::from_fn(guard::same_origin_only));
    compression::compress(headers::add_security_headers(router, https))
}

/// The language selector without JavaScript: remembers the choice in the same cookie
/// the hydrated app writes, then goes back to the page it came from.
async fn set_language(
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use app::i18n::Locale;
    let locale: Locale = query
        .get("lang")
        .and_then(|lang| lang.parse().ok())
        .unwrap_or_default();
    remember_and_go_back(
        format!("i18n_pref_locale={locale}; Path=/; Max-Age=31536000; SameSite=Lax"),
        &query,
    )
}

/// The presenter view's switch (practice mode only, else 404): remembers the choice in
/// a cookie, then goes back to the page it came from. A GET form: works without
/// JavaScript and changes nothing but this browser's view.
async fn set_presenter(
    axum::extract::State(portal): axum::extract::State<Arc<Portal>>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if !portal.settings().practice {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    let (value, max_age) = if query.get("on").is_some_and(|v| v == "1") {
        ("1", 86_400)
    } else {
        ("", 0)
    };
    remember_and_go_back(
        format!(
            "{}={value}; Path=/; Max-Age={max_age}; SameSite=Lax",
            app::practice::PRESENTER_COOKIE
        ),
        &query,
    )
}

/// Sets `cookie` and redirects to the query's `next`, if it is a page of this site.
fn remember_and_go_back(
    cookie: String,
    query: &std::collections::HashMap<String, String>,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let next = local_path(query.get("next").map(String::as_str));
    (
        [(axum::http::header::SET_COOKIE, cookie)],
        axum::response::Redirect::to(next),
    )
        .into_response()
}

/// `next` if it is a path on this site, else `/`: never an open redirect. Browsers drop
/// tabs and newlines from a URL and read `\` as `/`, so `/<TAB>/evil.example` or
/// `/\evil.example` would leave the site: any control character or backslash is refused.
fn local_path(next: Option<&str>) -> &str {
    next.filter(|p| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.chars().any(|c| c.is_control() || c == '\\')
    })
    .unwrap_or("/")
}

/// Serves `router` on `listener` until the process is asked to stop.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    // No Nagle delay: a response written in pieces (headers, then a file's chunks) was
    // held back until the client's delayed ACK, about 40 ms for every static file
    // (bench `pages`: 460 files/s at 35 ms each before, see bench/RESULTS.md).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Leptos' options from its environment variables, with the output name the release
/// build compiles in (tests and `cargo run` get the same name).
pub fn leptos_options(site_addr: Option<SocketAddr>) -> LeptosOptions {
    let mut options = leptos::config::get_configuration(None)
        .map(|conf| conf.leptos_options)
        .unwrap_or_else(|_| {
            LeptosOptions::builder()
                .output_name("school-portal")
                .build()
        });
    if options.output_name.is_empty() {
        options.output_name = "school-portal".into();
    }
    if let Some(addr) = site_addr {
        options.site_addr = addr;
    }
    options
}
