//! The two languages every page of the service speaks: Dutch (the default: MedMij and DigiD are
//! Dutch) and English. The person's pages, the auditors' dashboard and the DigiD simulator choose
//! one the same way, so a link or `ui_locales` that works on one works on all; each keeps its own
//! words.

use serde::{Deserialize, Serialize};

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    /// Nederlands.
    #[default]
    Nl,
    /// English.
    En,
}

impl Lang {
    /// The first language the pages have among `tags` (a `lang` parameter, or `ui_locales`: BCP 47
    /// tags separated by spaces, in order of preference, e.g. `en-GB nl`), if any.
    pub fn from_tags(tags: &str) -> Option<Lang> {
        tags.split(' ').find_map(|tag| match tag.split('-').next().unwrap_or_default().to_ascii_lowercase().as_str() {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        })
    }

    /// As [`Lang::from_tags`], Dutch when none is known or nothing was asked.
    pub fn from_param(tags: Option<&str>) -> Lang {
        tags.and_then(Lang::from_tags).unwrap_or_default()
    }

    /// The BCP 47 tag (a page's `lang`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The other language: every page offers a switch to it.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }

    /// The name of month `month0` (0 is January), as a date written out has it: "maart",
    /// "March".
    pub fn month(self, month0: usize) -> &'static str {
        let months = match self {
            Lang::Nl => &MONTHS_NL,
            Lang::En => &MONTHS_EN,
        };
        months.get(month0).copied().unwrap_or_default()
    }
}

/// Declares, where it is used, the trait `Words` whose `texts(self)` gives a part of the service's
/// own words in a [`Lang`]: `$nl` or `$en`, two statics of type `$texts`.
#[macro_export]
macro_rules! words {
    ($visibility:vis $texts:ty, $nl:expr, $en:expr) => {
        /// This part of the service's words in a language.
        $visibility trait Words {
            /// The words.
            fn texts(self) -> &'static $texts;
        }

        impl Words for $crate::Lang {
            fn texts(self) -> &'static $texts {
                match self {
                    $crate::Lang::Nl => &$nl,
                    $crate::Lang::En => &$en,
                }
            }
        }
    };
}

const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_language_the_pages_have_wins() {
        assert_eq!(Lang::from_tags("fr en-GB nl"), Some(Lang::En));
        assert_eq!(Lang::from_tags("NL"), Some(Lang::Nl));
        assert_eq!(Lang::from_tags("fr de"), None);
        assert_eq!(Lang::from_param(None), Lang::Nl);
        assert_eq!(Lang::from_param(Some("de")), Lang::Nl);
        assert_eq!(Lang::from_param(Some("en")), Lang::En);
    }

    #[test]
    fn tags_months_and_the_switch() {
        assert_eq!((Lang::Nl.tag(), Lang::En.tag()), ("nl", "en"));
        assert_eq!(Lang::Nl.other(), Lang::En);
        assert_eq!((Lang::Nl.month(2), Lang::En.month(11), Lang::En.month(12)), ("maart", "December", ""));
    }
}
