#!/usr/bin/env bash
# Builds static fleet-hub and fleet-agent binaries, the images
# localhost/fleet-hub:<version> and localhost/fleet-agent:<version> from
# hub.Containerfile and agent.Containerfile (FROM scratch), and proves each
# image starts (`--version` inside it). Daemonless: Debian's buildah with the
# vfs storage driver and chroot isolation, so it runs unprivileged in CI
# containers. Nothing is pulled or pushed.
#
# Settings (environment):
#   FLEET_IMAGE_PREFIX      image name prefix (default: localhost)
#   FLEET_AGENT_IMAGE_LIMIT largest agent image accepted, bytes (default: 20 MB)
#   BUILDAH_STORAGE_ROOT    where buildah keeps images (default: buildah's own)
#   FLEET_IMAGE_PROFILE     Cargo profile of the binaries (default: release;
#                           the test command uses `container`, a cheaper
#                           build of the same code, see Cargo.toml)
#   CARGO_TARGET_DIR        Cargo's target directory (default: target)
set -euo pipefail
cd "$(dirname "$0")/../.."

prefix="${FLEET_IMAGE_PREFIX:-localhost}"
agent_limit="${FLEET_AGENT_IMAGE_LIMIT:-20000000}"
target=x86_64-unknown-linux-gnu
profile="${FLEET_IMAGE_PROFILE:-release}"
release="${CARGO_TARGET_DIR:-target}/$target/$profile"

buildah=(buildah --storage-driver vfs)
if [[ -n "${BUILDAH_STORAGE_ROOT:-}" ]]; then
    buildah+=(--root "$BUILDAH_STORAGE_ROOT")
fi

# Static glibc binaries (no musl target here): +crt-static with an explicit
# --target, so build scripts and proc macros stay dynamic. Symbols stripped
# (the release profile keeps line tables for backtraces otherwise).
echo "== static build ($profile profile) of fleet-hub and fleet-agent"
RUSTFLAGS='-C target-feature=+crt-static' CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --locked --profile "$profile" --target "$target" -p fleet-hub -p fleet-agent

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT

for binary in fleet-hub fleet-agent; do
    path="$release/$binary"
    # A dynamic executable has an ELF interpreter; a static one has none.
    if readelf --program-headers "$path" | grep -q 'INTERP'; then
        echo "error: $path is dynamically linked (it needs an ELF interpreter)" >&2
        exit 1
    fi
    version="$("$path" --version | awk '{print $2}')"
    image="$prefix/$binary:$version"
    name="${binary#fleet-}"
    rm -rf "${context:?}"/*
    cp "$path" "$context/$binary"
    echo "== $image ($(stat -c %s "$path") bytes binary)"
    "${buildah[@]}" bud --quiet --isolation chroot \
        -f "deploy/containers/$name.Containerfile" -t "$image" "$context"

    # The image starts: the entrypoint binary runs as user 65532 and prints
    # its version.
    container="$("${buildah[@]}" from --quiet "$image")"
    output="$("${buildah[@]}" run --isolation chroot "$container" -- "/$binary" --version)"
    "${buildah[@]}" rm "$container" >/dev/null
    if [[ "$output" != "$binary $version" ]]; then
        echo "error: $image printed '$output' for --version, expected '$binary $version'" >&2
        exit 1
    fi
    user="$("${buildah[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$image")"
    if [[ "$user" != "65532:65532" ]]; then
        echo "error: $image runs as '$user', expected 65532:65532" >&2
        exit 1
    fi
    # Bytes of the image: its layers and config, from its manifest.
    size="$("${buildah[@]}" inspect --type image --format '{{.Manifest}}' "$image" |
        grep -o '"size":[0-9]*' | awk -F: '{total += $2} END {print total}')"
    echo "   $image starts ('$output'), runs as $user, image size $size bytes"
    if [[ "$binary" == fleet-agent && "$size" -gt "$agent_limit" ]]; then
        echo "error: $image is $size bytes, more than $agent_limit (FLEET_AGENT_IMAGE_LIMIT)" >&2
        exit 1
    fi
done
