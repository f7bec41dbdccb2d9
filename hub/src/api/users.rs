//! The `AdminService` methods for operators ("users"): create one from
//! fleetctl's CSR, list them, revoke one, and renew the caller's own
//! certificate. The key never reaches the hub: fleetctl sends a CSR and
//! the hub signs only its public key, for `spiffe://fleet/user/<name>`.

use std::time::Duration;

use fleet_proto::{
    CreateUserRequest, CreateUserResponse, ListUsersRequest, ListUsersResponse, RenewUserRequest,
    RenewUserResponse, RevokeUserRequest, RevokeUserResponse, UserRole,
};
use tonic::{Request, Response, Status};
use tracing::info;

use super::authorization::{Action, require};
use super::context::ApiContext;
use super::renewal::check_csr_size;
use crate::clock::now_ms;
use crate::pki::{Identity, IssuedCertificate};
use crate::state::{Command, CommandResult, Role, UserRecord};

/// Longest user name.
const MAX_NAME_BYTES: usize = 63;

fn unavailable(error: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("the hub could not record the change: {error}"))
}

/// Refuses names that are not `[A-Za-z0-9._-]{1,63}` (they go into a URI).
fn check_name(name: &str) -> Result<(), Status> {
    let plain = name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    if name.is_empty() || name.len() > MAX_NAME_BYTES || !plain || name.starts_with('.') {
        return Err(Status::invalid_argument(format!(
            "user name '{name}' is not 1 to {MAX_NAME_BYTES} characters of A-Z a-z 0-9 . _ - (field name)"
        )));
    }
    Ok(())
}

/// The role on the wire as the state's role.
fn role_from_wire(role: i32) -> Result<Role, Status> {
    match UserRole::try_from(role) {
        Ok(UserRole::Viewer) => Ok(Role::Viewer),
        Ok(UserRole::Operator) => Ok(Role::Operator),
        Ok(UserRole::Admin) => Ok(Role::Admin),
        _ => Err(Status::invalid_argument(
            "field role: viewer, operator or admin is required",
        )),
    }
}

/// The state's role on the wire.
pub fn role_to_wire(role: Role) -> UserRole {
    match role {
        Role::Viewer => UserRole::Viewer,
        Role::Operator => UserRole::Operator,
        Role::Admin => UserRole::Admin,
    }
}

/// The validity asked for (0: the default), refused above the maximum.
fn validity(context: &ApiContext, ttl_seconds: u64) -> Result<Duration, Status> {
    let settings = &context.config.users;
    let max = settings.max_user_certificate_validity.0;
    match ttl_seconds {
        0 => Ok(settings.user_certificate_validity.0.min(max)),
        seconds if Duration::from_secs(seconds) > max => Err(Status::invalid_argument(format!(
            "field ttl_seconds: a user certificate may live at most {} seconds (users.maxUserCertificateValidity)",
            max.as_secs()
        ))),
        seconds => Ok(Duration::from_secs(seconds)),
    }
}

fn sign(
    context: &ApiContext,
    csr_pem: &str,
    name: &str,
    validity: Duration,
) -> Result<IssuedCertificate, Status> {
    check_csr_size(csr_pem)?;
    context
        .authority
        .sign_request(csr_pem, &Identity::User(name.to_owned()), validity)
        .map_err(|error| Status::invalid_argument(format!("field csr_pem: {error}")))
}

/// `CreateUser`: admins only.
pub async fn create_user(
    context: &ApiContext,
    request: Request<CreateUserRequest>,
) -> Result<Response<CreateUserResponse>, Status> {
    let caller = require(context, &request, Action::ManageUsers).await?;
    let request = request.into_inner();
    let name = request.name.trim().to_owned();
    check_name(&name)?;
    let role = role_from_wire(request.role)?;
    let mut environments: Vec<String> = request
        .environments
        .iter()
        .map(|environment| environment.trim().to_owned())
        .filter(|environment| !environment.is_empty())
        .collect();
    environments.sort();
    environments.dedup();
    if !environments.is_empty() && role != Role::Operator {
        return Err(Status::invalid_argument(format!(
            "field environments: only an operator is scoped to environments, not role {role}"
        )));
    }
    if !environments.is_empty() {
        let known = super::environments::declared_environments(context)
            .await?
            .known;
        let unknown: Vec<&str> = environments
            .iter()
            .filter(|environment| !known.is_empty() && !known.contains(*environment))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Status::invalid_argument(format!(
                "field environments: {} not declared at the latest valid revision (known: {})",
                unknown.join(", "),
                known.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let validity = validity(context, request.ttl_seconds)?;
    let issued = sign(context, &request.csr_pem, &name, validity)?;
    let result = context
        .store
        .write(Command::CreateUser {
            name: name.clone(),
            role,
            environments,
            serial: issued.serial.clone(),
            expires_at_ms: issued.not_after_ms,
            actor: caller.actor,
            at_ms: now_ms(),
        })
        .await
        .map_err(unavailable)?;
    if let CommandResult::Rejected(reason) = result {
        return Err(Status::already_exists(reason));
    }
    info!(user = %name, role = %role, serial = %issued.serial, "created a user");
    Ok(Response::new(CreateUserResponse {
        certificate_pem: issued.certificate_pem,
        ca_pem: context.authority.certificate_pem().to_owned(),
        serial: issued.serial,
        expires_at_ms: issued.not_after_ms,
        hub_endpoints: context.hub_endpoints(),
    }))
}

/// `ListUsers`: viewers and up.
pub async fn list_users(
    context: &ApiContext,
    request: Request<ListUsersRequest>,
) -> Result<Response<ListUsersResponse>, Status> {
    require(context, &request, Action::Read).await?;
    let users = context
        .store
        .read(|state| state.users.values().map(user_to_wire).collect());
    Ok(Response::new(ListUsersResponse { users }))
}

fn user_to_wire(user: &UserRecord) -> fleet_proto::User {
    fleet_proto::User {
        name: user.name.clone(),
        role: role_to_wire(user.role) as i32,
        environments: user.environments.clone(),
        certificates: user
            .certificates
            .iter()
            .map(|certificate| fleet_proto::UserCertificate {
                serial: certificate.serial.clone(),
                issued_at_ms: certificate.issued_at_ms,
                expires_at_ms: certificate.expires_at_ms,
            })
            .collect(),
        created_at_ms: user.created_at_ms,
        created_by: user.created_by.clone(),
        revoked_at_ms: user.revoked_at_ms,
    }
}

/// `RevokeUser`: admins only.
pub async fn revoke_user(
    context: &ApiContext,
    request: Request<RevokeUserRequest>,
) -> Result<Response<RevokeUserResponse>, Status> {
    let caller = require(context, &request, Action::ManageUsers).await?;
    let name = request.into_inner().name.trim().to_owned();
    check_name(&name)?;
    let result = context
        .store
        .write(Command::RevokeUser {
            name: name.clone(),
            actor: caller.actor,
            at_ms: now_ms(),
        })
        .await
        .map_err(unavailable)?;
    if let CommandResult::Rejected(reason) = result {
        return Err(Status::failed_precondition(reason));
    }
    info!(user = %name, "revoked a user");
    Ok(Response::new(RevokeUserResponse {}))
}

/// `RenewUser`: the caller's own certificate, same name, role and scope.
pub async fn renew_user(
    context: &ApiContext,
    request: Request<RenewUserRequest>,
) -> Result<Response<RenewUserResponse>, Status> {
    let caller = require(context, &request, Action::RenewOwnCertificate).await?;
    let Identity::User(name) = &caller.identity else {
        return Err(Status::failed_precondition(format!(
            "{} has no user record to renew; an admin creates a user for it (fleetctl user create)",
            caller.actor
        )));
    };
    let request = request.into_inner();
    let validity = validity(context, request.ttl_seconds)?;
    let issued = sign(context, &request.csr_pem, name, validity)?;
    let result = context
        .store
        .write(Command::RenewUser {
            name: name.clone(),
            previous_serial: caller.serial.clone(),
            serial: issued.serial.clone(),
            expires_at_ms: issued.not_after_ms,
            at_ms: now_ms(),
        })
        .await
        .map_err(unavailable)?;
    if let CommandResult::Rejected(reason) = result {
        return Err(Status::permission_denied(reason));
    }
    info!(user = %name, serial = %issued.serial, "renewed a user certificate");
    Ok(Response::new(RenewUserResponse {
        certificate_pem: issued.certificate_pem,
        ca_pem: context.authority.certificate_pem().to_owned(),
        serial: issued.serial,
        expires_at_ms: issued.not_after_ms,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_plain() {
        assert!(check_name("ana.lopez-2").is_ok());
        for bad in ["", "a/b", ".hidden", "with space", &"x".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
