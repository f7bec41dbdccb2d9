//! How far along a simulated rollout is, and which container (if any) can
//! never become ready.

use std::time::Duration;

use serde_json::Value;

use super::ControllerSettings;

/// Time since the object's current generation was first seen.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Elapsed time since the generation appeared.
    pub elapsed: Duration,
    /// Controller timing.
    pub settings: ControllerSettings,
}

impl Progress {
    /// Whether a healthy rollout is complete.
    pub fn ready(&self) -> bool {
        self.elapsed >= self.settings.rollout_delay
    }

    /// Whether a failing rollout has passed its deadline.
    pub fn deadline_exceeded(&self) -> bool {
        self.elapsed >= self.settings.progress_deadline
    }

    /// When to look again for a healthy rollout.
    pub fn until_ready(&self) -> Option<Duration> {
        (!self.ready()).then(|| self.settings.rollout_delay.saturating_sub(self.elapsed))
    }

    /// When to look again for a failing rollout.
    pub fn until_deadline(&self) -> Option<Duration> {
        (!self.deadline_exceeded())
            .then(|| self.settings.progress_deadline.saturating_sub(self.elapsed))
    }
}

/// The first container (in `spec`, a pod spec) whose image tag contains
/// `fail`: (container name, image).
pub fn failing_container(pod_spec: Option<&Value>) -> Option<(String, String)> {
    let pod_spec = pod_spec?;
    ["initContainers", "containers"]
        .iter()
        .filter_map(|field| pod_spec.get(*field).and_then(Value::as_array))
        .flatten()
        .find_map(|container| {
            let image = container.get("image").and_then(Value::as_str)?;
            let without_digest = image.split('@').next().unwrap_or(image);
            let last_segment = without_digest.rsplit('/').next().unwrap_or(without_digest);
            let tag = last_segment.split_once(':').map(|(_, tag)| tag)?;
            tag.contains("fail").then(|| {
                (
                    container
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    image.to_string(),
                )
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_failing_tags_only_in_the_tag() {
        let spec = json!({"containers": [{"name": "ok", "image": "registry:5000/failover/app:1.0"},
                                          {"name": "bad", "image": "nginx:1.27-fail"}]});
        assert_eq!(
            failing_container(Some(&spec)),
            Some(("bad".into(), "nginx:1.27-fail".into()))
        );
        assert_eq!(
            failing_container(Some(
                &json!({"containers": [{"name": "a", "image": "failing/app"}]})
            )),
            None
        );
    }
}
