//! The container images (issue #14 item 9): `deploy/containers/build.sh`
//! builds static `fleet-hub` and `fleet-agent` binaries in the cheaper
//! `container` profile, puts each in its `FROM scratch` image with buildah,
//! and proves each image starts (`--version` inside it), runs as 65532 and —
//! for the agent — stays under 20 MB. The script fails on any of these; the
//! test also checks that it said so for both images.
//!
//! From nothing this builds for minutes on every core, so
//! `.config/nextest.toml` runs it alone; afterwards Cargo has nothing to do
//! and it takes seconds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use fleet_tests::tools::{tool, workspace};

#[test]
fn both_images_build_start_and_run_as_the_unprivileged_user() {
    // buildah and readelf come from scripts/test-prereqs.
    tool("buildah");
    tool("readelf");
    let output = Command::new(workspace().join("deploy/containers/build.sh"))
        .env("FLEET_IMAGE_PROFILE", "container")
        .output()
        .expect("deploy/containers/build.sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the image build failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    for binary in ["fleet-hub", "fleet-agent"] {
        let started = format!("starts ('{binary} {}')", env!("CARGO_PKG_VERSION"));
        assert!(
            stdout.contains(&started) && stdout.contains("runs as 65532:65532"),
            "no proof that the {binary} image starts as 65532:\n{stdout}\n{stderr}"
        );
    }
}
