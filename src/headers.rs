//! An ordered, case-insensitive multi-map of HTTP headers.
//!
//! Names keep the case they were given in; comparisons ignore ASCII case. Values set by
//! the caller are validated: CR, LF and NUL are refused, so no header can be split or
//! smuggled into the request head.

use crate::error::{Error, Result};

/// Ordered header list. Repeated names are kept in order.
///
/// Storage is compact: every name and value lives in one string buffer and the list
/// holds byte ranges, so a header block costs two allocations however many lines it
/// has (this is on the per-request hot path).
#[derive(Default)]
pub struct Headers {
    data: String,
    idx: Vec<Entry>,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    name: (u32, u32),
    value: (u32, u32),
}

/// Check that `name` is an RFC 9110 token.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidArgument("header name is empty".into()));
    }
    let ok = name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!("header name {name:?} is not a valid token")))
    }
}

/// Longest header value accepted from a caller, in bytes (64 KiB).
pub const MAX_VALUE_LEN: usize = 64 * 1024;

/// Check that `value` holds no CR, LF or NUL (which would split the header block)
/// and is at most [`MAX_VALUE_LEN`] bytes.
pub fn validate_value(name: &str, value: &str) -> Result<()> {
    if value.len() > MAX_VALUE_LEN {
        return Err(Error::InvalidArgument(format!(
            "value of header {name:?} is {} bytes long, more than the {MAX_VALUE_LEN} allowed",
            value.len()
        )));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(Error::InvalidArgument(format!("value of header {name:?} contains CR, LF or NUL")));
    }
    Ok(())
}

impl Clone for Headers {
    /// Clones compactly (dropping bytes of removed lines).
    fn clone(&self) -> Self {
        let mut h = Headers::with_capacity(self.idx.len());
        h.data.reserve(self.idx.iter().map(|e| (e.name.1 - e.name.0 + e.value.1 - e.value.0) as usize).sum());
        for (n, v) in self.iter() {
            h.push(n, v);
        }
        h
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Eq for Headers {}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Headers {
    pub fn new() -> Self {
        Headers::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Headers { data: String::with_capacity(n * 32), idx: Vec::with_capacity(n) }
    }

    #[inline]
    fn name_of(&self, e: &Entry) -> &str {
        &self.data[e.name.0 as usize..e.name.1 as usize]
    }

    #[inline]
    fn value_of(&self, e: &Entry) -> &str {
        &self.data[e.value.0 as usize..e.value.1 as usize]
    }

    fn entry(&mut self, name: &str, value: &str) -> Entry {
        let n0 = self.data.len() as u32;
        self.data.push_str(name);
        let n1 = self.data.len() as u32;
        self.data.push_str(value);
        let v1 = self.data.len() as u32;
        Entry { name: (n0, n1), value: (n1, v1) }
    }

    fn push(&mut self, name: &str, value: &str) {
        let e = self.entry(name, value);
        self.idx.push(e);
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.idx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    /// The `i`th header line as (name, value).
    pub fn at(&self, i: usize) -> Option<(&str, &str)> {
        self.idx.get(i).map(|e| (self.name_of(e), self.value_of(e)))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.idx.iter().map(move |e| (self.name_of(e), self.value_of(e)))
    }

    /// First value of `name`, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.idx.iter().find(|e| self.name_of(e).eq_ignore_ascii_case(name)).map(|e| self.value_of(e))
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.idx.iter().filter(move |e| self.name_of(e).eq_ignore_ascii_case(name)).map(move |e| self.value_of(e))
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
        self.idx.iter().any(|e| self.name_of(e).eq_ignore_ascii_case(name))
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
        self.push(name, value);
        Ok(())
    }

    /// Remove every value of `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.idx.len();
        let data = &self.data;
        self.idx.retain(|e| !data[e.name.0 as usize..e.name.1 as usize].eq_ignore_ascii_case(name));
        self.compact_if_sparse();
        before - self.idx.len()
    }

    /// Drop bytes of removed lines once they make up most of the buffer.
    fn compact_if_sparse(&mut self) {
        let live: usize = self.idx.iter().map(|e| (e.value.1 - e.name.0) as usize).sum();
        if self.data.len() > 4096 && live * 2 < self.data.len() {
            *self = self.clone();
        }
    }

    /// Replace without validation: for values produced by the library itself.
    pub(crate) fn set_unchecked(&mut self, name: &str, value: &str) {
        let data = &self.data;
        match self.idx.iter().position(|e| data[e.name.0 as usize..e.name.1 as usize].eq_ignore_ascii_case(name)) {
            Some(pos) => {
                // Keep the original spelling of the name at the first position.
                let old_name = self.idx[pos].name;
                let v0 = self.data.len() as u32;
                self.data.push_str(value);
                let v1 = self.data.len() as u32;
                self.idx[pos] = Entry { name: old_name, value: (v0, v1) };
                let mut i = pos + 1;
                while i < self.idx.len() {
                    if self.name_of(&self.idx[i]).eq_ignore_ascii_case(name) {
                        self.idx.remove(i);
                    } else {
                        i += 1;
                    }
                }
                self.compact_if_sparse();
            }
            None => self.push(name, value),
        }
    }

    /// Append without validation: for parsed response headers.
    pub(crate) fn push_unchecked(&mut self, name: &str, value: &str) {
        self.push(name, value);
    }

    /// HTTPX's `Headers.update`: every name present in `other` replaces all of its
    /// values here, the new lines going to the end.
    pub fn update(&mut self, other: &Headers) {
        for (name, _) in other.iter() {
            self.remove(name);
        }
        for (n, v) in other.iter() {
            self.push(n, v);
        }
    }

    /// Prepend a header line (used for `Host`, which goes first as in HTTPX).
    pub(crate) fn insert_first(&mut self, name: &str, value: String) {
        let e = self.entry(name, &value);
        self.idx.insert(0, e);
    }

    /// Insert a header line at position `i` (clamped to the end), without validation.
    pub(crate) fn insert_unchecked(&mut self, i: usize, name: &str, value: &str) {
        let e = self.entry(name, value);
        self.idx.insert(i.min(self.idx.len()), e);
    }

    /// True when a comma-separated header contains `token` (case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name).flat_map(|v| v.split(',')).any(|t| t.trim().eq_ignore_ascii_case(token))
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

    #[test]
    fn set_keeps_position_and_clone_compacts() {
        let mut h = Headers::new();
        h.append("Host", "a").unwrap();
        h.append("X", "1").unwrap();
        h.append("x", "2").unwrap();
        h.append("Y", "3").unwrap();
        h.set("X", "new").unwrap();
        assert_eq!(h.iter().collect::<Vec<_>>(), vec![("Host", "a"), ("X", "new"), ("Y", "3")]);
        for i in 0..2000 {
            h.set("Y", &i.to_string()).unwrap();
        }
        assert_eq!(h.get("y"), Some("1999"));
        assert!(h.data.len() < 8192, "compacted: {}", h.data.len());
        let c = h.clone();
        assert_eq!(c, h);
        assert_eq!(c.data.len(), "HostaXnewY1999".len());
    }
}
