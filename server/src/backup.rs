//! `server backup FILE` and `server restore FILE`: online, consistent copies of the SQLite
//! database, and putting one back.
//!
//! A backup is `VACUUM INTO` a new file: one read transaction, so the copy is the
//! database as it was at one instant while sign-ins and password changes go on (WAL
//! mode lets them write meanwhile). It is written under a temporary name, checked
//! (integrity, schema) and only then given the name asked for, so a file with that name
//! is always a whole backup.
//!
//! A restore needs the database alone: every store and command holds a shared lock on
//! `DATABASE.lock` while it has the database open ([`store::lock_in_use`]), and
//! the restore takes it exclusively, or refuses. The copy is checked before anything is
//! replaced, and the replaced database is kept beside it.
//!
//! PostgreSQL has its own tools for this (`pg_dump` / `pg_restore`, see the README).

use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection as _, Row as _, SqliteConnection};

use store::sqlite::MIGRATOR;
use store::{
    lock_alone, lock_in_use, newer_schema_message, newest_version, sqlite_file, with_suffix,
};

/// What a checked copy holds.
#[derive(Debug)]
pub struct Summary {
    pub schema_version: i64,
    pub accounts: i64,
}

fn sqlite_only(database_url: &str, tool: &str) -> Result<PathBuf, String> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        return Err(format!(
            "DATABASE_URL names a PostgreSQL database: use {tool} (see the README, \
             \"Backups and restores\")"
        ));
    }
    sqlite_file(database_url).ok_or_else(|| {
        format!("DATABASE_URL {database_url:?} names no SQLite database file (e.g. sqlite:data/portal.db)")
    })
}

/// `server backup FILE`.
pub async fn backup(database_url: &str, file: &Path) -> Result<String, String> {
    let database = sqlite_only(database_url, "pg_dump")?;
    if !database.is_file() {
        return Err(format!("there is no database at {}", database.display()));
    }
    if file.exists() {
        return Err(format!(
            "{} exists already: a backup never overwrites a file, choose a new name",
            file.display()
        ));
    }
    let folder = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(format!("there is no folder {}", folder.display()));
    }
    // Keeps a restore from replacing the database while it is being copied.
    let _in_use = lock_in_use(&database).map_err(|e| e.to_string())?;
    let partial = folder.join(format!(
        ".{}.partial-{}",
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&partial);
    let copied = async {
        let mut source = connect(&database).await?;
        sqlx::query("VACUUM INTO ?")
            .bind(partial.to_string_lossy().as_ref())
            .execute(&mut source)
            .await
            .map_err(|e| format!("the copy failed: {e}"))?;
        source.close().await.map_err(|e| e.to_string())?;
        let summary = inspect(&partial).await?;
        std::fs::rename(&partial, file)
            .map_err(|e| format!("could not name the copy {}: {e}", file.display()))?;
        Ok::<_, String>(summary)
    }
    .await;
    let summary = match copied {
        Ok(summary) => summary,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    Ok(format!(
        "Backed up {} to {}: {} account(s), schema version {}, {bytes} bytes.\n",
        database.display(),
        file.display(),
        summary.accounts,
        summary.schema_version
    ))
}

/// `server restore FILE`.
pub async fn restore(database_url: &str, file: &Path) -> Result<String, String> {
    let database = sqlite_only(database_url, "pg_restore")?;
    if !file.is_file() {
        return Err(format!("there is no backup at {}", file.display()));
    }
    if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("could not create the folder {}: {e}", parent.display()))?;
    }
    let Some(_alone) = lock_alone(&database).map_err(|e| e.to_string())? else {
        return Err(format!(
            "{} is in use: a server or another command has it open. Stop it, then restore \
             again (nothing was changed)",
            database.display()
        ));
    };
    // Checked on a copy beside the database: the backup file is never written to.
    let staging = with_suffix(&database, ".restoring");
    let _ = std::fs::remove_file(&staging);
    let checked = async {
        std::fs::copy(file, &staging)
            .map_err(|e| format!("could not copy {}: {e}", file.display()))?;
        inspect(&staging).await
    }
    .await;
    let summary = match checked {
        Ok(summary) => summary,
        Err(why) => {
            remove_with_journal(&staging);
            return Err(format!(
                "{} cannot be restored: {why} (nothing was changed)",
                file.display()
            ));
        }
    };
    // The database being replaced is kept, consistently (its write-ahead log included).
    let kept = if database.is_file() {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let aside = with_suffix(&database, &format!(".before-restore-{stamp}"));
        let mut current = connect(&database).await?;
        sqlx::query("VACUUM INTO ?")
            .bind(aside.to_string_lossy().as_ref())
            .execute(&mut current)
            .await
            .map_err(|e| {
                format!("could not keep a copy of the current database (nothing was changed): {e}")
            })?;
        current.close().await.map_err(|e| e.to_string())?;
        Some(aside)
    } else {
        None
    };
    for journal in ["-wal", "-shm"] {
        let path = with_suffix(&database, journal);
        if path.exists() {
            std::fs::remove_file(&path)
                .map_err(|e| format!("could not remove {}: {e}", path.display()))?;
        }
    }
    std::fs::rename(&staging, &database)
        .map_err(|e| format!("could not put the copy in place: {e}"))?;
    let mut out = format!(
        "Restored {} into {}: {} account(s), schema version {}",
        file.display(),
        database.display(),
        summary.accounts,
        summary.schema_version
    );
    let newest = newest_version(&MIGRATOR);
    if summary.schema_version < newest {
        out.push_str(&format!(
            " (the server upgrades it to version {newest} when it starts)"
        ));
    }
    out.push_str(".\n");
    if let Some(aside) = kept {
        out.push_str(&format!(
            "The database it replaced is kept as {}.\n",
            aside.display()
        ));
    }
    Ok(out)
}

/// Checks a database file: SQLite's integrity check passes, it is a portal database,
/// and its schema is one this portal knows (an older one is upgraded at start-up).
pub async fn inspect(path: &Path) -> Result<Summary, String> {
    let mut db = connect(path).await?;
    let problems: Vec<String> = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut db)
        .await
        .map_err(|e| format!("it is not a SQLite database ({e})"))?
        .iter()
        .filter_map(|row| row.try_get::<String, _>(0).ok())
        .filter(|line| line != "ok")
        .collect();
    if !problems.is_empty() {
        return Err(format!(
            "its integrity check failed: {}",
            problems.join("; ")
        ));
    }
    let applied = sqlx::query("SELECT version, checksum, success FROM _sqlx_migrations")
        .fetch_all(&mut db)
        .await
        .map_err(|_| "it is not a portal database (it has no schema history)".to_string())?;
    let newest = newest_version(&MIGRATOR);
    let mut schema_version = 0;
    for row in &applied {
        let version: i64 = row.try_get("version").map_err(|e| e.to_string())?;
        let checksum: Vec<u8> = row.try_get("checksum").map_err(|e| e.to_string())?;
        let success: bool = row.try_get("success").map_err(|e| e.to_string())?;
        if !success {
            return Err(format!("its schema change {version} did not complete"));
        }
        match MIGRATOR.iter().find(|m| m.version == version) {
            None if version > newest => return Err(newer_schema_message(version, newest)),
            None => {
                return Err(format!(
                    "its schema version {version} is not one of this portal's"
                ))
            }
            Some(known) if known.checksum.as_ref() != checksum.as_slice() => {
                return Err(format!(
                    "its schema version {version} differs from this portal's"
                ))
            }
            Some(_) => schema_version = schema_version.max(version),
        }
    }
    let accounts: i64 = sqlx::query("SELECT COUNT(*) FROM accounts")
        .fetch_one(&mut db)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|_| "it is not a portal database (it has no accounts table)".to_string())?;
    db.close().await.map_err(|e| e.to_string())?;
    Ok(Summary {
        schema_version,
        accounts,
    })
}

/// One connection to an existing database file, never creating one.
async fn connect(path: &Path) -> Result<SqliteConnection, String> {
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(|e| e.to_string())?
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(10));
    SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| format!("could not open {}: {e}", path.display()))
}

fn remove_with_journal(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
}
