//! [`SuiteError`]: a bad suite file, located by file, line, column and field so the person can fix it at once.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Where in a suite file something is: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// Locates byte `offset` of `text`.
    pub fn at(file: &Path, text: &str, offset: usize) -> Location {
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |start| start.chars().count()) + 1;
        Location { file: file.to_owned(), line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Why a suite cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot read suite {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// Bad TOML, an unknown field, a wrong type, or a value that makes no sense (unknown model, weights summing
    /// to 0, a core that is not online...).
    #[error("{location}: {}{message}", field.as_ref().map(|field| format!("field `{field}`: ")).unwrap_or_default())]
    Invalid { location: Location, field: Option<String>, message: String },
}

impl SuiteError {
    /// An error at byte range `span` of the suite text, naming `field`.
    pub fn at(file: &Path, text: &str, span: Range<usize>, field: Option<&str>, message: impl Into<String>) -> Self {
        SuiteError::Invalid {
            location: Location::at(file, text, span.start),
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    /// Turns toml's parse or deserialize error into a located one; the field is the key on the error's line.
    pub fn from_toml(file: &Path, text: &str, error: &toml::de::Error) -> Self {
        let span = error.span().unwrap_or(0..0);
        let field = key_before(text, span.start);
        let message = error.message().trim().to_owned();
        let field = field.filter(|key| !message.contains(&format!("`{key}`")));
        SuiteError::at(file, text, span, field.as_deref(), message)
    }
}

/// The key of the `key = value` whose value starts at `offset`, when the text before it on its line ends in `=`.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.rsplit('\n').next()?;
    let head = line.trim_end().strip_suffix('=')?;
    let key: String = head
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let key = key.trim_matches('"');
    (!key.is_empty()).then(|| key.to_owned())
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_offsets_by_line_and_column() {
        let text = "a = 1\nbb = 2\n";
        let location = Location::at(Path::new("s.toml"), text, 11);
        assert_eq!((location.line, location.column), (2, 6));
        assert_eq!(location.to_string(), "s.toml:2:6");
    }

    #[test]
    fn finds_the_key_of_a_value() {
        let text = "[x]\nusers = \"ten\"\ntasks = [{ path = \"/a\", weight = \"w\" }]\n";
        assert_eq!(key_before(text, text.find("\"ten\"").unwrap()).as_deref(), Some("users"));
        assert_eq!(key_before(text, text.find("\"w\"").unwrap()).as_deref(), Some("weight"));
        assert_eq!(key_before(text, 0), None);
    }
}
