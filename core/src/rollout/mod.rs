//! Rollout planning that needs no runtime: which cluster is in which wave.
//!
//! The hub's rollout controller (in `fleet-hub`) drives waves over time; this
//! module only answers the static question from `fleet.yaml` and the clusters.

mod wave_plan;
mod window;

pub use wave_plan::{ALL_WAVE, PlannedWave, REMAINING_WAVE, WavePlan};
pub use window::{
    SyncWindow, WindowError, WindowState, parse_schedule, parse_timezone, wave_window_state,
};
