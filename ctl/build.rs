//! Embeds `fleet-examples/` into fleetctl, so `fleetctl demo` runs on
//! embedded defaults from any directory.

use std::fmt::Write as _;
use std::path::Path;

fn walk(root: &Path, relative: &Path, files: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(relative))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = relative.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            walk(root, &path, files)?;
        } else {
            files.push(path.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR")?;
    let root = Path::new(&manifest)
        .join("../fleet-examples")
        .canonicalize()?;
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, Path::new(""), &mut files)?;
    let mut code = String::from(
        "/// The files of `fleet-examples/`: (repository path, content).\npub const EXAMPLE_FLEET: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
        writeln!(
            code,
            "    ({file:?}, include_str!({:?})),",
            root.join(file).display().to_string()
        )?;
    }
    code.push_str("];\n");
    std::fs::write(
        Path::new(&std::env::var("OUT_DIR")?).join("example_fleet.rs"),
        code,
    )?;
    Ok(())
}
