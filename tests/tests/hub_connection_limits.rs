//! Nobody who merely reaches the hub's ports can hold connections: silent
//! TCP connections to the gRPC (TLS) and HTTP ports are closed by the hub
//! with its default settings, and a port's connection limit closes
//! connections beyond it while the hub keeps serving the ones it holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use fleet_tests::net::http;

/// Whether the hub closes `connection` (EOF or reset) within `within`,
/// while the test itself sends nothing.
fn closed_by_the_hub(mut connection: TcpStream, within: Duration) -> bool {
    connection.set_read_timeout(Some(within)).unwrap();
    let mut buffer = [0_u8; 256];
    loop {
        match connection.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {} // e.g. a TLS alert or an HTTP 408: keep reading
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true, // reset
        }
    }
}

fn silent_connections(address: SocketAddr, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|_| TcpStream::connect_timeout(&address, Duration::from_secs(5)).unwrap())
        .collect()
}

/// `count` silent connections the hub has accepted and holds: a connection
/// the hub closes at once (a slot still taken by the start-up's readiness
/// probes, whose closing the hub may not have seen yet) is opened again.
fn held_connections(address: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..100 {
        if held.len() == count {
            return held;
        }
        let connection = TcpStream::connect_timeout(&address, Duration::from_secs(5)).unwrap();
        let probe = connection.try_clone().unwrap();
        if !closed_by_the_hub(probe, Duration::from_millis(500)) {
            held.push(connection);
        }
    }
    panic!("the hub did not hold {count} connections on {address}");
}

#[test]
fn silent_connections_on_every_port_are_closed_within_30_seconds() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let mut connections = silent_connections(hub.grpc, 20);
    connections.extend(silent_connections(hub.http, 20));
    let readers: Vec<_> = connections
        .into_iter()
        .map(|connection| {
            std::thread::spawn(move || closed_by_the_hub(connection, Duration::from_secs(30)))
        })
        .collect();
    let closed: Vec<bool> = readers
        .into_iter()
        .map(|reader| reader.join().unwrap())
        .collect();
    assert_eq!(
        closed.iter().filter(|closed| **closed).count(),
        40,
        "gRPC port {:?}, HTTP port {:?}",
        &closed[..20],
        &closed[20..]
    );
    // The hub still serves.
    let (status, _) = http(hub.http, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(status, 200);
    hub.fleetctl(&["status"]).success();
}

#[test]
fn connections_beyond_a_ports_limit_are_closed_and_the_rest_keep_working() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.set_setting("maxConnectionsPerPort", "4");
    // Only the limit may close a connection in this test.
    hub.set_setting("httpHeaderReadTimeout", "1h");
    hub.start();
    let held = held_connections(hub.http, 4);
    let extra = TcpStream::connect_timeout(&hub.http, Duration::from_secs(5)).unwrap();
    assert!(
        closed_by_the_hub(extra, Duration::from_secs(60)),
        "a fifth connection must be closed"
    );
    assert!(http(hub.http, "GET", "/healthz", &[], b"").is_err_or_not_ok());
    drop(held);
    // Freed slots are reused.
    let mut served = false;
    for _ in 0..100 {
        if let Ok((200, _)) = http(hub.http, "GET", "/healthz", &[], b"") {
            served = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(served, "the HTTP port serves again once connections close");
}

trait NotOk {
    fn is_err_or_not_ok(&self) -> bool;
}

impl NotOk for std::io::Result<(u16, String)> {
    fn is_err_or_not_ok(&self) -> bool {
        !matches!(self, Ok((200, _)))
    }
}
