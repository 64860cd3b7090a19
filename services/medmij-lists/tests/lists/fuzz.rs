//! Random bytes, and fixtures with random damage, never make the reader panic; whatever it
//! accepts writes and reads back unchanged.

use crate::roundtrip::assert_reads_back;
use crate::{FIXTURES, fixture};
use medmij_lists::parse_list;
use proptest::prelude::*;

/// One kind of damage to a document.
#[derive(Debug, Clone)]
enum Damage {
    /// Cut the document after this many bytes (modulo its length).
    Truncate(usize),
    /// Remove `len` bytes at `at`.
    Delete { at: usize, len: usize },
    /// Put `bytes` at `at`.
    Insert { at: usize, bytes: Vec<u8> },
    /// Put one of the markup fragments the lists use at `at`.
    InsertMarkup { at: usize, fragment: usize },
    /// Copy `len` bytes from `from` to `to`.
    Duplicate { from: usize, len: usize, to: usize },
    /// Set the byte at `at`.
    Replace { at: usize, byte: u8 },
}

const MARKUP: [&str; 14] = [
    "<",
    ">",
    "</",
    "/>",
    "&",
    "&amp;",
    "<MedMijNode>",
    "</Hostname>",
    "<OAuthclient>",
    "<Gegevensdienst>",
    "<!DOCTYPE x>",
    "<![CDATA[",
    "xmlns=\"urn:x\"",
    "<Volgnummer>0</Volgnummer>",
];

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<usize>().prop_map(Damage::Truncate),
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Damage::Delete { at, len }),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Damage::Insert { at, bytes }),
        (any::<usize>(), 0..MARKUP.len()).prop_map(|(at, fragment)| Damage::InsertMarkup { at, fragment }),
        (any::<usize>(), 1..200usize, any::<usize>()).prop_map(|(from, len, to)| Damage::Duplicate { from, len, to }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Damage::Replace { at, byte }),
    ]
}

fn apply(document: &mut Vec<u8>, damage: &Damage) {
    let position = |at: usize, document: &Vec<u8>| at % (document.len() + 1);
    match damage {
        Damage::Truncate(at) => document.truncate(position(*at, document)),
        Damage::Delete { at, len } => {
            let start = position(*at, document);
            let end = (start + len).min(document.len());
            document.drain(start..end);
        }
        Damage::Insert { at, bytes } => {
            let at = position(*at, document);
            document.splice(at..at, bytes.iter().copied());
        }
        Damage::InsertMarkup { at, fragment } => {
            let at = position(*at, document);
            document.splice(at..at, MARKUP[*fragment].bytes());
        }
        Damage::Duplicate { from, len, to } => {
            let start = position(*from, document);
            let end = (start + len).min(document.len());
            let copy = document[start..end].to_vec();
            let to = position(*to, document);
            document.splice(to..to, copy);
        }
        Damage::Replace { at, byte } => {
            if !document.is_empty() {
                let at = at % document.len();
                document[at] = *byte;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        // Random bytes are no list: they must be refused, and without a panic.
        prop_assert!(parse_list(&bytes).is_err());
    }

    #[test]
    fn damaged_lists_never_panic(fixture_index in 0..FIXTURES.len(), damages in proptest::collection::vec(damage(), 1..6)) {
        let mut document = fixture(FIXTURES[fixture_index]).into_bytes();
        for damage in &damages {
            apply(&mut document, damage);
        }
        if let Ok(list) = parse_list(&document) {
            assert_reads_back(&list);
        }
    }
}
