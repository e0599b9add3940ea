//! [`redact_header_values`]: a suite's text with the values of its phases' `headers` left out, for results.json and
//! the report, which otherwise keep the suite verbatim: a header value may be a secret (an Authorization token).
//! A suite run again from such a record is refused at the left-out value ([`is_left_out`]) rather than sending it.

use serde::Deserialize;
use toml::Spanned;

/// Only what the redaction needs: every other field is ignored.
#[derive(Deserialize)]
struct Phases {
    #[serde(default)]
    phases: Vec<PhaseHeaders>,
}

#[derive(Deserialize)]
struct PhaseHeaders {
    #[serde(default)]
    headers: Vec<Spanned<String>>,
}

/// What a left-out header value reads as.
pub const LEFT_OUT: &str = "…";

/// A header value that was left out of a record (see [`redact_header_values`]) and must be given again.
pub fn is_left_out(value: &str) -> bool {
    value.trim() == LEFT_OUT
}

/// `text` with each `headers` entry of its phases rewritten as `"Name: …"` in place (the rest byte for byte). A
/// text that does not parse as a suite is returned as it is: no run used it, so it sent no header.
pub fn redact_header_values(text: &str) -> String {
    let Ok(parsed) = toml::from_str::<Phases>(text) else { return text.to_owned() };
    let mut spans: Vec<(std::ops::Range<usize>, String)> = parsed
        .phases
        .iter()
        .flat_map(|phase| &phase.headers)
        .map(|header| {
            let name = header.get_ref().split_once(':').map_or("", |(name, _)| name.trim());
            (header.span(), toml::Value::String(format!("{name}: {LEFT_OUT}")).to_string())
        })
        .collect();
    spans.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut redacted = text.to_owned();
    for (span, replacement) in spans {
        if redacted.get(span.clone()).is_some() {
            redacted.replace_range(span, &replacement);
        }
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_left_out_and_the_rest_kept_byte_for_byte() {
        let text = "name = \"s\"\n\n[[phases]]\nname = \"p\" # comment\nheaders = [\"Authorization: Bearer s3cret\", \
                    'X-Key:abc:def']\n\n[[phases]]\nname = \"q\"\n";
        let redacted = redact_header_values(text);
        assert!(!redacted.contains("s3cret") && !redacted.contains("abc"), "{redacted}");
        assert!(redacted.contains("\"Authorization: …\"") && redacted.contains("\"X-Key: …\""), "{redacted}");
        assert!(redacted.starts_with("name = \"s\"\n\n[[phases]]\nname = \"p\" # comment\n"), "{redacted}");
        assert!(redacted.ends_with("[[phases]]\nname = \"q\"\n"), "{redacted}");
        assert_eq!(redact_header_values("no headers = 1\n"), "no headers = 1\n");
    }
}
