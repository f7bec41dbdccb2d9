//! A TCP proxy in front of one hub node that can sever links: connections
//! from blocked source addresses are refused and open ones are cut. Hub
//! nodes in the cluster tests listen on distinct loopback addresses and dial
//! their peers from them, so "cut node 1 off from nodes 2 and 3" is a
//! matter of blocking addresses at the three proxies.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running proxy; stops when dropped.
pub struct LinkProxy {
    pub listen: SocketAddr,
    blocked: Arc<Mutex<HashSet<IpAddr>>>,
    connections: Arc<Mutex<Vec<(IpAddr, TcpStream, TcpStream)>>>,
    stopped: Arc<AtomicBool>,
}

impl LinkProxy {
    /// Listens on `listen` (port 0: any) and forwards to `upstream`.
    pub fn start(listen: SocketAddr, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind(listen).unwrap();
        listener.set_nonblocking(true).unwrap();
        let listen = listener.local_addr().unwrap();
        let proxy = Self {
            listen,
            blocked: Arc::default(),
            connections: Arc::default(),
            stopped: Arc::default(),
        };
        let (blocked, connections, stopped) = (
            proxy.blocked.clone(),
            proxy.connections.clone(),
            proxy.stopped.clone(),
        );
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                let (client, source) = match listener.accept() {
                    Ok(accepted) => accepted,
                    Err(error) if error.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Err(_) => continue,
                };
                if blocked.lock().unwrap().contains(&source.ip()) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(1))
                else {
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                connections.lock().unwrap().push((
                    source.ip(),
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                ));
                pump(client.try_clone().unwrap(), server.try_clone().unwrap());
                pump(server, client);
            }
        });
        proxy
    }

    /// Refuses `sources` from now on and cuts their open connections.
    pub fn block(&self, sources: &[IpAddr]) {
        self.blocked.lock().unwrap().extend(sources.iter().copied());
        let mut connections = self.connections.lock().unwrap();
        connections.retain(|(source, client, server)| {
            if sources.contains(source) {
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
                false
            } else {
                true
            }
        });
    }

    /// Lets everyone through again.
    pub fn unblock_all(&self) {
        self.blocked.lock().unwrap().clear();
    }

    /// Cuts every open connection (the node behind it died).
    pub fn cut_all(&self) {
        for (_, client, server) in self.connections.lock().unwrap().drain(..) {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.cut_all();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
