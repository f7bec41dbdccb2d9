//! SOPS-encrypted objects: the hub sends each as an envelope (ciphertext
//! plus fleet's namespace and labels); the agent opens it here, before
//! anything is applied, compared or watched, so drift is judged against the
//! decrypted desired state. The plaintext lives only in the agent's memory
//! and in the cluster: the offline cache keeps what the hub sent.
//!
//! An envelope that cannot be opened (no key, wrong key, tampered file)
//! stays sealed: nothing of that object is applied (and nothing pruned: it
//! is still desired), the app reports "cannot decrypt … for cluster …" as a
//! failure and is Degraded, and the rest of the app proceeds. Sealed objects
//! are tried again on the next full pass after the failure's retry time, so
//! a key added later is picked up.

use tracing::{info, warn};

use super::{ParsedApp, Reconciler};

impl Reconciler {
    /// Decrypts every sealed object of `apps` it can.
    pub(super) fn open_sealed(&self, apps: &mut [ParsedApp]) {
        if apps.iter().all(|app| app.sealed.is_empty()) {
            return;
        }
        let identities = self.sops_keys.load();
        if let Err(error) = &identities {
            warn!(%error, "cannot read the SOPS age key file");
        }
        for app in apps {
            let mut still_sealed = Vec::new();
            for (index, _) in std::mem::take(&mut app.sealed) {
                let Some(object) = app.objects.get_mut(index) else {
                    continue;
                };
                let file = object
                    .sops_file
                    .clone()
                    .unwrap_or_else(|| "(unnamed SOPS file)".to_owned());
                let opened = match &identities {
                    Ok(identities) => {
                        fleet_sops::open_envelope(&object.manifest, identities.as_ref())
                            .map_err(|error| error.reason())
                    }
                    Err(error) => Err(error.clone()),
                };
                match opened {
                    Ok(manifest) => {
                        object.manifest = manifest;
                        info!(object = %object.key, file = %file, "decrypted");
                    }
                    Err(reason) => still_sealed.push((
                        index,
                        format!(
                            "cannot decrypt {file} for cluster {}: {reason}",
                            self.cluster
                        ),
                    )),
                }
            }
            app.sealed = still_sealed;
        }
    }
}
