//! `server`: runs the portal. `server --demo` runs it in practice mode and seeds the
//! demo class.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;
use server::clock::SystemClock;
use server::config::{AccountsCommand, Cli, ClientsCommand, Command, KeysCommand, SchoolsCommand};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // PORTAL_LOG_FORMAT=json: one JSON object per line, for log collectors.
    if std::env::var("PORTAL_LOG_FORMAT").is_ok_and(|f| f == "json") {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let cli = Cli::parse();
    let result = match cli.command.clone().unwrap_or(Command::Serve) {
        Command::Serve => run(cli).await,
        Command::Audit { account } => {
            operation(&cli, |portal| async move {
                server::cli::audit(&portal, &account).await
            })
            .await
        }
        Command::Accounts {
            action:
                AccountsCommand::Import {
                    file,
                    school,
                    generic_password,
                    dry_run,
                },
        } => {
            operation(&cli, |portal| async move {
                server::cli::import(
                    &portal,
                    &file,
                    &school,
                    generic_password.as_deref(),
                    dry_run,
                )
                .await
            })
            .await
        }
        Command::Accounts {
            action: AccountsCommand::AddStaff { school, name, hq },
        } => {
            operation(&cli, |portal| async move {
                server::cli::add_staff(&portal, &school, &name, hq).await
            })
            .await
        }
        Command::Accounts {
            action: AccountsCommand::Reset { login_id },
        } => {
            operation(&cli, |portal| async move {
                server::cli::reset(&portal, &login_id).await
            })
            .await
        }
        Command::Schools {
            action: SchoolsCommand::Add { code, name },
        } => {
            operation(&cli, |portal| async move {
                server::cli::add_school(&portal, &code, &name).await
            })
            .await
        }
        Command::Clients {
            action:
                ClientsCommand::Add {
                    name,
                    redirect_uris,
                    public,
                    tile,
                    tile_description,
                    launch_uri,
                    roles,
                },
        } => {
            operation(&cli, |portal| async move {
                server::cli::add_client(
                    &portal,
                    server::cli::ClientArgs {
                        name,
                        redirect_uris,
                        public,
                        tile,
                        tile_description,
                        launch_uri,
                        roles,
                    },
                )
                .await
            })
            .await
        }
        Command::Clients {
            action: ClientsCommand::List,
        } => {
            operation(&cli, |portal| async move {
                server::cli::list_clients(&portal).await
            })
            .await
        }
        Command::Clients {
            action: ClientsCommand::Remove { client_id },
        } => {
            operation(&cli, |portal| async move {
                server::cli::remove_client(&portal, &client_id).await
            })
            .await
        }
        Command::Keys {
            action: KeysCommand::Rotate,
        } => {
            operation(&cli, |portal| async move {
                server::cli::rotate_key(&portal).await
            })
            .await
        }
        Command::Backup { file } => {
            print_out(server::backup::backup(&cli.config.database_url, &file).await)
        }
        Command::Restore { file } => {
            print_out(server::backup::restore(&cli.config.database_url, &file).await)
        }
        Command::Accounts {
            action: AccountsCommand::Unlock { login_id },
        } => {
            operation(&cli, |portal| async move {
                server::cli::unlock(&portal, &login_id).await
            })
            .await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Prints what a command that needs no portal reports.
fn print_out(result: Result<String, String>) -> Result<(), String> {
    print!("{}", result?);
    Ok(())
}

/// Runs a one-off operation on the configured database and prints its output.
async fn operation<F, Fut>(cli: &Cli, op: F) -> Result<(), String>
where
    F: FnOnce(Arc<server::Portal>) -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    let config = &cli.config;
    let portal = server::build_portal(config, config.hash_cost(), Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let out = op(portal).await?;
    print!("{out}");
    Ok(())
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut config = cli.config;
    config.check_secrets()?;
    config.practice = cli.demo;
    let portal = server::build_portal(&config, config.hash_cost(), Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    if cli.demo {
        let created = server::demo::seed(&portal)
            .await
            .map_err(|e| e.to_string())?;
        if created > 0 {
            tracing::info!(
                created,
                "seeded the demo class (temporary password 2024Kmps)"
            );
        } else {
            tracing::info!("the practice accounts are already there; demo seed skipped");
        }
    }
    if !cli.demo {
        if let Ok(Some(_)) = portal.school_name(server::demo::DEMO_SCHOOL.0).await {
            tracing::warn!(
                school = server::demo::DEMO_SCHOOL.0,
                "this database holds the practice school seeded by --demo (accounts on the \
                 published password 2024Kmps); use a separate database for practice"
            );
        }
    }
    if let Some(ops_addr) = config.ops_addr {
        let ops = tokio::net::TcpListener::bind(ops_addr)
            .await
            .map_err(|e| format!("could not listen on {ops_addr} (--ops-addr): {e}"))?;
        tracing::info!("operations endpoints on http://{ops_addr}");
        let routes = server::ops::private_routes(portal.clone());
        tokio::spawn(async move {
            if let Err(error) = server::serve(ops, routes).await {
                tracing::error!(%error, "the operations listener stopped");
            }
        });
    }
    if config.purge_interval_secs > 0 {
        server::ops::spawn_retention(
            portal.clone(),
            std::time::Duration::from_secs(config.purge_interval_secs),
        );
    }
    let options = server::leptos_options(None);
    let addr = options.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("could not listen on {addr}: {e}"))?;
    tracing::info!("listening on http://{addr}");
    server::serve(listener, server::router(portal, options))
        .await
        .map_err(|e| e.to_string())
}
