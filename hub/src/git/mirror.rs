//! A node's bare mirror of the fleet repository.

use std::path::{Path, PathBuf};

use fleet_core::Snapshot;
use fleet_core::render::{ChartDigest, RenderSettings};
use git2::{Cred, CredentialType, FetchOptions, RemoteCallbacks, Repository};

/// A Git operation on the mirror failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The mirror could not be created or opened.
    #[error("opening the Git mirror at {path}")]
    Open {
        /// Mirror path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: git2::Error,
    },
    /// Fetching from the remote failed.
    #[error("fetching branch '{branch}' from {url}")]
    Fetch {
        /// Remote URL.
        url: String,
        /// Tracked branch.
        branch: String,
        /// The cause.
        #[source]
        source: git2::Error,
    },
    /// A credential file could not be read.
    #[error("reading the Git credential file {path}")]
    Credential {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading a revision out of the mirror failed.
    #[error(transparent)]
    Read(#[from] fleet_core::source::SourceError),
}

/// The tip of the tracked branch after a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedRevision {
    /// Commit id.
    pub revision: String,
    /// Commit summary line.
    pub summary: String,
}

/// How the remote is reached.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// HTTPS access token.
    pub token: Option<String>,
    /// SSH private key file.
    pub ssh_key: Option<PathBuf>,
}

/// A bare mirror that follows one branch of one remote.
#[derive(Debug)]
pub struct GitMirror {
    path: PathBuf,
    url: String,
    branch: String,
    credentials: Credentials,
    render: RenderSettings,
}

impl GitMirror {
    /// Opens (creating if needed) the mirror at `path`.
    pub fn open(
        path: &Path,
        url: &str,
        branch: &str,
        token_file: Option<&Path>,
        ssh_key: Option<&Path>,
    ) -> Result<Self, GitError> {
        let open_error = |source| GitError::Open {
            path: path.to_owned(),
            source,
        };
        if Repository::open_bare(path).is_err() {
            Repository::init_bare(path).map_err(open_error)?;
        }
        let token = token_file
            .map(|file| {
                std::fs::read_to_string(file)
                    .map(|token| token.trim().to_owned())
                    .map_err(|source| GitError::Credential {
                        path: file.to_owned(),
                        source,
                    })
            })
            .transpose()?;
        Ok(Self {
            path: path.to_owned(),
            url: url.to_owned(),
            branch: branch.to_owned(),
            credentials: Credentials {
                token,
                ssh_key: ssh_key.map(Path::to_owned),
            },
            render: RenderSettings::default(),
        })
    }

    /// Reads and renders revisions under `settings` (hub.yaml `render.*`).
    #[must_use]
    pub fn with_render_settings(mut self, settings: RenderSettings) -> Self {
        self.render = settings;
        self
    }

    /// The limits revisions of this mirror are read and rendered under.
    pub fn render_settings(&self) -> RenderSettings {
        self.render.clone()
    }

    /// The render settings, with the chart digests the replicated state
    /// recorded (`recorded`): a chart version fetched with another digest
    /// fails to render on this node as on every other.
    pub fn render_settings_with(&self, recorded: Vec<ChartDigest>) -> RenderSettings {
        let mut settings = self.render.clone();
        settings.chart_fetch.recorded = recorded;
        settings
    }

    /// The tracked branch.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// Fetches the tracked branch and returns its tip. Blocking.
    pub fn fetch(&self) -> Result<FetchedRevision, GitError> {
        let fetch_error = |source| GitError::Fetch {
            url: self.url.clone(),
            branch: self.branch.clone(),
            source,
        };
        let repository = Repository::open_bare(&self.path).map_err(|source| GitError::Open {
            path: self.path.clone(),
            source,
        })?;
        let mut remote = repository
            .remote_anonymous(&self.url)
            .map_err(fetch_error)?;
        let mut callbacks = RemoteCallbacks::new();
        let mut attempts = 0;
        let credentials = self.credentials.clone();
        callbacks.credentials(move |_url, username, allowed| {
            // git2 calls again after a refused credential: give up after one try.
            attempts += 1;
            if attempts > 1 {
                return Err(git2::Error::from_str(
                    "the remote refused the configured credentials",
                ));
            }
            if allowed.contains(CredentialType::SSH_KEY)
                && let Some(key) = &credentials.ssh_key
            {
                return Cred::ssh_key(username.unwrap_or("git"), None, key, None);
            }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT)
                && let Some(token) = &credentials.token
            {
                return Cred::userpass_plaintext("x-access-token", token);
            }
            Err(git2::Error::from_str(
                "the remote asks for credentials and none are configured",
            ))
        });
        let mut options = FetchOptions::new();
        options.remote_callbacks(callbacks);
        let reference = format!("refs/heads/{}", self.branch);
        let refspec = format!("+{reference}:{reference}");
        remote
            .fetch(&[refspec.as_str()], Some(&mut options), None)
            .map_err(fetch_error)?;
        let commit = repository
            .find_reference(&reference)
            .and_then(|reference| reference.peel_to_commit())
            .map_err(fetch_error)?;
        Ok(FetchedRevision {
            revision: commit.id().to_string(),
            summary: commit
                .summary()
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// Whether the mirror has `revision`.
    pub fn has_revision(&self, revision: &str) -> bool {
        Repository::open_bare(&self.path)
            .ok()
            .and_then(|repository| {
                let id = git2::Oid::from_str(revision).ok()?;
                repository.find_commit(id).ok().map(|_| ())
            })
            .is_some()
    }

    /// The repository's files at `revision`. Blocking.
    pub fn snapshot(&self, revision: &str) -> Result<Snapshot, GitError> {
        Ok(Snapshot::from_git_with_limits(
            &self.path,
            revision,
            self.render.limits,
        )?)
    }
}
