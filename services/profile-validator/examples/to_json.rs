//! Prints a FHIR XML file as JSON: `cargo run -p profile-validator --example to_json -- stu3 FILE`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let release: fhir_core::Release = args.next().ok_or("release")?.parse().map_err(|_| "release")?;
    let bytes = std::fs::read(args.next().ok_or("file")?)?;
    let value = fhir_xml::from_xml_noting_order(release, &bytes, fhir_xml::ReadLimits::default());
    println!("{}", serde_json::to_string_pretty(&value.map_err(|e| e.to_string())?.0)?);
    Ok(())
}
