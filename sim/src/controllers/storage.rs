//! PersistentVolumeClaims bind at once (there is no storage behind them);
//! PersistentVolumes report Available until claimed.

use serde_json::{Value, json};

use super::Decision;

/// PersistentVolumeClaim status: Bound with the requested capacity.
pub fn persistent_volume_claim(object: &Value) -> Decision {
    let access_modes = object
        .pointer("/spec/accessModes")
        .cloned()
        .unwrap_or_else(|| json!(["ReadWriteOnce"]));
    let storage = object
        .pointer("/spec/resources/requests/storage")
        .cloned()
        .unwrap_or_else(|| json!("1Gi"));
    Decision {
        status: Some(
            json!({"phase": "Bound", "accessModes": access_modes, "capacity": {"storage": storage}}),
        ),
        recheck_after: None,
    }
}

/// PersistentVolume status.
pub fn persistent_volume(object: &Value) -> Decision {
    let phase = if object.pointer("/spec/claimRef").is_some() {
        "Bound"
    } else {
        "Available"
    };
    Decision {
        status: Some(json!({"phase": phase})),
        recheck_after: None,
    }
}
