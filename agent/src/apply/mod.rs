//! Applying objects to the cluster: server-side apply with field manager
//! `fleet-agent` and force (Git wins conflicts), namespaces created when
//! missing, deletion for prune. Everything goes through the `kube` crate with
//! dynamic discovery, so CRDs and their custom resources need no code.

pub mod discovery;
pub mod object;

use std::collections::HashSet;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::{Api, Client};
use serde_json::Value;
use tracing::debug;

use self::discovery::{Resolved, Resolver};
use self::object::ObjectKey;

/// The field manager every apply uses.
pub const FIELD_MANAGER: &str = "fleet-agent";

/// Why an object could not be applied or deleted. The message is what the
/// agent reports for that object.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The API server does not serve the kind.
    #[error("{object}: kind {api_version}/{kind} is not served by the cluster ({message})")]
    UnknownKind {
        /// The object.
        object: ObjectKey,
        /// Its apiVersion.
        api_version: String,
        /// Its kind.
        kind: String,
        /// What discovery said.
        message: String,
    },
    /// The API server refused the request.
    #[error("{object}: {message}")]
    Rejected {
        /// The object.
        object: ObjectKey,
        /// The API server's message.
        message: String,
        /// The HTTP status code (0 when the request never got an answer).
        code: u16,
    },
    /// The API server's answer could not be read.
    #[error("{object}: unreadable answer from the API server: {source}")]
    Answer {
        /// The object.
        object: ObjectKey,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

impl ApplyError {
    /// Whether the API server refused the object because its namespace is
    /// being deleted (403 `unable to create new content in namespace … because
    /// it is being terminated`): a wait, not a failure — the namespace
    /// controller removes the namespace soon and the object can then be
    /// applied again.
    pub fn is_namespace_terminating(&self) -> bool {
        matches!(self, ApplyError::Rejected { code: 403, message, .. }
            if message.contains("because it is being terminated"))
    }
}

/// Result of this module.
pub type Result<T, E = ApplyError> = std::result::Result<T, E>;

fn rejected(object: &ObjectKey, error: kube::Error) -> ApplyError {
    match error {
        kube::Error::Api(status) => ApplyError::Rejected {
            object: object.clone(),
            message: if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            },
            code: status.code,
        },
        other => ApplyError::Rejected {
            object: object.clone(),
            message: other.to_string(),
            code: 0,
        },
    }
}

/// Applies and deletes objects in one cluster.
#[derive(Clone)]
pub struct Applier {
    client: Client,
    resolver: Resolver,
    known_namespaces: HashSet<String>,
}

impl Applier {
    /// An applier talking to `client`.
    pub fn new(client: Client) -> Self {
        Self {
            resolver: Resolver::new(client.clone()),
            client,
            known_namespaces: HashSet::new(),
        }
    }

    /// The kube client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Resolves the kind of an object.
    pub async fn resolve(&mut self, key: &ObjectKey, api_version: &str) -> Result<Resolved> {
        self.resolver
            .resolve(api_version, &key.kind)
            .await
            .map_err(|error| ApplyError::UnknownKind {
                object: key.clone(),
                api_version: object::group_of(api_version).to_owned(),
                kind: key.kind.clone(),
                message: match error {
                    kube::Error::Api(status) => status.message.clone(),
                    other => other.to_string(),
                },
            })
    }

    fn api(&self, resolved: &Resolved, namespace: &str) -> Api<DynamicObject> {
        if resolved.namespaced {
            Api::namespaced_with(self.client.clone(), namespace, &resolved.resource)
        } else {
            Api::all_with(self.client.clone(), &resolved.resource)
        }
    }

    /// Creates `namespace` unless this applier knows it exists.
    pub async fn ensure_namespace(&mut self, namespace: &str) -> Result<()> {
        if namespace.is_empty() || self.known_namespaces.contains(namespace) {
            return Ok(());
        }
        let api: Api<Namespace> = Api::all(self.client.clone());
        let mut created = Namespace::default();
        created.metadata.name = Some(namespace.to_owned());
        match api.create(&PostParams::default(), &created).await {
            Ok(_) => debug!(namespace, "namespace created"),
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(error) => {
                return Err(rejected(
                    &ObjectKey {
                        group: String::new(),
                        kind: "Namespace".into(),
                        namespace: String::new(),
                        name: namespace.to_owned(),
                    },
                    error,
                ));
            }
        }
        self.known_namespaces.insert(namespace.to_owned());
        Ok(())
    }

    /// Server-side applies `manifest` (the object `key` at `api_version`);
    /// returns the object as the API server stored it.
    pub async fn apply(
        &mut self,
        key: &ObjectKey,
        api_version: &str,
        manifest: &Value,
    ) -> Result<Value> {
        let resolved = self.resolve(key, api_version).await?;
        if resolved.namespaced {
            self.ensure_namespace(&key.namespace).await?;
        }
        let api = self.api(&resolved, &key.namespace);
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let stored = match api.patch(&key.name, &params, &Patch::Apply(manifest)).await {
            Ok(stored) => stored,
            Err(kube::Error::Api(status)) if status.code == 404 && resolved.namespaced => {
                // The namespace went away since we last saw it: create it again once.
                self.known_namespaces.remove(&key.namespace);
                self.ensure_namespace(&key.namespace).await?;
                api.patch(&key.name, &params, &Patch::Apply(manifest))
                    .await
                    .map_err(|error| rejected(key, error))?
            }
            Err(error) => {
                let error = rejected(key, error);
                if error.is_namespace_terminating() {
                    // It will be gone soon: create it again when it is.
                    self.known_namespaces.remove(&key.namespace);
                }
                return Err(error);
            }
        };
        if key.kind == "CustomResourceDefinition"
            && key.group == "apiextensions.k8s.io"
            && let Some(group) = manifest.pointer("/spec/group").and_then(Value::as_str)
        {
            self.resolver.forget_group(group);
        }
        serde_json::to_value(stored).map_err(|source| ApplyError::Answer {
            object: key.clone(),
            source,
        })
    }

    /// Deletes an object (already gone is fine).
    pub async fn delete(&mut self, key: &ObjectKey, api_version: &str) -> Result<()> {
        let resolved = self.resolve(key, api_version).await?;
        let api = self.api(&resolved, &key.namespace);
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        match api.delete(&key.name, &params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(error) => Err(rejected(key, error)),
        }
    }
}
