//! The `workgraph` binary: parses the configuration and runs the chosen command.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use migration::{Migrator, MigratorTrait};
use server::config::{Command, Config, MigrateAction};
use tokio::net::TcpListener;

/// mimalloc rather than the system allocator: a response is thousands of small values built
/// and freed across worker threads, where glibc's arenas spent a third of the CPU of the
/// nested-reads benchmark (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let config = match Config::try_parse() {
        Ok(config) => config,
        Err(err) if !err.use_stderr() => {
            // --help and --version
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let rendered = err.render().to_string();
            let first = rendered
                .lines()
                .next()
                .unwrap_or("error: invalid arguments");
            eprintln!("{first}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    match config.command.clone().unwrap_or(Command::Serve) {
        Command::ExportSchema => {
            print!("{}", graph::sdl());
            Ok(())
        }
        Command::Migrate { action } => {
            server::telemetry::init(&config.log_filter, config.log_format)
                .context("invalid log filter (RUST_LOG / --log)")?;
            let db = server::db::open_waiting(&config, startup_wait(&config)).await?;
            match action {
                MigrateAction::Up => Migrator::up(&db, None).await?,
                MigrateAction::Down { steps } => Migrator::down(&db, Some(steps)).await?,
                MigrateAction::Status => Migrator::status(&db).await?,
            }
            Ok(())
        }
        Command::RotateChatKey {
            new_key,
            batch_size,
        } => {
            server::telemetry::init(&config.log_filter, config.log_format)
                .context("invalid log filter (RUST_LOG / --log)")?;
            let db = server::db::open_waiting(&config, startup_wait(&config)).await?;
            server::db::migrate(&db).await?;
            let (done, key) =
                server::chat::rotate_command(&db, &config, new_key, batch_size).await?;
            println!(
                "resealed {} chat messages under key {key}; {} did not open, {} changed meanwhile",
                done.resealed, done.failed, done.skipped
            );
            if done.failed > 0 {
                anyhow::bail!(
                    "{} chat messages could not be opened (see the log)",
                    done.failed
                );
            }
            Ok(())
        }
        Command::Serve => serve(config).await,
    }
}

fn startup_wait(config: &Config) -> std::time::Duration {
    std::time::Duration::from_secs(config.db_startup_wait_secs)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    server::telemetry::init(&config.log_filter, config.log_format)
        .context("invalid log filter (RUST_LOG / --log)")?;
    server::chat::check(&config)?;
    let db = server::db::open_waiting(&config, startup_wait(&config)).await?;
    server::db::migrate(&db).await?;
    match server::conn::raise_descriptor_limit() {
        Ok((before, after)) if after > before => {
            tracing::info!(before, after, "raised the open-file limit");
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "cannot read or raise the open-file limit"),
    }
    let connections = server::conn::ConnectionSettings::new(&config);
    tracing::info!(
        max_connections = connections.max_connections,
        "accepting connections"
    );
    let app = server::build(db, &config).await?;
    #[cfg(unix)]
    if let Some(trusted) = app.trusted_documents {
        server::trusted::reload_on_hangup(trusted).context("cannot listen for SIGHUP")?;
    }
    if let (Some(metrics), Some(addr)) = (app.metrics_router, config.metrics_addr) {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for the metrics"))?;
        tracing::info!("serving metrics on http://{addr}/metrics");
        let settings = connections;
        tokio::spawn(async move {
            if let Err(err) =
                server::serve(listener, metrics, settings, server::shutdown_signal()).await
            {
                tracing::error!(error = %err, "the metrics listener stopped");
            }
        });
    }
    let router = app.router;
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    tracing::info!("serving GraphQL on http://{addr}/graphql (GraphiQL in a browser)");
    server::serve(listener, router, connections, server::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
