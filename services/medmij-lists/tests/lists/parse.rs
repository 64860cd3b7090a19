//! Every list in every known shape reads into the model.

use crate::fixture;
use medmij_lists::{
    DataServiceName, DataServiceNameList, ListError, ListHeader, ListKind, MedMijList, OAuthClient, OAuthClientList,
    Whitelist, parse_list,
};

#[test]
fn an_ocl_of_release_2_has_no_data_service_limits() {
    let list = OAuthClientList::parse(fixture("ocl-release2.xml").as_bytes()).unwrap();
    assert_eq!(list.header, ListHeader { tijdstempel: "2026-03-02T09:15:00Z".into(), volgnummer: 41 });
    assert_eq!(
        list.clients,
        vec![
            OAuthClient {
                hostname: "pgo.example.nl".into(),
                organisation_name: "Voorbeeld PGO".into(),
                data_services: None
            },
            OAuthClient {
                hostname: "app.gezondheid-demo.nl".into(),
                organisation_name: "Gezondheid & Zo".into(),
                data_services: None
            },
        ]
    );
    let client = list.client("PGO.Example.nl").unwrap();
    assert!(client.allows("48") && client.allows("63"), "release 2 sets no limit");
    assert!(list.client("other.example.nl").is_none());
}

#[test]
fn an_ocl_of_release_3_lists_the_data_services_per_client() {
    let list = OAuthClientList::parse(fixture("ocl-release3.xml").as_bytes()).unwrap();
    assert_eq!(list.header.tijdstempel, "2026-03-02T09:15:00.250+01:00");
    assert_eq!(list.header.volgnummer, 42);
    let pgo = list.client("pgo.example.nl").unwrap();
    assert_eq!(pgo.data_services, Some(vec!["48".to_owned(), "52".to_owned()]));
    assert!(pgo.allows("48") && pgo.allows("52") && !pgo.allows("63"));
    let meter = list.client("meet.thuis-demo.nl").unwrap();
    assert_eq!(meter.data_services, Some(vec![]));
    assert!(!meter.allows("52"), "an empty list allows nothing");
}

#[test]
fn a_gnl_of_release_1_names_the_data_services() {
    let list = DataServiceNameList::parse(fixture("gnl-release1.xml").as_bytes()).unwrap();
    assert_eq!(list.header, ListHeader { tijdstempel: "2026-01-15T12:00:00+01:00".into(), volgnummer: 9 });
    assert_eq!(list.names.len(), 3);
    assert_eq!(list.names[1], DataServiceName { id: "52".into(), name: "Meetwaarden vitale functies".into() });
    assert_eq!(list.name("48"), Some("Basisgegevens zorg"));
    assert_eq!(list.name("49"), None);
}

#[test]
fn a_flat_whitelist_lists_its_hosts() {
    let list = Whitelist::parse(fixture("whitelist-flat.xml").as_bytes()).unwrap();
    assert_eq!(list.header.volgnummer, 300);
    assert_eq!(list.hosts, ["pgo.example.nl", "app.gezondheid-demo.nl", "dva.ziekenhuis-demo.nl"]);
    assert!(list.contains("DVA.ziekenhuis-demo.nl"));
    assert!(!list.contains("ziekenhuis-demo.nl"));
}

#[test]
fn a_nested_whitelist_lists_its_hosts() {
    let list = Whitelist::parse(fixture("whitelist-nested.xml").as_bytes()).unwrap();
    assert_eq!(list.header.volgnummer, 301);
    assert_eq!(list.hosts, ["pgo.example.nl", "dva.ziekenhuis-demo.nl"]);
}

#[test]
fn an_empty_nested_whitelist_is_valid() {
    let xml = fixture("whitelist-nested.xml");
    let start = xml.find("<MedMijNodes>").unwrap();
    let end = xml.find("</MedMijNodes>").unwrap() + "</MedMijNodes>".len();
    let empty = format!("{}<MedMijNodes/>{}", &xml[..start], &xml[end..]);
    assert_eq!(Whitelist::parse(empty.as_bytes()).unwrap().hosts, Vec::<String>::new());
}

#[test]
fn parse_list_tells_which_list_it_read() {
    let cases = [
        ("ocl-release2.xml", ListKind::OAuthClients, 41),
        ("ocl-release3.xml", ListKind::OAuthClients, 42),
        ("gnl-release1.xml", ListKind::DataServiceNames, 9),
        ("whitelist-flat.xml", ListKind::Whitelist, 300),
        ("whitelist-nested.xml", ListKind::Whitelist, 301),
    ];
    for (name, kind, volgnummer) in cases {
        let list = parse_list(fixture(name).as_bytes()).unwrap();
        assert_eq!((list.kind(), list.header().volgnummer), (kind, volgnummer), "{name}");
    }
    assert!(matches!(parse_list(fixture("gnl-release1.xml").as_bytes()), Ok(MedMijList::DataServiceNames(_))));
    assert_eq!(ListKind::OAuthClients.as_str(), "oauth-client-list");
    assert_eq!(ListKind::DataServiceNames.as_str(), "data-service-name-list");
    assert_eq!(ListKind::Whitelist.as_str(), "whitelist");
}

#[test]
fn a_per_list_parse_refuses_another_kind_of_list() {
    let error = OAuthClientList::parse(fixture("whitelist-flat.xml").as_bytes()).unwrap_err();
    assert_eq!(error, ListError::WrongKind { expected: ListKind::OAuthClients, found: ListKind::Whitelist });
    assert_eq!(error.to_string(), "expected an OAuth Client List, found a Whitelist");
    assert!(Whitelist::parse(fixture("gnl-release1.xml").as_bytes()).is_err());
    assert!(DataServiceNameList::parse(fixture("ocl-release3.xml").as_bytes()).is_err());
}

#[test]
fn comments_processing_instructions_and_a_byte_order_mark_are_ignored() {
    let xml =
        fixture("gnl-release1.xml").replace("<Gegevensdiensten>", "<!-- c --><?pi x?><Gegevensdiensten><!-- c -->");
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), xml.as_bytes()].concat();
    assert_eq!(DataServiceNameList::parse(&with_bom).unwrap().names.len(), 3);
}
