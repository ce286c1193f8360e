use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use acp_cockpit::cli::{Cli, Sub};

fn main() -> ExitCode {
    // kube, reqwest and russh all reach rustls; one process-wide provider avoids the
    // "could not determine the process-level CryptoProvider" panic.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    if cli.command.is_some() {
        restore_default_sigpipe();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("acp-cockpit: cannot start the async runtime: {e}");
            return ExitCode::from(acp_cockpit::cli::exit::CANNOT_CHECK as u8);
        }
    };
    let result = rt.block_on(async move {
        let global = cli.global;
        match cli.command {
            None => acp_cockpit::tui::launch(&global).await,
            Some(Sub::Info(a)) => acp_cockpit::cli::info::run(a, &global).await,
            Some(Sub::Completions { shell }) => {
                clap_complete::generate(
                    shell,
                    &mut Cli::command(),
                    "acp-cockpit",
                    &mut std::io::stdout(),
                );
                Ok(0)
            }
            Some(Sub::Clusters(a)) => acp_cockpit::cli::clusters::run(a, &global).await,
            Some(Sub::Timeline(a)) => acp_cockpit::cli::timeline::run(a, &global).await,
            Some(Sub::Validate(a)) => acp_cockpit::cli::validate::run(a, &global).await,
            Some(Sub::Create(a)) => acp_cockpit::cli::create::run(a, &global).await,
            Some(Sub::Drafts(a)) => acp_cockpit::cli::drafts::run(a, &global).await,
            Some(Sub::Preflight(a)) => acp_cockpit::cli::preflight::run(a, &global).await,
            Some(Sub::Etcd(a)) => acp_cockpit::cli::etcd::run(a, &global).await,
            Some(Sub::Registry(a)) => acp_cockpit::cli::registry::run(a, &global).await,
            Some(Sub::Sandbox(a)) => acp_cockpit::cli::sandbox::run(a, &global).await,
            Some(Sub::Screenshots(a)) => acp_cockpit::tui::screenshots::run(&a.out),
        }
    });
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // Every error a subcommand returns means it could not check (see `cli::exit`).
        Err(e) => {
            eprintln!("acp-cockpit: {e:#}");
            ExitCode::from(acp_cockpit::cli::exit::CANNOT_CHECK as u8)
        }
    }
}

/// Rust ignores SIGPIPE, so `acp-cockpit clusters | head` would panic in `println!` once `head`
/// exits. A subcommand is a Unix filter and should end quietly like one; the TUI keeps the
/// default Rust behaviour because it never writes to a pipe.
fn restore_default_sigpipe() {
    // SAFETY: called before any other thread exists that could be writing; SIG_DFL for
    // SIGPIPE is async-signal-safe and only changes what happens on a write to a closed pipe.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
