//! Configuration: built-in defaults, overridden by environment variables, overridden
//! by command-line flags. Unknown flags and malformed values stop the start-up with a
//! message that names the setting.

use clap::builder::TypedValueParser as _;
use clap::{Parser, Subcommand};

use portal_core::ports::{LockoutPolicy, ResetLimit};
use portal_core::service::Settings;
use portal_core::throttle::ThrottleSettings;

use crate::crypto::HashCost;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "server",
    about = "School account onboarding portal (MIMS first-login journey)",
    version
)]
pub struct Cli {
    /// Practice mode for teachers: a banner on every page, the demo class (Allen Tan and
    /// his classmates, seeded into an empty database), "Reset this practice account" and
    /// a presenter view. Refuses a database holding accounts outside the practice school.
    #[arg(long)]
    pub demo: bool,

    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Print an account's audit trail (sign-ins, failures, lockouts, changes), oldest first.
    Audit {
        /// The account's login ID, e.g. allen_tan@students.edu.sg.
        #[arg(long = "account", value_name = "LOGIN_ID")]
        account: String,
    },
    /// Staff operations on accounts.
    Accounts {
        #[command(subcommand)]
        action: AccountsCommand,
    },
    /// HQ operations on schools.
    Schools {
        #[command(subcommand)]
        action: SchoolsCommand,
    },
    /// Single sign-on: the school's apps that sign in through the portal (OpenID
    /// Connect clients).
    Clients {
        #[command(subcommand)]
        action: ClientsCommand,
    },
    /// Single sign-on: the keys that sign id tokens.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Copy the SQLite database into FILE while the portal keeps running: a consistent
    /// snapshot (sign-ins and password changes go on meanwhile), checked before it is
    /// named FILE. For PostgreSQL use pg_dump (see the README).
    Backup {
        /// Where to write the copy; must not exist yet.
        file: std::path::PathBuf,
    },
    /// Replace the SQLite database with the backup FILE. Refused while a server or
    /// another command has the database open, and for a copy that fails its integrity
    /// check or was written by a newer portal. The replaced database is kept beside it.
    Restore {
        /// A file written by `server backup`.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum ClientsCommand {
    /// Register an app; prints its client id and, for a confidential client, its secret
    /// (shown this once: the portal keeps only its hash).
    Add {
        /// The app's name, as students see it when they sign in.
        #[arg(long)]
        name: String,
        /// Where the portal may send the browser back with a code, matched exactly
        /// (https, or http to localhost only). Give it once per address.
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// An app without a secret (in the browser, on a device): must use PKCE.
        #[arg(long)]
        public: bool,
        /// Show a tile with this title on the portal page of those who may use it.
        #[arg(long, value_name = "TITLE")]
        tile: Option<String>,
        /// The tile's description.
        #[arg(long, value_name = "TEXT", requires = "tile")]
        tile_description: Option<String>,
        /// Where the tile leads: the app's own page that signs in through the portal
        /// (needed with --tile).
        #[arg(long, value_name = "URI", requires = "tile")]
        launch_uri: Option<String>,
        /// Who may sign in to it and sees its tile: student, staff, hq (comma-separated).
        #[arg(
            long,
            value_name = "ROLES",
            value_delimiter = ',',
            default_value = "student"
        )]
        roles: Vec<String>,
    },
    /// List the registered apps (never their secrets).
    List,
    /// Remove an app: it can no longer sign anyone in.
    Remove {
        /// The client id `clients add` printed.
        client_id: String,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Make a new signing key the one that signs; the old one stays published until the
    /// tokens it signed have expired.
    Rotate,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SchoolsCommand {
    /// Add a school (its code is what imports name).
    Add {
        /// A short code, e.g. DEMO (letters, digits, - and _).
        code: String,
        /// The school's name.
        name: String,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum AccountsCommand {
    /// Import a class list (CSV with full_name,class and optionally login_id) into a
    /// school; prints the report as CSV: login_id,full_name,class,temporary_password,status.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
        /// The school's code.
        #[arg(long)]
        school: String,
        /// One generic temporary password for the whole batch (as the seed's 2024Kmps)
        /// instead of a random one per student.
        #[arg(long, env = "PORTAL_GENERIC_PASSWORD", hide_env_values = true)]
        generic_password: Option<String>,
        /// Print what would happen; create nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Add a school staff member (or, with --hq, an HQ staff member); prints the login
    /// ID and a random temporary password.
    AddStaff {
        /// The school's code.
        #[arg(long)]
        school: String,
        /// The staff member's full name.
        #[arg(long)]
        name: String,
        /// An HQ account (@hq.moe.gov.sg) instead of school staff (@schools.gov.sg).
        #[arg(long)]
        hq: bool,
    },
    /// Give an account a new random temporary password (prints it); the first-login
    /// journey starts again and every session ends.
    Reset {
        /// The account's login ID.
        login_id: String,
    },
    /// Lift a lockout and clear the failed sign-in count.
    Unlock {
        /// The account's login ID.
        login_id: String,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Practice mode: set from `--demo`, not a setting of its own.
    #[arg(skip)]
    pub practice: bool,

    /// Database to use. SQLite: `sqlite:PATH`; the file and its directory are created if missing.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite:data/portal.db")]
    pub database_url: String,

    /// Seconds without a request after which a session ends (the seed's 4 minutes).
    #[arg(long, env = "PORTAL_IDLE_TIMEOUT_SECS", default_value_t = 240,
          value_parser = clap::value_parser!(i64).range(10..=86_400))]
    pub idle_timeout_secs: i64,

    /// Seconds after sign-in at which a session ends however active it is.
    #[arg(long, env = "PORTAL_ABSOLUTE_TIMEOUT_SECS", default_value_t = 8 * 3600,
          value_parser = clap::value_parser!(i64).range(60..=7 * 86_400))]
    pub absolute_timeout_secs: i64,

    /// Argon2id memory cost in KiB (at least 19456 outside tests).
    #[arg(long, env = "PORTAL_ARGON2_MEMORY_KIB", default_value_t = HashCost::PRODUCTION.memory_kib,
          value_parser = clap::value_parser!(u32).range(8..=1_048_576))]
    pub argon2_memory_kib: u32,

    /// Argon2id iterations.
    #[arg(long, env = "PORTAL_ARGON2_ITERATIONS", default_value_t = HashCost::PRODUCTION.iterations,
          value_parser = clap::value_parser!(u32).range(1..=10))]
    pub argon2_iterations: u32,

    /// Hashes that may run at once (default: the number of cores, but no more than fit
    /// in the hash memory budget).
    #[arg(long, env = "PORTAL_HASH_WORKERS",
          value_parser = clap::value_parser!(u32).range(1..=1024).map(|n| n as usize))]
    pub hash_workers: Option<usize>,

    /// Memory (MiB) that running argon2 hashes may use together; with the memory cost
    /// it caps the number of hashes that run at once.
    #[arg(long, env = "PORTAL_HASH_MEMORY_MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub hash_memory_mib: u32,

    /// Hashes that may wait for a worker before requests are answered 503.
    #[arg(long, env = "PORTAL_HASH_QUEUE", default_value_t = 64)]
    pub hash_queue: usize,

    /// Served over HTTPS: mark the session cookie Secure with the __Host- prefix and
    /// send HSTS.
    #[arg(long, env = "PORTAL_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Distinct wrong passwords in a row that lock an account.
    #[arg(long, env = "PORTAL_LOCKOUT_ATTEMPTS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub lockout_attempts: u32,

    /// Length of the first lockout in seconds; each further one doubles it.
    #[arg(long, env = "PORTAL_LOCKOUT_SECS", default_value_t = 15 * 60,
          value_parser = clap::value_parser!(i64).range(60..=7 * 86_400))]
    pub lockout_secs: i64,

    /// Longest lockout in seconds.
    #[arg(long, env = "PORTAL_LOCKOUT_MAX_SECS", default_value_t = 4 * 3600,
          value_parser = clap::value_parser!(i64).range(60..=30 * 86_400))]
    pub lockout_max_secs: i64,

    /// Sign-in attempts per minute from one client address (0 turns the limit off).
    #[arg(long, env = "PORTAL_SIGN_IN_PER_MINUTE", default_value_t = 600,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub sign_in_per_minute: u32,

    /// Sign-in attempts one client address may make in a burst.
    #[arg(long, env = "PORTAL_SIGN_IN_BURST", default_value_t = 120,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub sign_in_burst: u32,

    /// Take the client address from X-Forwarded-For (only behind a proxy that sets it).
    #[arg(long, env = "PORTAL_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,

    /// The SSPR asks for the password again when it was last typed longer ago (seconds).
    #[arg(long, env = "PORTAL_REAUTH_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(i64).range(30..=86_400))]
    pub reauth_secs: i64,

    /// The first-login journey must be finished this long after signing in with the
    /// temporary password (seconds); then the letter's password is typed again.
    #[arg(long, env = "PORTAL_JOURNEY_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(i64).range(300..=86_400))]
    pub journey_secs: i64,

    /// Earlier passwords that may not be chosen again (temporary ones never may).
    #[arg(long, env = "PORTAL_PASSWORD_HISTORY", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(0..=24).map(|n| n as usize))]
    pub password_history: usize,

    /// Wrong forgot-password answers a login ID's bucket holds before the reset blocks.
    #[arg(long, env = "PORTAL_RESET_ATTEMPTS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub reset_attempts: u32,

    /// The bucket of wrong forgot-password answers empties over this many seconds.
    #[arg(long, env = "PORTAL_RESET_WINDOW_SECS", default_value_t = 24 * 3600,
          value_parser = clap::value_parser!(i64).range(60..=7 * 86_400))]
    pub reset_window_secs: i64,

    /// How long (seconds) forgot-password stays blocked for a login ID after the limit.
    #[arg(long, env = "PORTAL_RESET_BLOCK_SECS", default_value_t = 24 * 3600,
          value_parser = clap::value_parser!(i64).range(60..=30 * 86_400))]
    pub reset_block_secs: i64,

    /// Forgot-password answer checks per minute from one client address (`0`: off).
    #[arg(long, env = "PORTAL_ANSWERS_PER_MINUTE", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub answers_per_minute: u32,

    /// Answer checks one client address may make in a burst.
    #[arg(long, env = "PORTAL_ANSWERS_BURST", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub answers_burst: u32,

    /// `/metrics` on the portal's own address answers only `Authorization: Bearer
    /// TOKEN` (at least 16 characters); unset, it is served only on `--ops-addr`.
    #[arg(long, env = "PORTAL_METRICS_TOKEN", hide_env_values = true, value_parser = parse_token)]
    pub metrics_token: Option<domain::secret::Secret>,

    /// A second address for `/healthz`, `/readyz` and `/metrics` without a token (the
    /// monitoring network), e.g. `127.0.0.1:9100`.
    #[arg(long, env = "PORTAL_OPS_ADDR")]
    pub ops_addr: Option<std::net::SocketAddr>,

    /// The portal's public address, as parents type it (printed on the letters), e.g.
    /// `https://portal.school.edu.sg/`. Unset, letters show the address the staff
    /// member's browser used.
    #[arg(long, env = "PORTAL_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Where the portal's "Student ICON E-Mail" tile leads: an https address, a path
    /// on this portal, or empty for no tile. Default: the students' Google mail.
    #[arg(long, env = "PORTAL_EMAIL_URL", value_parser = parse_tile_url)]
    pub email_url: Option<String>,

    /// Where the portal's "Student Learning Space – SLS" tile leads (as --email-url).
    /// Default: SLS; with --demo, the built-in demo app that signs in through the portal.
    #[arg(long, env = "PORTAL_LEARNING_SPACE_URL", value_parser = parse_tile_url)]
    pub learning_space_url: Option<String>,

    /// Audit events older than this many days are deleted.
    #[arg(long, env = "PORTAL_AUDIT_RETENTION_DAYS", default_value_t = 400,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub audit_retention_days: i64,

    /// The retention job runs this often (seconds; `0`: never, e.g. when another
    /// instance runs it).
    #[arg(long, env = "PORTAL_PURGE_INTERVAL_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub purge_interval_secs: u64,
}

impl Config {
    /// Refuses a malformed secret setting without printing it.
    pub fn check_secrets(&self) -> Result<(), String> {
        if let Some(token) = &self.metrics_token {
            let token = token.expose();
            if token.chars().count() < 16 || !token.chars().all(|c| c.is_ascii_graphic()) {
                return Err(
                    "PORTAL_METRICS_TOKEN (--metrics-token) must be at least 16 \
                            visible ASCII characters, without spaces"
                        .into(),
                );
            }
        }
        Ok(())
    }

    pub fn hash_cost(&self) -> HashCost {
        HashCost {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: 1,
        }
    }

    /// Hashes that run at once: as set, or the number of cores capped by how many
    /// hashes of `cost` fit in the memory budget (at least one).
    pub fn hash_workers(&self, cost: HashCost) -> usize {
        self.hash_workers.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2);
            let per_hash_kib = u64::from(cost.memory_kib.max(1));
            let fit = u64::from(self.hash_memory_mib) * 1024 / per_hash_kib;
            cores.min(usize::try_from(fit).unwrap_or(usize::MAX)).max(1)
        })
    }

    /// The services' settings.
    pub fn settings(&self) -> Settings {
        Settings {
            idle_timeout_secs: self.idle_timeout_secs,
            absolute_timeout_secs: self.absolute_timeout_secs,
            secure_cookies: self.secure_cookies,
            lockout: LockoutPolicy {
                max_failures: self.lockout_attempts,
                lock_secs: self.lockout_secs,
                max_lock_secs: self.lockout_max_secs.max(self.lockout_secs),
            },
            throttle: ThrottleSettings {
                per_minute: self.sign_in_per_minute,
                burst: self.sign_in_burst,
            },
            trust_forwarded_for: self.trust_forwarded_for,
            reauth_secs: self.reauth_secs,
            journey_secs: self.journey_secs,
            password_history: self.password_history,
            reset_limit: ResetLimit {
                max_failures: self.reset_attempts,
                window_secs: self.reset_window_secs,
                block_secs: self.reset_block_secs,
            },
            answer_throttle: ThrottleSettings {
                per_minute: self.answers_per_minute,
                burst: self.answers_burst,
            },
            audit_retention_secs: self.audit_retention_days.saturating_mul(86_400),
            metrics_token: self.metrics_token.clone(),
            public_url: self.public_url.clone(),
            practice: self.practice,
            email_url: self
                .email_url
                .clone()
                .unwrap_or_else(|| portal_core::service::DEFAULT_EMAIL_URL.to_string()),
            learning_space_url: self.learning_space_url.clone().unwrap_or_else(|| {
                if self.practice {
                    domain::route::Endpoint::DemoApp.path().to_string()
                } else {
                    portal_core::service::DEFAULT_LEARNING_SPACE_URL.to_string()
                }
            }),
            ..Settings::default()
        }
    }
}

/// Taken as it is here (a refusal from the argument parser would print the value);
/// checked by [`Config::check_secrets`] with a message that does not repeat it.
fn parse_token(value: &str) -> Result<domain::secret::Secret, String> {
    Ok(domain::secret::Secret::new(value))
}

/// A tile's address: `https://…` (or `http://` for a test machine), a path on this
/// portal (`/…`), or empty (no tile).
fn parse_tile_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    let local = value.starts_with('/') && !value.starts_with("//");
    let absolute = url::Url::parse(value)
        .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
    if value.is_empty()
        || (local || absolute) && !value.chars().any(|c| c.is_control() || c == '\\')
    {
        Ok(value.to_string())
    } else {
        Err(format!("{value:?} is not a tile address: give https://…, a path like /apps/, or \"\" for no tile"))
    }
}

/// `http(s)://host[:port][/]`, normalised to end in `/`: no path, query or user info.
fn parse_public_url(value: &str) -> Result<String, String> {
    let refuse = || format!("{value:?} is not a public address like https://portal.school.edu.sg/");
    let uri: http::Uri = value.parse().map_err(|_| refuse())?;
    let scheme = uri.scheme_str().filter(|s| matches!(*s, "http" | "https"));
    let authority = uri.authority().filter(|a| !a.as_str().contains('@'));
    match (scheme, authority, uri.path(), uri.query()) {
        (Some(scheme), Some(authority), "/" | "", None) => Ok(format!("{scheme}://{authority}/")),
        _ => Err(refuse()),
    }
}
