use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use natcost::{app, cli::Cli, exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    app::init_logging(cli.verbose);
    app::run(cli).unwrap_or_else(|e| {
        if !exit::broken_pipe(&e) {
            let _ = writeln!(
                std::io::stderr(),
                "natcost: error: {}",
                natcost::one_line(&format!("{e:#}"))
            );
        }
        exit::of_error(&e)
    })
}
