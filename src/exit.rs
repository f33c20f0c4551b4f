//! How a run ends: its exit code, decided here and nowhere else (fd's `exit_codes.rs` is the
//! model). 0 success, 1 error, 2 bad command line, 3 partial result.

use std::process::ExitCode;

/// A command line that asks for something the input cannot give (exit 2, like clap's errors).
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Whether everything asked for was read: a partial result names what is missing and exits 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Complete,
    Partial,
}

impl Outcome {
    pub fn partial_if(partial: bool) -> Outcome {
        if partial {
            Outcome::Partial
        } else {
            Outcome::Complete
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> ExitCode {
        match o {
            Outcome::Complete => ExitCode::SUCCESS,
            Outcome::Partial => ExitCode::from(PARTIAL),
        }
    }
}

const ERROR: u8 = 1;
const USAGE: u8 = 2;
const PARTIAL: u8 = 3;

/// The exit code of a run that failed: a closed pipe (`natcost … | head`) is no failure, a
/// [`Usage`] error anywhere in the chain is 2, anything else 1.
pub fn of_error(e: &anyhow::Error) -> ExitCode {
    if broken_pipe(e) {
        ExitCode::SUCCESS
    } else if e.chain().any(|c| c.downcast_ref::<Usage>().is_some()) {
        ExitCode::from(USAGE)
    } else {
        ExitCode::from(ERROR)
    }
}

/// Whether the error is writing to a reader that went away: nothing to report.
pub fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn each_ending_has_its_code() {
        assert_eq!(ExitCode::from(Outcome::Complete), ExitCode::SUCCESS);
        assert_eq!(ExitCode::from(Outcome::Partial), ExitCode::from(3));
        assert_eq!(Outcome::partial_if(true), Outcome::Partial);
        assert_eq!(Outcome::partial_if(false), Outcome::Complete);
        let usage = anyhow::Error::new(Usage("--days 0".into())).context("reading the window");
        assert_eq!(of_error(&usage), ExitCode::from(2));
        assert_eq!(
            of_error(&anyhow::anyhow!("no such file")),
            ExitCode::from(1)
        );
        let pipe: anyhow::Result<()> =
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)).context("writing stdout");
        assert!(broken_pipe(pipe.as_ref().unwrap_err()));
        assert_eq!(of_error(&pipe.unwrap_err()), ExitCode::SUCCESS);
    }
}
