//! An ordered, case-insensitive multi-map of HTTP headers.
//!
//! Names keep the case they were given in; comparisons ignore ASCII case. Values set by
//! the caller are validated: CR, LF and NUL are refused, so no header can be split or
//! smuggled into the request head.

use crate::error::{Error, Result};

/// Ordered header list. Repeated names are kept in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

/// Check that `name` is an RFC 9110 token.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidArgument("header name is empty".into()));
    }
    let ok = name.bytes().all(|b| {
        b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
    });
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!("header name {name:?} is not a valid token")))
    }
}

/// Check that `value` holds no CR, LF or NUL (which would split the header block).
pub fn validate_value(name: &str, value: &str) -> Result<()> {
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(Error::InvalidArgument(format!(
            "value of header {name:?} contains CR, LF or NUL"
        )));
    }
    Ok(())
}

impl Headers {
    pub fn new() -> Self {
        Headers { entries: Vec::new() }
    }

    pub fn with_capacity(n: usize) -> Self {
        Headers { entries: Vec::with_capacity(n) }
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `i`th header line as (name, value).
    pub fn at(&self, i: usize) -> Option<(&str, &str)> {
        self.entries.get(i).map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// First value of `name`, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of `name` joined with ", " (HTTPX's `headers[name]`).
    pub fn get_joined(&self, name: &str) -> Option<String> {
        let mut it = self.get_all(name);
        let first = it.next()?;
        let mut out = first.to_string();
        for v in it {
            out.push_str(", ");
            out.push_str(v);
        }
        Some(out)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Replace every value of `name` with one value (validated).
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        validate_name(name)?;
        validate_value(name, value)?;
        self.set_unchecked(name, value);
        Ok(())
    }

    /// Append one more value for `name` (validated).
    pub fn append(&mut self, name: &str, value: &str) -> Result<()> {
        validate_name(name)?;
        validate_value(name, value)?;
        self.entries.push((name.to_string(), value.to_string()));
        Ok(())
    }

    /// Remove every value of `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        before - self.entries.len()
    }

    /// Replace without validation: for values produced by the library itself.
    pub(crate) fn set_unchecked(&mut self, name: &str, value: &str) {
        if let Some(pos) = self.entries.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
            self.entries[pos].1.clear();
            self.entries[pos].1.push_str(value);
            let mut i = pos + 1;
            while i < self.entries.len() {
                if self.entries[i].0.eq_ignore_ascii_case(name) {
                    self.entries.remove(i);
                } else {
                    i += 1;
                }
            }
        } else {
            self.entries.push((name.to_string(), value.to_string()));
        }
    }

    /// Append without validation: for parsed response headers.
    pub(crate) fn push_unchecked(&mut self, name: String, value: String) {
        self.entries.push((name, value));
    }

    /// HTTPX's `Headers.update`: every name present in `other` replaces all of its
    /// values here, the new lines going to the end.
    pub fn update(&mut self, other: &Headers) {
        for (name, _) in &other.entries {
            self.remove(name);
        }
        self.entries.extend(other.entries.iter().cloned());
    }

    /// Prepend a header line (used for `Host`, which goes first as in HTTPX).
    pub(crate) fn insert_first(&mut self, name: &str, value: String) {
        self.entries.insert(0, (name.to_string(), value));
    }

    /// True when a comma-separated header contains `token` (case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_and_ordered() {
        let mut h = Headers::new();
        h.append("X-A", "1").unwrap();
        h.append("x-a", "2").unwrap();
        h.append("B", "3").unwrap();
        assert_eq!(h.get("x-A"), Some("1"));
        assert_eq!(h.get_joined("X-a").unwrap(), "1, 2");
        h.set("X-A", "9").unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h.at(0), Some(("X-A", "9")));
        assert_eq!(h.remove("b"), 1);
    }

    #[test]
    fn refuses_crlf_and_nul() {
        let mut h = Headers::new();
        assert!(h.set("X", "a\r\nEvil: 1").is_err());
        assert!(h.append("X", "a\nb").is_err());
        assert!(h.append("X", "a\0b").is_err());
        assert!(h.append("Bad Name", "v").is_err());
        assert!(h.append("Bad:Name", "v").is_err());
        assert!(h.append("", "v").is_err());
        assert!(h.is_empty());
    }

    #[test]
    fn update_replaces_by_name() {
        let mut a = Headers::new();
        a.append("X-Auth", "client").unwrap();
        a.append("Accept", "*/*").unwrap();
        let mut b = Headers::new();
        b.append("x-auth", "request").unwrap();
        a.update(&b);
        assert_eq!(a.get_all("X-AUTH").collect::<Vec<_>>(), vec!["request"]);
        assert_eq!(a.len(), 2);
    }
}
