//! The fleet-wide preview between two revisions: per wave, which clusters'
//! desired state changes and how (object by object, as unified diffs).

mod diff;
mod fleet_plan;

pub use diff::{ChangeKind, ObjectChange, diff_objects};
pub use fleet_plan::{ClusterChange, FleetPlan, WaveChanges};
