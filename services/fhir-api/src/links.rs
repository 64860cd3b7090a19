//! The links of a searchset Bundle. The self link echoes exactly the parameters that were applied,
//! as the client wrote them and in its order (the MedMij qualification checks this); paging links
//! add `_count` and `_offset`.

/// The self link: `{base}/{path}` with the applied parameters.
pub(crate) fn self_link(base: &str, path: &str, applied: &[String]) -> String {
    with_query(format!("{base}/{path}"), applied.iter().map(String::as_str))
}

/// The next and previous page links, where there is such a page.
pub(crate) fn paging_links(
    base: &str,
    path: &str,
    applied: &[String],
    total: usize,
    count: usize,
    offset: usize,
) -> (Option<String>, Option<String>) {
    let kept: Vec<&str> = applied
        .iter()
        .map(String::as_str)
        .filter(|pair| !pair.starts_with("_count=") && !pair.starts_with("_offset="))
        .collect();
    let page = |offset: usize| {
        let count_pair = format!("_count={count}");
        let offset_pair = format!("_offset={offset}");
        with_query(format!("{base}/{path}"), kept.iter().copied().chain([count_pair.as_str(), offset_pair.as_str()]))
    };
    let next = (count > 0 && offset + count < total).then(|| page(offset + count));
    let previous = (count > 0 && offset > 0).then(|| page(offset.saturating_sub(count)));
    (next, previous)
}

fn with_query<'a>(mut url: String, pairs: impl Iterator<Item = &'a str>) -> String {
    let mut first = true;
    for pair in pairs {
        url.push(if first { '?' } else { '&' });
        url.push_str(pair);
        first = false;
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_links_echo_the_applied_parameters_only() {
        let applied = vec!["code=http://loinc.org%7C85354-9".to_owned(), "_count=2".to_owned()];
        assert_eq!(
            self_link("https://x/umcx/48/fhir", "Observation", &applied),
            "https://x/umcx/48/fhir/Observation?code=http://loinc.org%7C85354-9&_count=2"
        );
        assert_eq!(self_link("https://x/b", "Condition", &[]), "https://x/b/Condition");
    }

    #[test]
    fn paging_links_exist_only_where_there_is_a_page() {
        let applied = vec!["code=a".to_owned(), "_count=2".to_owned()];
        let (next, previous) = paging_links("https://x/b", "Observation", &applied, 5, 2, 0);
        assert_eq!(next.as_deref(), Some("https://x/b/Observation?code=a&_count=2&_offset=2"));
        assert_eq!(previous, None);
        let (next, previous) = paging_links("https://x/b", "Observation", &applied, 5, 2, 4);
        assert_eq!(next, None);
        assert_eq!(previous.as_deref(), Some("https://x/b/Observation?code=a&_count=2&_offset=2"));
        assert_eq!(paging_links("https://x/b", "Observation", &applied, 5, 0, 0), (None, None));
    }
}
