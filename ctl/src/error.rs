//! How `fleetctl` fails: `error:` / `Caused by:` / `hint:` on stderr and an
//! exit code that tells problems in the user's input from failures.

use std::process::ExitCode;

use fleet_core::Diagnostics;

/// Exit code when the fleet repository or the command's input is wrong.
pub const EXIT_INVALID: u8 = 1;
/// Exit code when fleetctl itself could not do its work (I/O, tools missing).
pub const EXIT_FAILURE: u8 = 3;

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The fleet repository has problems; each is printed.
    #[error("{} problem(s) in the fleet repository", .0.0.len())]
    Invalid(Diagnostics),
    /// The input is wrong (unknown cluster, revision not found, …).
    #[error("{message}")]
    Input {
        /// What is wrong.
        message: String,
        /// A suggestion for the user.
        hint: Option<String>,
    },
    /// Something failed that is not the user's input.
    #[error(transparent)]
    Failure(#[from] anyhow::Error),
}

impl CliError {
    /// A wrong input, with a hint.
    pub fn input(message: impl Into<String>, hint: Option<String>) -> Self {
        Self::Input {
            message: message.into(),
            hint,
        }
    }

    /// Prints the error and returns the exit code.
    pub fn report(&self) -> ExitCode {
        match self {
            CliError::Invalid(diagnostics) => {
                // The same problem found for many clusters is printed once.
                let grouped = diagnostics.grouped();
                for diagnostic in &grouped {
                    eprintln!("error: {diagnostic}");
                }
                eprintln!(
                    "{} error(s); nothing was rendered for the broken parts",
                    grouped.len()
                );
                ExitCode::from(EXIT_INVALID)
            }
            CliError::Input { message, hint } => {
                eprintln!("error: {message}");
                if let Some(hint) = hint {
                    eprintln!("hint: {hint}");
                }
                ExitCode::from(EXIT_INVALID)
            }
            CliError::Failure(error) => {
                eprintln!("error: {error}");
                for cause in error.chain().skip(1) {
                    eprintln!("Caused by: {cause}");
                }
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

impl From<Diagnostics> for CliError {
    fn from(diagnostics: Diagnostics) -> Self {
        CliError::Invalid(diagnostics)
    }
}
