//! Request parameters from a query string or a form body. RFC 6749 §3.1 and §3.2: a parameter
//! sent without a value counts as omitted, and a parameter must not be sent twice.

use std::collections::HashMap;

/// The parameters of one request.
#[derive(Debug, Default)]
pub(crate) struct Params {
    values: HashMap<String, String>,
    /// The first parameter that came more than once, if any.
    repeated: Option<String>,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
    pub(crate) fn parse(encoded: &[u8]) -> Params {
        let mut params = Params::default();
        for (name, value) in url::form_urlencoded::parse(encoded) {
            if value.is_empty() {
                continue;
            }
            if params.values.contains_key(name.as_ref()) {
                params.repeated.get_or_insert_with(|| name.clone().into_owned());
            }
            params.values.insert(name.into_owned(), value.into_owned());
        }
        params
    }

    /// The value of `name`, if sent and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The name of a parameter that was sent more than once.
    pub(crate) fn repeated(&self) -> Option<&str> {
        self.repeated.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded_and_empty_ones_omitted() {
        let params = Params::parse(b"state=a%20b&scope=openid+profile&nonce=");
        assert_eq!(params.get("state"), Some("a b"));
        assert_eq!(params.get("scope"), Some("openid profile"));
        assert_eq!(params.get("nonce"), None);
        assert_eq!(params.repeated(), None);
    }

    #[test]
    fn a_repeated_parameter_is_noticed() {
        let params = Params::parse(b"state=a&client_id=x&state=b");
        assert_eq!(params.repeated(), Some("state"));
    }
}
