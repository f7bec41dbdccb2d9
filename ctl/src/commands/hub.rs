//! `fleetctl hub ...`: the hub's own nodes — join tokens, members,
//! re-adding and removing nodes, and handing leadership over.

use comfy_table::Table;
use fleet_proto::{
    AddNodeRequest, CreateJoinTokenRequest, MembersRequest, RemoveNodeRequest, StepDownRequest,
};
use serde::Serialize;

use crate::cli::{HubArgs, HubNodeArgs, HubReadArgs, JoinTokenArgs};
use crate::error::CliError;
use crate::hub_client::{membership_client, status_error};
use crate::output::{OutputFormat, print_structured};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberRow {
    node_id: u64,
    name: String,
    address: String,
    role: String,
    matched_index: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Members {
    leader_id: u64,
    term: u64,
    answered_by: String,
    members: Vec<MemberRow>,
}

/// `fleetctl hub join-token`: prints the token alone on stdout.
pub async fn join_token(args: &JoinTokenArgs) -> Result<(), CliError> {
    let mut client = membership_client(&args.hub).await?;
    let response = client
        .create_join_token(CreateJoinTokenRequest {
            ttl_seconds: args.ttl.map_or(0, |ttl| ttl.0.as_secs()),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    println!("{}", response.token);
    eprintln!(
        "single-use join token; it expires in {}s. On the new node: fleet-hub init --join https://HUB:PORT --join-token TOKEN --join-ca ca.crt --name NODE --node-id N --address HOST:PORT",
        response
            .expires_at_ms
            .saturating_sub(crate::clock::now_ms())
            / 1000
    );
    Ok(())
}

/// `fleetctl hub members`.
pub async fn members(args: &HubReadArgs) -> Result<(), CliError> {
    let mut client = membership_client(&args.hub).await?;
    let response = client
        .members(MembersRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    let members = Members {
        leader_id: response.leader_id,
        term: response.term,
        answered_by: response.answered_by,
        members: response
            .members
            .into_iter()
            .map(|member| MemberRow {
                node_id: member.node_id,
                name: member.name,
                address: member.address,
                role: member.role,
                matched_index: member.matched_index,
            })
            .collect(),
    };
    if args.output != OutputFormat::Table {
        print_structured(&members, args.output)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(["ID", "NAME", "ADDRESS", "ROLE", "MATCHED INDEX"]);
    for member in &members.members {
        table.add_row([
            member.node_id.to_string(),
            member.name.clone(),
            member.address.clone(),
            member.role.clone(),
            member.matched_index.to_string(),
        ]);
    }
    println!("{table}");
    eprintln!("term {}, answered by {}", members.term, members.answered_by);
    Ok(())
}

/// `fleetctl hub add NODE`.
pub async fn add(args: &HubNodeArgs) -> Result<(), CliError> {
    membership_client(&args.hub)
        .await?
        .add_node(AddNodeRequest {
            name: args.node.clone(),
        })
        .await
        .map_err(status_error)?;
    eprintln!(
        "hub node {} re-admitted: the leader adds it as a learner, then a voter once it caught up",
        args.node
    );
    Ok(())
}

/// `fleetctl hub remove NODE`.
pub async fn remove(args: &HubNodeArgs) -> Result<(), CliError> {
    membership_client(&args.hub)
        .await?
        .remove_node(RemoveNodeRequest {
            name: args.node.clone(),
        })
        .await
        .map_err(status_error)?;
    eprintln!(
        "hub node {} removed: the leader takes it out of the Raft group",
        args.node
    );
    Ok(())
}

/// `fleetctl hub step-down`.
pub async fn step_down(args: &HubArgs) -> Result<(), CliError> {
    let response = membership_client(args)
        .await?
        .step_down(StepDownRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    println!("node {} leads now", response.new_leader_id);
    Ok(())
}
