//! Embeds the demo fixtures (`fixtures/stu3/*.json`, `fixtures/r4/*.json`) so that the binary can
//! seed the demo anywhere, without the source tree.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("fixtures");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut source = String::new();
    for release in ["stu3", "r4"] {
        let dir = root.join(release);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|entry| entry.path())
                    .filter(|path| path.extension().is_some_and(|e| e == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let _ = writeln!(
            source,
            "/// The {release} demo resources: (file name, JSON).\npub(crate) const {}: &[(&str, &str)] = &[",
            release.to_uppercase()
        );
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
            let name = file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            let _ = writeln!(source, "    ({name:?}, include_str!({:?})),", file.display().to_string());
        }
        source.push_str("];\n");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("fixtures.rs");
    if let Err(error) = std::fs::write(&out, source) {
        panic!("cannot write {}: {error}", out.display());
    }
}
