//! What natcost says on stderr besides its output, each with one prefix and on one line
//! (ripgrep's `messages.rs` is the model), and what a run has said: [`Diagnostics`] keeps each
//! warning once for the report and decides whether the result is partial.

use std::collections::HashSet;
use std::fmt::Display;

use crate::exit::Outcome;

/// `natcost: warning: …`: something is missing or doubtful; the run goes on. For what is not
/// part of a report (a cache that could not be written); a run's warnings go through
/// [`Diagnostics::warn`].
pub fn warn(message: impl Display) {
    eprintln!(
        "natcost: warning: {}",
        crate::shown::one_line(&message.to_string())
    );
}

/// Runs `f`, turning a panic into `Err(its first line)` with nothing printed: for decoders of
/// untrusted files (the parquet crate panics on some corrupt ones). Panics elsewhere, and on
/// other threads meanwhile, are reported as usual.
pub fn caught<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    thread_local! {
        static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(|c| c.get()) {
                previous(info);
            }
        }));
    });
    let was = CATCHING.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was));
    result.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic")
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    })
}

/// `natcost: note: …`: worth knowing, nothing wrong.
pub fn note(message: impl Display) {
    eprintln!(
        "natcost: note: {}",
        crate::shown::one_line(&message.to_string())
    );
}

/// What one run has said: its warnings and what it could not read, each said once on stderr
/// and kept for the report. What could not be read makes the result partial (exit 3).
#[derive(Debug, Default)]
pub struct Diagnostics {
    warnings: Vec<String>,
    not_collected: Vec<String>,
    said: HashSet<String>,
}

impl Diagnostics {
    /// Says a warning once: `natcost: warning: …`.
    pub fn warn(&mut self, message: impl Display) {
        let message = message.to_string();
        if self.said.insert(message.clone()) {
            warn(&message);
            self.warnings.push(message);
        }
    }

    /// Says once that a part of the input could not be read: `natcost: warning: not collected:
    /// …`, the line the report lists it with. The result is partial.
    pub fn not_collected(&mut self, what: impl Display) {
        let what = what.to_string();
        if self.said.insert(format!("not collected: {what}")) {
            warn(format_args!("not collected: {what}"));
            self.not_collected.push(what);
        }
    }

    /// A part a snapshot file records as not collected: said when it was collected, so only
    /// kept (the report lists it, and the result is partial).
    pub fn carry_not_collected(&mut self, what: String) {
        if self.said.insert(format!("not collected: {what}")) {
            self.not_collected.push(what);
        }
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn not_collected_list(&self) -> &[String] {
        &self.not_collected
    }

    /// Partial when anything asked for could not be read.
    pub fn outcome(&self) -> Outcome {
        Outcome::partial_if(!self.not_collected.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thing_is_kept_once_and_only_gaps_make_it_partial() {
        let mut d = Diagnostics::default();
        d.warn("prices are 40 days old");
        d.warn("prices are 40 days old");
        assert_eq!(d.warnings(), ["prices are 40 days old"]);
        assert_eq!(d.outcome(), Outcome::Complete);
        d.not_collected("us-east-1: lambda:ListFunctions: AccessDenied");
        d.carry_not_collected("us-east-1: lambda:ListFunctions: AccessDenied".into());
        d.carry_not_collected("eu-west-1: ec2:DescribeSubnets: AccessDenied".into());
        assert_eq!(
            d.not_collected_list(),
            [
                "us-east-1: lambda:ListFunctions: AccessDenied",
                "eu-west-1: ec2:DescribeSubnets: AccessDenied"
            ]
        );
        assert_eq!(d.outcome(), Outcome::Partial);
    }
}
