//! The request line and headers of a request sent to an HTTP forwarding proxy: the
//! absolute URL (without its fragment) as the target and `Proxy-Authorization` from
//! the proxy URL's credentials. One function for both drivers (the blocking
//! `transport/http.rs` and the multi's `multi/http.rs`).

use std::borrow::Cow;

use url::Url;

use super::ProxyConfig;
use crate::headers::Headers;
use crate::urls;

/// The request target and the headers to write for `url` with `headers`. `forward`:
/// the connection goes to a forwarding proxy (absolute-form target, RFC 9112 section
/// 3.2.2, plus `Proxy-Authorization` when `proxy` has credentials); otherwise the
/// origin-form target and the headers as they are (nothing copied).
pub fn request_parts<'a>(
    url: &'a Url,
    headers: &'a Headers,
    forward: bool,
    proxy: Option<&ProxyConfig>,
) -> (Cow<'a, str>, Cow<'a, Headers>) {
    if !forward {
        return (Cow::Borrowed(urls::request_target(url)), Cow::Borrowed(headers));
    }
    let headers = match proxy.and_then(|p| p.authorization.as_deref()) {
        Some(auth) => {
            let mut h = headers.clone();
            h.set_unchecked("Proxy-Authorization", auth);
            Cow::Owned(h)
        }
        None => Cow::Borrowed(headers),
    };
    let target = match url.fragment() {
        None => Cow::Borrowed(url.as_str()),
        Some(_) => {
            let mut u = url.clone();
            u.set_fragment(None);
            Cow::Owned(u.to_string())
        }
    };
    (target, headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ProxyMode;

    #[test]
    fn origin_form_without_a_proxy_and_absolute_form_with_credentials_through_one() {
        let u = Url::parse("http://example.test:8080/a/b?q=1#frag").unwrap();
        let mut h = Headers::new();
        h.set_unchecked("Accept", "*/*");
        let (t, hh) = request_parts(&u, &h, false, None);
        assert_eq!(t, "/a/b?q=1");
        assert!(matches!(hh, Cow::Borrowed(_)));
        let p = ProxyConfig::parse("http://us%20er:pw@127.0.0.1:3128", ProxyMode::Default).unwrap();
        let (t, hh) = request_parts(&u, &h, true, Some(&p));
        assert_eq!(t, "http://example.test:8080/a/b?q=1");
        assert_eq!(hh.get("proxy-authorization"), p.authorization.as_deref());
        assert_eq!(hh.get("accept"), Some("*/*"));
        let anon = ProxyConfig::parse("http://127.0.0.1:3128", ProxyMode::Default).unwrap();
        let u2 = Url::parse("http://a.test/x").unwrap();
        let (t, hh) = request_parts(&u2, &h, true, Some(&anon));
        assert_eq!(t, "http://a.test/x");
        assert!(hh.get("proxy-authorization").is_none());
    }
}
