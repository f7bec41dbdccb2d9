//! The gRPC services: `AgentService` (enroll, sessions) and `AdminService`
//! (what fleetctl asks), with the authorization every call goes through.

mod admin_service;
mod agent_service;
mod auth;
mod context;
mod desired_state;
mod session;
mod sessions;
mod status;

pub use admin_service::AdminApi;
pub use agent_service::AgentApi;
pub use context::ApiContext;
pub use desired_state::DesiredStateCache;
pub use sessions::Sessions;
