//! The hub's own membership: which hub nodes form the Raft group.
//!
//! Operators and joining nodes change *records* in the replicated state
//! (`Command::JoinHub`, `Command::SetHubNodeRemoved`); the leader's
//! [`MembershipReconciler`] turns them into Raft membership changes — a
//! joined node becomes a learner, then a voter once it has caught up; a
//! removed node leaves. Because the intent is replicated, a new leader
//! finishes whatever change the old one left half done.

mod reconciler;

pub use reconciler::MembershipReconciler;
