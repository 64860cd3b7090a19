//! The header every list starts with: `Tijdstempel` (when it was made) and `Volgnummer` (which
//! publication it is), and the rule that a list only replaces an older one.

use super::ListError;
use super::schema::{Sequence, typed};
use super::types::{check_datum_tijd, check_positive_integer, collapsed};
use crate::xml_out::XmlOut;

/// The header of a MedMij list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListHeader {
    /// When the list was made, as written in the list (an xs:dateTime of at least 20 characters).
    pub tijdstempel: String,
    /// The number of the publication: it increases with every republication.
    pub volgnummer: u64,
}

/// Refuses a list whose Volgnummer is not greater than that of the list held (`None`: no list
/// held yet). An equal Volgnummer is refused too: it is the same publication, or a conflicting one.
pub fn check_newer(held: Option<u64>, incoming: &ListHeader) -> Result<(), ListError> {
    match held {
        Some(held) if incoming.volgnummer <= held => Err(ListError::NotNewer { held, incoming: incoming.volgnummer }),
        _ => Ok(()),
    }
}

/// Reads `Tijdstempel` and `Volgnummer`, the first two elements of every list.
pub(crate) fn read_header(sequence: &mut Sequence<'_>) -> Result<ListHeader, ListError> {
    let tijdstempel = typed(&sequence.one("Tijdstempel")?, |text| {
        let value = collapsed(text);
        check_datum_tijd(value).map(|()| value.to_owned())
    })?;
    let volgnummer = typed(&sequence.one("Volgnummer")?, |text| check_positive_integer(collapsed(text)))?;
    Ok(ListHeader { tijdstempel, volgnummer })
}

/// Writes `Tijdstempel` and `Volgnummer`.
pub(crate) fn write_header(xml: &mut XmlOut, header: &ListHeader) {
    xml.text_element("Tijdstempel", &header.tijdstempel);
    xml.text_element("Volgnummer", &header.volgnummer.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(volgnummer: u64) -> ListHeader {
        ListHeader { tijdstempel: "2026-01-01T00:00:00Z".into(), volgnummer }
    }

    #[test]
    fn only_a_greater_volgnummer_replaces_the_list_held() {
        let cases = [
            (None, 1, true),
            (None, u64::MAX, true),
            (Some(7), 8, true),
            (Some(7), 1000, true),
            (Some(7), 7, false),
            (Some(7), 6, false),
            (Some(7), 1, false),
            (Some(u64::MAX), u64::MAX, false),
        ];
        for (held, incoming, accepted) in cases {
            assert_eq!(check_newer(held, &header(incoming)).is_ok(), accepted, "held {held:?}, incoming {incoming}");
        }
    }

    #[test]
    fn the_refusal_names_both_numbers() {
        let error = check_newer(Some(12), &header(12)).unwrap_err();
        assert_eq!(error, ListError::NotNewer { held: 12, incoming: 12 });
        assert_eq!(
            error.to_string(),
            "Volgnummer 12 is not newer than Volgnummer 12, the one already held: a list is only replaced by a later publication"
        );
    }
}
