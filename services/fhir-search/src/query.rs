//! The query string of a FHIR request, split into parameters that remember how they were written.
//!
//! Only percent-decoding is applied: `+` stays a plus, as in RFC 3986 URIs, so a zone offset such
//! as `date=ge2013-02-01T08:53:00+01:00` keeps its meaning even when a client forgot to encode it.

use percent_encoding::percent_decode_str;

/// One `name=value` pair of a query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParam {
    /// The pair exactly as the client wrote it (still percent-encoded), for echoing in links.
    pub raw: String,
    /// The decoded name, modifier included (`subject:Patient`).
    pub name: String,
    /// The decoded value.
    pub value: String,
}

/// Splits and decodes a raw query string (without the `?`). Pairs without a name are dropped.
pub fn parse_query(query: &str) -> Vec<QueryParam> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode_str(raw_name).decode_utf8_lossy().into_owned();
            if name.is_empty() {
                return None;
            }
            let value = percent_decode_str(raw_value).decode_utf8_lossy().into_owned();
            Some(QueryParam { raw: pair.to_owned(), name, value })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_but_remembers_the_original_text() {
        let params = parse_query("code=http%3A%2F%2Floinc.org%7C8302-2&date=ge2013-02-01T08:53:00+01:00&&=x&_count");
        assert_eq!(params.len(), 3);
        assert_eq!(params[0].raw, "code=http%3A%2F%2Floinc.org%7C8302-2");
        assert_eq!(params[0].value, "http://loinc.org|8302-2");
        assert_eq!(params[1].value, "ge2013-02-01T08:53:00+01:00");
        assert_eq!((params[2].name.as_str(), params[2].value.as_str()), ("_count", ""));
    }
}
