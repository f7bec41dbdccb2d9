//! Drift: what differs between Git and the cluster in the fields the agent
//! manages ([`compare`]), which fields to leave alone ([`ignore`]), and the
//! watches that tell the agent at once when a managed object changes
//! ([`watch`]). Reverting is the reconciler's job: it applies the object again.

pub mod compare;
pub mod ignore;
pub mod watch;
