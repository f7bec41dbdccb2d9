//! `fleet-hub`: the hub's thin binary.

fn main() -> std::process::ExitCode {
    eprintln!("error: {}", fleet_hub::NOT_IMPLEMENTED);
    std::process::ExitCode::from(2)
}
