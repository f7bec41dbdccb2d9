//! The gRPC services: `AgentService` (enroll, sessions), `AdminService`
//! (what fleetctl asks), `RaftService` (hub to hub) and `MembershipService`
//! (joining and managing hub nodes), with the authorization every call goes
//! through.

mod admin_service;
mod agent_service;
mod auth;
mod authorization;
mod cluster_detail;
mod context;
mod desired_state;
mod environments;
mod fleet_watch;
mod membership_service;
mod notification_admin;
mod raft_service;
mod refusal_audit;
mod renewal;
mod report_limits;
mod revision_plan;
mod session;
mod sessions;
mod status;
mod status_batcher;
mod targets;
mod token_lifetime;
mod users;

pub use admin_service::AdminApi;
pub use agent_service::AgentApi;
pub use context::ApiContext;
pub use desired_state::DesiredStateCache;
pub use membership_service::MembershipApi;
pub use raft_service::RaftApi;
pub use refusal_audit::RefusalAudit;
pub use sessions::Sessions;
pub use status_batcher::StatusBatcher;
pub use targets::TargetBoard;
