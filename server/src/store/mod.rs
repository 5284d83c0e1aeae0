//! Storage back-ends behind the [`app::ssr::ports::Store`] trait, chosen by the
//! scheme of `DATABASE_URL`.

pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use app::ssr::ports::Store;

/// Why the database could not be opened; printed to the operator at start-up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL {0:?} is not supported: use sqlite:PATH (e.g. sqlite:data/portal.db) or postgres://USER@HOST/DB")]
    UnsupportedScheme(String),
    #[error("could not create the directory {path:?} for the database: {reason}")]
    Directory { path: String, reason: String },
    #[error("could not open the database {url:?}: {reason}")]
    Open { url: String, reason: String },
}

/// Opens the store named by `url`, creating a SQLite file (and its directory) if missing,
/// and runs the migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, OpenError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::connect(url)
            .await
            .map_err(|e| OpenError::Open {
                url: redact(url),
                reason: e.to_string(),
            })?;
        return Ok(Arc::new(store));
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Err(OpenError::UnsupportedScheme(url.to_string()));
    };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err(OpenError::Open {
            url: url.to_string(),
            reason: "no file name".into(),
        });
    }
    if path != ":memory:" {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| OpenError::Directory {
                    path: parent.display().to_string(),
                    reason: e.to_string(),
                })?;
            }
        }
    }
    let store = sqlite::SqliteStore::connect(url)
        .await
        .map_err(|e| OpenError::Open {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    Ok(Arc::new(store))
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
