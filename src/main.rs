use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use natcost::{app, cli::Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    app::init_logging(cli.verbose);
    match app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "natcost: error: {e:#}");
            if e.chain().any(|c| c.downcast_ref::<app::Usage>().is_some()) {
                return ExitCode::from(app::EXIT_USAGE);
            }
            ExitCode::from(app::EXIT_ERROR)
        }
    }
}
