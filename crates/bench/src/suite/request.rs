//! A phase's request shape: `method`, `headers`, `body` or `body_file` and `keep_alive`, checked by the same
//! loadgen functions that check `rustcorn load`'s -m, -H, -d / -D and --disable-keepalive, into the
//! [`RequestShape`] the load generator encodes once before the phase.

use loadgen::request::{check_header, check_method, parse_header, read_body_file};
use loadgen::RequestShape;

use super::raw::RawPhase;
use super::{Context, SuiteError};
use crate::results::redact::is_left_out;

impl Context<'_> {
    /// The phase's request shape; a plain GET with keep-alive when it sets none of the fields.
    pub(super) fn request(&self, raw: &RawPhase) -> Result<RequestShape, SuiteError> {
        let mut shape = RequestShape::default();
        if let Some(method) = &raw.method {
            check_method(method.get_ref()).map_err(|message| self.error(method.span(), "method", message))?;
            shape.method = method.get_ref().clone();
        }
        for header in raw.headers.iter().flatten() {
            let checked = parse_header(header.get_ref())
                .and_then(|(name, value)| check_header(&name, &value).map(|()| (name, value)))
                .and_then(|(name, value)| {
                    if is_left_out(&value) {
                        return Err(format!(
                            "the value of {name} was left out of the results.json this suite came from (header \
                             values are never kept there); write it back"
                        ));
                    }
                    Ok((name, value))
                });
            shape.headers.push(checked.map_err(|message| self.error(header.span(), "headers", message))?);
        }
        shape.body = match (&raw.body, &raw.body_file) {
            (Some(_), Some(file)) => {
                return Err(self.error(file.span(), "body_file", "give `body` or `body_file`, not both"));
            }
            (Some(text), None) => text.get_ref().clone().into_bytes(),
            (None, Some(file)) => {
                let path = self.path.parent().unwrap_or(std::path::Path::new("")).join(file.get_ref());
                read_body_file(&path).map_err(|message| self.error(file.span(), "body_file", message))?
            }
            (None, None) => Vec::new(),
        };
        shape.keep_alive = raw.keep_alive.unwrap_or(true);
        Ok(shape)
    }
}
