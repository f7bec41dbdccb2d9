//! Running an external renderer (Kustomize today, Helm later) on input from
//! the fleet repository, which is hostile.
//!
//! The command gets a cleared environment: only `PATH`, a private empty
//! `HOME` and `TMPDIR` (deleted afterwards) and `GIT_TERMINAL_PROMPT=0` — no
//! `GIT_*`, no `SSH_AUTH_SOCK`, no proxies, no credential helpers from the
//! caller's home. It runs in its own process group, which is killed as a
//! whole when the wall-clock timeout passes, and its output is capped.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How often the runner checks whether the command has finished.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Running the command failed or it did not finish in time.
#[derive(Debug, thiserror::Error)]
pub enum ExternalCommandError {
    /// The private home directory could not be created.
    #[error("creating a private HOME for {program}: {source}")]
    Home {
        /// The program to run.
        program: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The program could not be started or waited for.
    #[error("running {program}: {source}")]
    Run {
        /// The program.
        program: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The program ran longer than the timeout and was killed.
    #[error("{program} did not finish within {} s and was killed", timeout.as_secs_f64())]
    TimedOut {
        /// The program.
        program: String,
        /// The timeout that passed.
        timeout: Duration,
    },
    /// The program printed more than the output limit.
    #[error("{program} printed more than {limit} bytes (refused)")]
    OutputTooLarge {
        /// The program.
        program: String,
        /// The limit in bytes.
        limit: u64,
    },
}

/// What the command printed and whether it succeeded.
#[derive(Debug)]
pub struct CommandOutput {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error (capped like stdout).
    pub stderr: Vec<u8>,
}

/// One run of an external command with limits.
#[derive(Debug, Clone)]
pub struct ExternalCommand<'a> {
    /// Program and arguments.
    pub words: &'a [String],
    /// Wall-clock limit; the process group is killed when it passes.
    pub timeout: Duration,
    /// Most bytes read from stdout (and from stderr).
    pub output_limit: u64,
}

impl ExternalCommand<'_> {
    /// Runs the command with `argument` appended.
    pub fn run(&self, argument: &Path) -> Result<CommandOutput, ExternalCommandError> {
        let program = self.words.join(" ");
        let Some((first, rest)) = self.words.split_first() else {
            return Err(ExternalCommandError::Run {
                program,
                source: std::io::Error::other("empty command"),
            });
        };
        let home = tempfile::Builder::new()
            .prefix("fleet-home-")
            .tempdir()
            .map_err(|source| ExternalCommandError::Home {
                program: program.clone(),
                source,
            })?;
        let mut command = Command::new(first);
        command
            .args(rest)
            .arg(argument)
            .env_clear()
            .env("HOME", home.path())
            .env("TMPDIR", home.path())
            .env("GIT_TERMINAL_PROMPT", "0")
            .current_dir(home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let run_error = |source| ExternalCommandError::Run {
            program: program.clone(),
            source,
        };
        let mut child = command.spawn().map_err(run_error)?;
        let group = rustix::process::Pid::from_child(&child);
        let limit = self.output_limit;
        let stdout = child.stdout.take().map(|pipe| read_capped(pipe, limit));
        let stderr = child.stderr.take().map(|pipe| read_capped(pipe, limit));
        let deadline = Instant::now() + self.timeout;
        let mut status = None;
        // Done when the command has exited and both pipes are closed (a
        // grandchild it left behind could still hold them).
        let finished = loop {
            if status.is_none() {
                status = child.try_wait().map_err(run_error)?;
            }
            let drained = [&stdout, &stderr]
                .iter()
                .all(|reader| reader.as_ref().is_none_or(|reader| reader.is_finished()));
            if status.is_some() && drained {
                break true;
            }
            if Instant::now() >= deadline {
                break false;
            }
            std::thread::sleep(POLL_INTERVAL);
        };
        let Some(status) = status.filter(|_| finished) else {
            // The group id cannot have been reused: either the leader is not
            // reaped yet or a member still holds the pipes.
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            let _ = child.wait();
            return Err(ExternalCommandError::TimedOut {
                program,
                timeout: self.timeout,
            });
        };
        let (stdout, stdout_truncated) = join(stdout);
        let (stderr, _) = join(stderr);
        if stdout_truncated {
            return Err(ExternalCommandError::OutputTooLarge { program, limit });
        }
        Ok(CommandOutput {
            success: status.success(),
            stdout,
            stderr,
        })
    }
}

type Reader = std::thread::JoinHandle<(Vec<u8>, bool)>;

/// Reads `pipe` on its own thread, keeping at most `limit` bytes; the flag
/// says whether there was more (the rest is drained so the child never blocks).
fn read_capped(pipe: impl Read + Send + 'static, limit: u64) -> Reader {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut pipe = pipe;
        let _ = pipe.by_ref().take(limit).read_to_end(&mut kept);
        let rest = std::io::copy(&mut pipe, &mut std::io::sink()).unwrap_or(0);
        (kept, rest > 0)
    })
}

fn join(reader: Option<Reader>) -> (Vec<u8>, bool) {
    reader
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> Vec<String> {
        vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()]
    }

    #[test]
    fn the_environment_is_cleared() {
        let words = shell("env; echo \"$0\"");
        let command = ExternalCommand {
            words: &words,
            timeout: Duration::from_secs(60),
            output_limit: 1 << 20,
        };
        let output = command.run(Path::new("argument")).unwrap();
        assert!(output.success);
        let printed = String::from_utf8(output.stdout).unwrap();
        let mut names: Vec<&str> = printed
            .lines()
            .filter_map(|line| line.split_once('=').map(|(name, _)| name))
            .filter(|name| !["PWD", "SHLVL", "_", "OLDPWD"].contains(name))
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["GIT_TERMINAL_PROMPT", "HOME", "PATH", "TMPDIR"]);
        assert!(printed.contains("GIT_TERMINAL_PROMPT=0"), "{printed}");
        assert!(printed.trim_end().ends_with("argument"), "{printed}");
    }

    #[test]
    fn a_command_that_hangs_is_killed_with_its_children() {
        let marker = tempfile::tempdir().unwrap();
        let late = marker.path().join("late");
        // The child shell starts a grandchild that would write the marker
        // after the timeout; killing the group must stop it too.
        let words = shell(&format!("(sleep 2; touch {}) & sleep 30", late.display()));
        let command = ExternalCommand {
            words: &words,
            timeout: Duration::from_millis(300),
            output_limit: 1 << 20,
        };
        let error = command.run(Path::new("x")).unwrap_err().to_string();
        assert!(error.contains("did not finish within 0.3 s"), "{error}");
        std::thread::sleep(Duration::from_secs(3));
        assert!(!late.exists(), "the grandchild outlived the timeout");
    }

    #[test]
    fn output_over_the_limit_is_refused() {
        let words = shell("head -c 5000 /dev/zero");
        let command = ExternalCommand {
            words: &words,
            timeout: Duration::from_secs(60),
            output_limit: 1000,
        };
        let error = command.run(Path::new("x")).unwrap_err().to_string();
        assert!(error.contains("more than 1000 bytes"), "{error}");
    }
}
