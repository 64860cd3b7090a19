//! What the writers write reads back as the same model, in every shape.

use crate::{FIXTURES, fixture};
use medmij_lists::{
    DataServiceName, DataServiceNameList, ListHeader, ListShape, MedMijList, OAuthClient, OAuthClientList, Whitelist,
    parse_list, write_data_service_name_list, write_oauth_client_list, write_whitelist,
};

fn header(volgnummer: u64) -> ListHeader {
    ListHeader { tijdstempel: "2026-04-01T10:30:00.5+02:00".into(), volgnummer }
}

fn client(hostname: &str, name: &str, data_services: Option<&[&str]>) -> OAuthClient {
    OAuthClient {
        hostname: hostname.into(),
        organisation_name: name.into(),
        data_services: data_services.map(|ids| ids.iter().map(|id| (*id).to_owned()).collect()),
    }
}

#[test]
fn an_ocl_of_release_2_reads_back() {
    let list = OAuthClientList {
        header: header(5),
        clients: vec![
            client("pgo.example.nl", "Voorbeeld <PGO> & \"Zo\"", None),
            client("b.example.nl", "Ééntje\tmet\r\nregels", None),
        ],
    };
    let xml = write_oauth_client_list(&list, ListShape::Older);
    assert!(xml.contains("oauthclientlist/release2/"), "{xml}");
    assert_eq!(OAuthClientList::parse(xml.as_bytes()).unwrap(), list);
}

#[test]
fn an_ocl_of_release_3_reads_back() {
    let list = OAuthClientList {
        header: header(6),
        clients: vec![
            client("pgo.example.nl", "Voorbeeld PGO", Some(&["48", "49", "63"])),
            client("c.example.nl", "Zonder diensten", Some(&[])),
        ],
    };
    let xml = write_oauth_client_list(&list, ListShape::Newer);
    assert!(xml.contains("oauthclientlist/release3/"), "{xml}");
    assert_eq!(OAuthClientList::parse(xml.as_bytes()).unwrap(), list);
}

#[test]
fn writing_an_ocl_in_the_other_shape_loses_only_what_that_shape_cannot_say() {
    let limited = OAuthClientList { header: header(7), clients: vec![client("pgo.example.nl", "PGO", Some(&["48"]))] };
    let older = OAuthClientList::parse(write_oauth_client_list(&limited, ListShape::Older).as_bytes()).unwrap();
    assert_eq!(older.clients[0].data_services, None, "release 2 lists no data services");
    let unlimited = OAuthClientList { header: header(7), clients: vec![client("pgo.example.nl", "PGO", None)] };
    let newer = OAuthClientList::parse(write_oauth_client_list(&unlimited, ListShape::Newer).as_bytes()).unwrap();
    assert_eq!(newer.clients[0].data_services, Some(vec![]), "release 3 without a list allows nothing");
}

#[test]
fn a_gnl_reads_back() {
    let list = DataServiceNameList {
        header: header(8),
        names: vec![
            DataServiceName { id: "48".into(), name: "Basisgegevens zorg".into() },
            DataServiceName { id: "x".repeat(30), name: "Vijftig tekens".repeat(4)[..50].to_owned() },
        ],
    };
    let xml = write_data_service_name_list(&list);
    assert_eq!(DataServiceNameList::parse(xml.as_bytes()).unwrap(), list);
    let empty = DataServiceNameList { header: header(9), names: vec![] };
    assert_eq!(DataServiceNameList::parse(write_data_service_name_list(&empty).as_bytes()).unwrap(), empty);
}

#[test]
fn a_whitelist_reads_back_in_both_shapes() {
    let list = Whitelist { header: header(10), hosts: vec!["pgo.example.nl".into(), "dva.example.nl".into()] };
    let flat = write_whitelist(&list, ListShape::Older);
    let nested = write_whitelist(&list, ListShape::Newer);
    assert!(flat.contains("<MedMijNode>pgo.example.nl</MedMijNode>"), "{flat}");
    assert!(nested.contains("<Hostname>pgo.example.nl</Hostname>"), "{nested}");
    assert_eq!(Whitelist::parse(flat.as_bytes()).unwrap(), list);
    assert_eq!(Whitelist::parse(nested.as_bytes()).unwrap(), list);
    let empty = Whitelist { header: header(11), hosts: vec![] };
    assert_eq!(Whitelist::parse(write_whitelist(&empty, ListShape::Older).as_bytes()).unwrap(), empty);
}

/// The shape a parsed list can be written in without loss.
fn shape_of(list: &MedMijList) -> ListShape {
    match list {
        MedMijList::OAuthClients(ocl) if ocl.clients.iter().any(|client| client.data_services.is_some()) => {
            ListShape::Newer
        }
        _ => ListShape::Older,
    }
}

/// Writes a parsed list in `shape`.
pub fn write(list: &MedMijList, shape: ListShape) -> String {
    match list {
        MedMijList::OAuthClients(ocl) => write_oauth_client_list(ocl, shape),
        MedMijList::DataServiceNames(gnl) => write_data_service_name_list(gnl),
        MedMijList::Whitelist(whitelist) => write_whitelist(whitelist, shape),
    }
}

/// Every list the writers produce from a parsed list reads back as that list.
pub fn assert_reads_back(list: &MedMijList) {
    let xml = write(list, shape_of(list));
    assert_eq!(&parse_list(xml.as_bytes()).unwrap(), list, "{xml}");
}

#[test]
fn every_fixture_reads_back_after_writing() {
    for name in FIXTURES {
        let list = parse_list(fixture(name).as_bytes()).unwrap();
        assert_reads_back(&list);
    }
}
