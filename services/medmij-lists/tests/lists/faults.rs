//! Every schema violation is refused, with the line and the element path of the fault.

use crate::fixture;
use medmij_lists::{ListError, ListLimits, parse_list, parse_list_with};

/// `fixture` with `from` replaced by `to` (which must occur in it).
fn mutated(name: &str, from: &str, to: &str) -> String {
    let xml = fixture(name);
    assert!(xml.contains(from), "{name} has no {from:?}");
    xml.replacen(from, to, 1)
}

/// Why `xml` is refused.
fn refusal(xml: &str) -> String {
    match parse_list(xml.as_bytes()) {
        Ok(list) => panic!("accepted: {list:?}"),
        Err(error) => error.to_string(),
    }
}

const OCL2: &str = "ocl-release2.xml";
const OCL3: &str = "ocl-release3.xml";
const GNL: &str = "gnl-release1.xml";
const FLAT: &str = "whitelist-flat.xml";
const NESTED: &str = "whitelist-nested.xml";

#[test]
fn a_wrong_namespace_is_refused() {
    let xml = mutated(FLAT, "whitelist/release2/", "whitelist/release9/");
    assert_eq!(
        refusal(&xml),
        "line 3, /Whitelist: wrong namespace: <Whitelist> is in namespace \
         'xmlns://afsprakenstelsel.medmij.nl/whitelist/release9/'; \
         expected 'xmlns://afsprakenstelsel.medmij.nl/whitelist/release2/'"
    );
    let xml = mutated(OCL2, " xmlns=\"xmlns://afsprakenstelsel.medmij.nl/oauthclientlist/release2/\"", "");
    assert_eq!(
        refusal(&xml),
        "line 3, /OAuthclientlist: wrong namespace: <OAuthclientlist> is in no namespace; \
         expected 'xmlns://afsprakenstelsel.medmij.nl/oauthclientlist/release2/' \
         or 'xmlns://afsprakenstelsel.medmij.nl/oauthclientlist/release3/'"
    );
}

#[test]
fn an_element_in_another_namespace_is_refused() {
    let xml = mutated(
        GNL,
        "<Weergavenaam>Vaccinaties</Weergavenaam>",
        "<x:Weergavenaam xmlns:x=\"urn:other\">Vaccinaties</x:Weergavenaam>",
    );
    assert_eq!(
        refusal(&xml),
        "line 17, /Gegevensdienstnamenlijst/Gegevensdiensten/Gegevensdienst[3]/Weergavenaam: <Weergavenaam> is in \
         namespace 'urn:other'; the list's elements are in namespace \
         'xmlns://afsprakenstelsel.medmij.nl/gegevensdienstnamenlijst/release1/'"
    );
}

#[test]
fn a_missing_volgnummer_is_refused() {
    let xml = mutated(GNL, "<Volgnummer>9</Volgnummer>", "");
    assert_eq!(refusal(&xml), "line 6, /Gegevensdienstnamenlijst/Volgnummer: missing");
}

#[test]
fn a_missing_hostname_is_refused() {
    let xml = mutated(OCL2, "<Hostname>app.gezondheid-demo.nl</Hostname>", "");
    assert_eq!(refusal(&xml), "line 13, /OAuthclientlist/OAuthclients/OAuthclient[2]/Hostname: missing");
    let xml = mutated(OCL3, "<ocl:Gegevensdiensten/>", "");
    assert_eq!(refusal(&xml), "line 23, /OAuthclientlist/OAuthclients/OAuthclient[2]/Gegevensdiensten: missing");
}

#[test]
fn an_unknown_element_is_refused() {
    let xml = mutated(
        OCL2,
        "Voorbeeld PGO</OAuthclientOrganisatienaam>",
        "Voorbeeld PGO</OAuthclientOrganisatienaam><Logo>x</Logo>",
    );
    assert_eq!(refusal(&xml), "line 9, /OAuthclientlist/OAuthclients/OAuthclient[1]/Logo: unknown element <Logo>");
    let xml = mutated(FLAT, "<Volgnummer>300</Volgnummer>", "<Versie>300</Versie>");
    assert_eq!(refusal(&xml), "line 5, /Whitelist/Versie: unknown element <Versie>; expected <Volgnummer>");
    let xml = mutated(
        OCL2,
        "Voorbeeld PGO</OAuthclientOrganisatienaam>",
        "Voorbeeld PGO</OAuthclientOrganisatienaam><Gegevensdiensten/>",
    );
    assert_eq!(
        refusal(&xml),
        "line 9, /OAuthclientlist/OAuthclients/OAuthclient[1]/Gegevensdiensten: unknown element <Gegevensdiensten>",
        "release 2 cannot list data services"
    );
}

#[test]
fn an_element_out_of_order_is_refused() {
    let xml = fixture(FLAT);
    let lines: Vec<&str> = xml.lines().collect();
    let swapped = [&lines[..3], &[lines[4], lines[3]], &lines[5..]].concat().join("\n");
    assert_eq!(refusal(&swapped), "line 4, /Whitelist/Volgnummer: out of order: <Tijdstempel> must come before it");

    let xml = mutated(
        OCL2,
        "<Hostname>app.gezondheid-demo.nl</Hostname>\n            \
         <OAuthclientOrganisatienaam>Gezondheid &amp; Zo</OAuthclientOrganisatienaam>",
        "<OAuthclientOrganisatienaam>Gezondheid &amp; Zo</OAuthclientOrganisatienaam>\n            \
         <Hostname>app.gezondheid-demo.nl</Hostname>",
    );
    assert_eq!(
        refusal(&xml),
        "line 12, /OAuthclientlist/OAuthclients/OAuthclient[2]/OAuthclientOrganisatienaam: \
         out of order: <Hostname> must come before it"
    );
}

#[test]
fn a_repeated_element_is_refused() {
    let xml =
        mutated(NESTED, "<Volgnummer>301</Volgnummer>", "<Volgnummer>301</Volgnummer><Volgnummer>302</Volgnummer>");
    assert_eq!(
        refusal(&xml),
        "line 5, /Whitelist/Volgnummer: <Volgnummer> is not allowed here: it is out of order or repeated"
    );
    let xml = mutated(NESTED, "</MedMijNodes>", "</MedMijNodes><MedMijNodes/>");
    assert_eq!(
        refusal(&xml),
        "line 13, /Whitelist/MedMijNodes: <MedMijNodes> is not allowed here: it is out of order or repeated"
    );
}

#[test]
fn a_duplicate_hostname_is_refused() {
    let xml = mutated(OCL2, "app.gezondheid-demo.nl", "pgo.example.nl");
    assert_eq!(
        refusal(&xml),
        "line 12, /OAuthclientlist/OAuthclients/OAuthclient[2]/Hostname: the host name 'pgo.example.nl' is listed \
         twice (first at /OAuthclientlist/OAuthclients/OAuthclient[1])"
    );
    let xml = mutated(FLAT, "dva.ziekenhuis-demo.nl", "pgo.example.nl");
    assert_eq!(
        refusal(&xml),
        "line 9, /Whitelist/MedMijNodes/MedMijNode[3]: the host name 'pgo.example.nl' is listed twice \
         (first at /Whitelist/MedMijNodes/MedMijNode[1])"
    );
    let xml = mutated(NESTED, "dva.ziekenhuis-demo.nl", "pgo.example.nl");
    assert_eq!(
        refusal(&xml),
        "line 11, /Whitelist/MedMijNodes/MedMijNode[2]/Hostname: the host name 'pgo.example.nl' is listed twice \
         (first at /Whitelist/MedMijNodes/MedMijNode[1])"
    );
}

#[test]
fn a_duplicate_data_service_is_refused() {
    let xml = mutated(GNL, "<GegevensdienstId>52<", "<GegevensdienstId>48<");
    assert_eq!(
        refusal(&xml),
        "line 12, /Gegevensdienstnamenlijst/Gegevensdiensten/Gegevensdienst[2]/GegevensdienstId: the data service \
         '48' is listed twice (first at /Gegevensdienstnamenlijst/Gegevensdiensten/Gegevensdienst[1])"
    );
    let xml = mutated(OCL3, "<ocl:GegevensdienstId>52<", "<ocl:GegevensdienstId>48<");
    assert_eq!(
        refusal(&xml),
        "line 15, /OAuthclientlist/OAuthclients/OAuthclient[1]/Gegevensdiensten/Gegevensdienst[2]/GegevensdienstId: \
         the data service '48' is listed twice for this client"
    );
}

#[test]
fn a_bad_datetime_is_refused() {
    let xml = mutated(FLAT, "2026-02-01T08:00:00Z", "2026-02-30T08:00:00Z");
    assert_eq!(
        refusal(&xml),
        "line 4, /Whitelist/Tijdstempel: '2026-02-30T08:00:00Z' is not an xs:dateTime: the month has no such day"
    );
    let xml = mutated(FLAT, "2026-02-01T08:00:00Z", "2026-02-01T08:00:00");
    assert_eq!(
        refusal(&xml),
        "line 4, /Whitelist/Tijdstempel: '2026-02-01T08:00:00' is shorter than 20 characters \
         (write the seconds and the time zone)"
    );
    let xml = mutated(FLAT, "2026-02-01T08:00:00Z", "gisteren");
    assert!(refusal(&xml).starts_with("line 4, /Whitelist/Tijdstempel: 'gisteren' is not an xs:dateTime"));
}

#[test]
fn a_zero_or_negative_volgnummer_is_refused() {
    let xml = mutated(FLAT, "<Volgnummer>300<", "<Volgnummer>0<");
    assert_eq!(refusal(&xml), "line 5, /Whitelist/Volgnummer: '0' is not a positive integer: it is zero");
    let xml = mutated(FLAT, "<Volgnummer>300<", "<Volgnummer>-3<");
    assert_eq!(refusal(&xml), "line 5, /Whitelist/Volgnummer: '-3' is not a positive integer");
    let xml = mutated(FLAT, "<Volgnummer>300<", "<Volgnummer> 300\n<");
    assert!(parse_list(xml.as_bytes()).is_ok(), "xs:positiveInteger collapses whitespace");
}

#[test]
fn a_dtd_is_refused() {
    let xml = mutated(
        FLAT,
        "<!-- A fictional Whitelist, flat: each MedMijNode is a host name. -->",
        "<!DOCTYPE Whitelist [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>",
    )
    .replace("pgo.example.nl", "&b;");
    assert_eq!(parse_list(xml.as_bytes()).unwrap_err(), ListError::Dtd { line: 2 });
    assert_eq!(refusal(&xml), "line 2: a document type declaration (DTD) is not allowed");
}

#[test]
fn a_truncated_document_is_refused() {
    let xml = fixture(FLAT);
    let cut = &xml[..xml.find("</MedMijNodes>").unwrap()];
    assert_eq!(refusal(cut), "line 10: malformed XML: the document ends inside <MedMijNodes>: it is truncated");
    let cut = &xml[..xml.find("<Volgnummer>").unwrap() + 5];
    assert!(refusal(cut).starts_with("line 5: malformed XML: "), "{}", refusal(cut));
    for length in (0..xml.len()).step_by(7) {
        if xml.is_char_boundary(length) {
            assert!(parse_list(&xml.as_bytes()[..length]).is_err(), "accepted the first {length} bytes");
        }
    }
}

#[test]
fn text_where_only_elements_belong_is_refused() {
    let xml = mutated(OCL2, "<OAuthclients>", "<OAuthclients>hallo");
    assert_eq!(refusal(&xml), "line 6, /OAuthclientlist/OAuthclients: text is not allowed here, only elements");
    let xml = mutated(OCL2, "<Hostname>pgo.example.nl</Hostname>", "<Hostname><b>pgo.example.nl</b></Hostname>");
    assert_eq!(
        refusal(&xml),
        "line 8, /OAuthclientlist/OAuthclients/OAuthclient[1]/Hostname/b: unknown element <b>: <Hostname> holds only text"
    );
    let xml = mutated(
        FLAT,
        "<MedMijNode>dva.ziekenhuis-demo.nl</MedMijNode>",
        "<MedMijNode><Hostname>dva.ziekenhuis-demo.nl</Hostname></MedMijNode>",
    );
    assert_eq!(
        refusal(&xml),
        "line 9, /Whitelist/MedMijNodes/MedMijNode[3]/Hostname: unknown element <Hostname>: <MedMijNode> holds only text",
        "the two whitelist shapes do not mix"
    );
}

#[test]
fn attributes_the_schema_does_not_declare_are_refused() {
    let xml = mutated(OCL2, "<OAuthclient>", "<OAuthclient id=\"1\">");
    assert_eq!(refusal(&xml), "line 7, /OAuthclientlist/OAuthclients/OAuthclient: the attribute 'id' is not allowed");
}

#[test]
fn values_outside_their_types_are_refused() {
    let xml = mutated(OCL2, "<Hostname>pgo.example.nl<", "<Hostname>PGO.example.nl<");
    assert_eq!(
        refusal(&xml),
        "line 8, /OAuthclientlist/OAuthclients/OAuthclient[1]/Hostname: 'PGO.example.nl' is not a host name as the \
         list's schema has it: only a-z, 0-9, '-' and '.' are allowed"
    );
    let xml = mutated(OCL2, "Voorbeeld PGO", "AB");
    assert_eq!(
        refusal(&xml),
        "line 9, /OAuthclientlist/OAuthclients/OAuthclient[1]/OAuthclientOrganisatienaam: 'AB' has 2 characters; \
         3 to 50 are allowed"
    );
    let xml = mutated(GNL, "<GegevensdienstId>63<", "<GegevensdienstId><");
    assert_eq!(
        refusal(&xml),
        "line 16, /Gegevensdienstnamenlijst/Gegevensdiensten/Gegevensdienst[3]/GegevensdienstId: '' has 0 \
         characters; 1 to 30 are allowed"
    );
}

#[test]
fn an_unknown_list_is_refused() {
    let xml = "<?xml version=\"1.0\"?>\n<Zorgaanbiederslijst xmlns=\"urn:x\"/>";
    assert_eq!(
        refusal(xml),
        "line 2, /Zorgaanbiederslijst: unknown list: the root element <Zorgaanbiederslijst> is none of \
         <OAuthclientlist>, <Gegevensdienstnamenlijst>, <Whitelist>"
    );
}

#[test]
fn undefined_entities_other_encodings_and_large_documents_are_refused() {
    let xml = mutated(OCL2, "Voorbeeld PGO", "Voorbeeld &pgo;");
    assert_eq!(refusal(&xml), "line 9: malformed XML: the entity '&pgo;' is not defined (XML defines only five)");
    let xml = mutated(OCL2, "encoding=\"UTF-8\"", "encoding=\"windows-1252\"");
    assert_eq!(refusal(&xml), "line 1: the document is not UTF-8: it declares the encoding 'windows-1252'");
    let xml = fixture(GNL);
    let limits = ListLimits { max_bytes: 100, ..ListLimits::default() };
    assert_eq!(
        parse_list_with(xml.as_bytes(), &limits).unwrap_err(),
        ListError::TooLarge { size: xml.len(), limit: 100 }
    );
}
