//! Configuration: built-in defaults, overridden by environment variables, overridden
//! by command-line flags. Unknown flags and malformed values stop the start-up with a
//! message that names the setting.

use clap::{Parser, Subcommand};

use crate::crypto::HashCost;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "server",
    about = "School account onboarding portal (MIMS first-login journey)",
    version
)]
pub struct Cli {
    /// Seed demo accounts (Allen Tan and his class) if the database is empty.
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
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
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

    /// Hashes that may run at once (default: the number of cores).
    #[arg(long, env = "PORTAL_HASH_WORKERS")]
    pub hash_workers: Option<usize>,

    /// Hashes that may wait for a worker before requests are answered 503.
    #[arg(long, env = "PORTAL_HASH_QUEUE", default_value_t = 64)]
    pub hash_queue: usize,

    /// Mark the session cookie Secure with the __Host- prefix (serve over HTTPS).
    #[arg(long, env = "PORTAL_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,
}

impl Config {
    pub fn hash_cost(&self) -> HashCost {
        HashCost {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: 1,
        }
    }

    pub fn hash_workers(&self) -> usize {
        self.hash_workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
    }
}
