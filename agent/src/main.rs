//! `fleet-agent`: the agent's thin binary.

fn main() -> std::process::ExitCode {
    eprintln!("error: {}", fleet_agent::NOT_IMPLEMENTED);
    std::process::ExitCode::from(2)
}
