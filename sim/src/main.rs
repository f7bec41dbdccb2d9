//! `fleet-sim`: not built yet.

fn main() {}
