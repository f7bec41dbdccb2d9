//! The simulated namespace controller: a namespace deleted while the store
//! has a namespace finalize delay stays `Terminating` (its content already
//! deleted, new content refused); after the delay this removes it, as the
//! real namespace controller does once the namespace is empty.

use serde_json::Value;

use crate::api::delete_namespace_contents;
use crate::catalog::GroupResource;
use crate::store::StoreState;

/// The namespaces resource.
pub fn namespaces() -> GroupResource {
    GroupResource::new("", "namespaces")
}

/// Whether a stored namespace has been deleted and waits to be removed.
pub fn is_terminating(namespace: &Value) -> bool {
    namespace.pointer("/metadata/deletionTimestamp").is_some()
}

/// Removes the namespace `name` if it is still terminating: deletes whatever
/// content is left, then the namespace itself.
pub fn finalize(state: &mut StoreState, name: &str) {
    let Some(stored) = state.get(&namespaces(), "", name) else {
        return;
    };
    if !is_terminating(&stored) {
        return;
    }
    delete_namespace_contents(state, name);
    state.delete(&namespaces(), "", name);
    tracing::debug!(namespace = %name, "simulated namespace controller removed a terminated namespace");
}
