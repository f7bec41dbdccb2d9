//! Variables declared in `spec.vars` of the fleet, environments and clusters.

use std::collections::BTreeMap;

use serde_json::Value;

/// Variable names to values (scalars in practice; a string that is exactly
/// `${name}` takes the value with its type).
pub type Vars = BTreeMap<String, Value>;
