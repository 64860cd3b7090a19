//! BSNs never reach a report: every recorded text passes through [`Masker`], which blanks the test
//! patients' BSNs and any other nine-digit number that passes the 11-test.

/// Blanks BSNs in text.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    known: Vec<String>,
}

/// What a BSN becomes in a report.
pub const MASK: &str = "*********";

impl Masker {
    /// A masker that also blanks `known` (the test patients' BSNs, whatever their form).
    pub fn new(known: impl IntoIterator<Item = String>) -> Masker {
        Masker { known: known.into_iter().filter(|bsn| !bsn.is_empty()).collect() }
    }

    /// `text` with every BSN blanked.
    pub fn mask(&self, text: &str) -> String {
        let mut masked = text.to_owned();
        for bsn in &self.known {
            if masked.contains(bsn.as_str()) {
                masked = masked.replace(bsn.as_str(), MASK);
            }
        }
        mask_eleven_test_numbers(&masked)
    }
}

/// Whether `digits` (nine ASCII digits) passes the BSN 11-test.
pub fn passes_eleven_test(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    if bytes.len() != 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: i64 = bytes
        .iter()
        .enumerate()
        .map(|(index, digit)| {
            let weight = if index == 8 { -1 } else { 9 - index as i64 };
            weight * i64::from(digit - b'0')
        })
        .sum();
    sum % 11 == 0 && sum != 0
}

/// Blanks every run of exactly nine digits that passes the 11-test.
fn mask_eleven_test_numbers(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    let mut index = 0;
    while index < bytes.len() {
        if !bytes[index].is_ascii_digit() {
            index += 1;
            continue;
        }
        let run_start = index;
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            index += 1;
        }
        let run = &text[run_start..index];
        if passes_eleven_test(run) {
            out.push_str(&text[start..run_start]);
            out.push_str(MASK);
            start = index;
        }
    }
    out.push_str(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_eleven_test_numbers_are_blanked_others_kept() {
        let masker = Masker::new(["123456782".to_owned()]);
        let text = "bsn 999911120 and 123456782, phone 0612345678, id 123456789, year 2026";
        let masked = masker.mask(text);
        assert_eq!(masked, "bsn ********* and *********, phone 0612345678, id 123456789, year 2026");
    }

    #[test]
    fn the_eleven_test() {
        assert!(passes_eleven_test("999911120"));
        assert!(passes_eleven_test("999946067"));
        assert!(!passes_eleven_test("999911121"));
        assert!(!passes_eleven_test("000000000"));
        assert!(!passes_eleven_test("99991112"));
    }
}
