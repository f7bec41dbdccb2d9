//! Generates the gRPC code from `proto/fleet/v1/*.proto` with protox (a
//! pure-Rust protobuf compiler), so no `protoc` binary is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/fleet/v1/agent.proto",
        "proto/fleet/v1/admin.proto",
        "proto/fleet/v1/raft.proto",
        "proto/fleet/v1/membership.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .codec_path("crate::codec::CompactCodec")
        // fleetctl prints rollouts as JSON/YAML straight from the wire types,
        // with the camelCase names it has always used.
        .type_attribute(
            ".fleet.v1.RolloutView",
            "#[derive(serde::Serialize)] #[serde(rename_all = \"camelCase\")]",
        )
        .type_attribute(
            ".fleet.v1.WaveView",
            "#[derive(serde::Serialize)] #[serde(rename_all = \"camelCase\")]",
        )
        .type_attribute(
            ".fleet.v1.ClusterInWave",
            "#[derive(serde::Serialize)] #[serde(rename_all = \"camelCase\")]",
        )
        .compile_fds(descriptors)?;
    Ok(())
}
