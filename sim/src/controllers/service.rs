//! Services of type LoadBalancer get `status.loadBalancer.ingress[0].ip`
//! from a documentation address range (198.51.100.0/24): the address is
//! simulated and nothing listens there.

use serde_json::{Value, json};

use super::Decision;
use crate::store::StoreState;

/// Service status.
pub fn service(object: &Value, state: &mut StoreState) -> Decision {
    let is_load_balancer =
        object.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer");
    let existing_ip = object.pointer("/status/loadBalancer/ingress/0/ip").cloned();
    let status = match (is_load_balancer, existing_ip) {
        (true, Some(_)) => None,
        (true, None) => {
            let cluster_ip = state.allocate_cluster_ip();
            let last_octet = cluster_ip.rsplit('.').next().unwrap_or("1").to_string();
            Some(
                json!({"loadBalancer": {"ingress": [{"ip": format!("198.51.100.{last_octet}"), "ipMode": "VIP"}]}}),
            )
        }
        (false, _) => Some(json!({"loadBalancer": {}})),
    };
    Decision {
        status,
        recheck_after: None,
    }
}
