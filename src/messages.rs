//! What natcost says on stderr besides its output: warnings and notes, each with one prefix and
//! one line (ripgrep's `messages.rs` is the model). What a warning means for the exit code is
//! decided by what the report records as not collected (`exit::Outcome`), not here.

use std::fmt::Display;

/// `natcost: warning: …`: something is missing or doubtful; the run goes on.
pub fn warn(message: impl Display) {
    eprintln!("natcost: warning: {message}");
}

/// `natcost: warning: not collected: …`: a part of the input could not be read (exit 3).
pub fn not_collected(what: impl Display) {
    warn(format_args!("not collected: {what}"));
}

/// `natcost: note: …`: worth knowing, nothing wrong.
pub fn note(message: impl Display) {
    eprintln!("natcost: note: {message}");
}
