//! `guardpost`: the local server and the administration commands.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = guardpost::cli::Cli::parse();
    let json = std::env::var("GUARDPOST_LOG_FORMAT").is_ok_and(|f| f == "json");
    guardpost::cli::init_logging(json);
    match guardpost::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
