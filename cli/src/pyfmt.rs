//! Python's encoders, as HTTPX's CLI uses them, so the bytes we send and print are
//! the same: `urllib.parse.quote_plus` (form bodies and query params), `json.dumps`
//! (compact for `-j`, `indent=4` for printing a JSON response) and `repr(float)`.

use serde_json::Value;

/// `urllib.parse.quote_plus(s)`: letters, digits and `_.-~` stay, space becomes `+`,
/// every other byte of the UTF-8 text is `%XX` (upper-case hex).
pub fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `urlencode(pairs)`: `k=v&k=v` with `quote_plus` on both sides.
pub fn urlencode(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v))).collect::<Vec<_>>().join("&")
}

/// `dict(pairs)` order: a repeated key keeps its first position and takes the last value.
pub fn dict(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in pairs {
        match out.iter_mut().find(|(a, _)| a == k) {
            Some(e) => e.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

/// `json.loads`, keeping object key order and number text (Python keeps ints exact).
/// A repeated key keeps its first position and takes the last value, as in Python.
pub fn json_loads(text: &[u8]) -> Option<Value> {
    serde_json::from_slice(text).ok()
}

/// Python truthiness of a parsed JSON value (`if json:` in HTTPX's CLI).
pub fn json_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => {
            let s = n.to_string();
            match s.parse::<f64>() {
                Ok(f) => f != 0.0,
                Err(_) => true,
            }
        }
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Why a value cannot be dumped (`allow_nan=False` refuses inf/nan).
#[derive(Debug)]
pub struct NotJsonCompliant(pub String);

/// `json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)`:
/// what HTTPX 0.28 sends for `json=`.
pub fn dumps_compact(v: &Value) -> Result<String, NotJsonCompliant> {
    let mut out = String::new();
    dump(v, &mut out, None, 0, false, false)?;
    Ok(out)
}

/// `json.dumps(v, indent=4)` (ensure_ascii, NaN allowed): how HTTPX's CLI prints JSON.
pub fn dumps_pretty(v: &Value) -> String {
    let mut out = String::new();
    let _ = dump(v, &mut out, Some(4), 0, true, true);
    out
}

fn dump(
    v: &Value,
    out: &mut String,
    indent: Option<usize>,
    level: usize,
    ensure_ascii: bool,
    allow_nan: bool,
) -> Result<(), NotJsonCompliant> {
    let newline = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', n * level));
        }
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(&n.to_string(), allow_nan)?),
        Value::String(s) => escape_str(s, out, ensure_ascii),
        Value::Array(a) => {
            if a.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, level + 1);
                dump(x, out, indent, level + 1, ensure_ascii, allow_nan)?;
            }
            newline(out, level);
            out.push(']');
        }
        Value::Object(o) => {
            if o.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, level + 1);
                escape_str(k, out, ensure_ascii);
                out.push_str(if indent.is_some() { ": " } else { ":" });
                dump(x, out, indent, level + 1, ensure_ascii, allow_nan)?;
            }
            newline(out, level);
            out.push('}');
        }
    }
    Ok(())
}

/// A JSON number as Python re-serialises it: integers exactly (`-0` is `0`), other
/// numbers through `float` and `repr`.
fn number(text: &str, allow_nan: bool) -> Result<String, NotJsonCompliant> {
    if !text.contains(['.', 'e', 'E']) {
        let neg = text.starts_with('-');
        let digits = text.trim_start_matches('-').trim_start_matches('0');
        return Ok(if digits.is_empty() {
            "0".into()
        } else if neg {
            format!("-{digits}")
        } else {
            digits.to_string()
        });
    }
    let f: f64 = text.parse().map_err(|_| NotJsonCompliant(text.into()))?;
    if !f.is_finite() {
        if !allow_nan {
            return Err(NotJsonCompliant(format!("Out of range float values are not JSON compliant: {f}")));
        }
        return Ok(if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .into());
    }
    Ok(float_repr(f))
}

/// Python's `repr(float)`: the shortest round-tripping digits; fixed notation when
/// the decimal exponent is in -4..16 (with `.0` for whole numbers), else `1.5e+20`.
pub fn float_repr(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Rust's `{:e}` gives the same shortest round-trip digits: "1.2345e-7".
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    let n = digits.len() as i32;
    if (-4..16).contains(&exp) {
        let body = if exp >= 0 {
            if n > exp + 1 {
                format!("{}.{}", &digits[..(exp + 1) as usize], &digits[(exp + 1) as usize..])
            } else {
                format!("{}{}.0", digits, "0".repeat((exp + 1 - n) as usize))
            }
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        };
        format!("{sign}{body}")
    } else {
        let m = if n > 1 { format!("{}.{}", &digits[..1], &digits[1..]) } else { digits.clone() };
        let es = if exp < 0 { "-" } else { "+" };
        format!("{sign}{m}e{es}{:02}", exp.abs())
    }
}

fn escape_str(s: &str, out: &mut String, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ensure_ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", u));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python `repr(str)` for the simple strings we show (`'127.0.0.1'`).
pub fn str_repr(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values were produced by CPython 3 (the interpreter of /work/venv-httpx):
    // `urllib.parse.quote_plus`, `json.dumps(json.loads(t), ...)` and `repr(float)`.
    #[test]
    fn quote_plus_matches_python() {
        assert_eq!(quote_plus("x y&z"), "x+y%26z");
        assert_eq!(quote_plus("a*b~c_d.e-f"), "a%2Ab~c_d.e-f");
        assert_eq!(quote_plus("é/+"), "%C3%A9%2F%2B");
    }

    #[test]
    fn dict_keeps_first_position_last_value() {
        let p = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(dict(&[p("a", "1"), p("b", "2"), p("a", "3")]), vec![p("a", "3"), p("b", "2")]);
    }

    #[test]
    fn json_compact_and_pretty() {
        let v = json_loads(r#"{"k": [1, 2.50, 1e5, -0], "u": "é\u0001", "b": {}, "a": []}"#.as_bytes()).unwrap();
        assert_eq!(dumps_compact(&v).unwrap(), "{\"k\":[1,2.5,100000.0,0],\"u\":\"é\\u0001\",\"b\":{},\"a\":[]}");
        assert_eq!(
            dumps_pretty(&v),
            "{\n    \"k\": [\n        1,\n        2.5,\n        100000.0,\n        0\n    ],\n    \"u\": \"\\u00e9\\u0001\",\n    \"b\": {},\n    \"a\": []\n}"
        );
        let v = json_loads("{\"a\": 1, \"b\": 2, \"a\": 3}".as_bytes()).unwrap();
        assert_eq!(dumps_compact(&v).unwrap(), "{\"a\":3,\"b\":2}");
        let v = json_loads("\"\u{1F600}\u{7f}\"".as_bytes()).unwrap();
        assert_eq!(dumps_pretty(&v), "\"\\ud83d\\ude00\\u007f\"");
        assert_eq!(dumps_compact(&v).unwrap(), "\"\u{1F600}\u{7f}\"");
        assert_eq!(
            dumps_compact(&json_loads(b"123456789012345678901234567890").unwrap()).unwrap(),
            "123456789012345678901234567890"
        );
        assert!(dumps_compact(&json_loads(b"1e400").unwrap()).is_err());
        assert_eq!(dumps_pretty(&json_loads(b"-1e400").unwrap()), "-Infinity");
    }

    #[test]
    fn float_repr_matches_python() {
        for (f, s) in [
            (1.5, "1.5"),
            (100000.0, "100000.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.2345e-7, "1.2345e-07"),
            (-2.5e300, "-2.5e+300"),
            (0.1, "0.1"),
            (123.456, "123.456"),
        ] {
            assert_eq!(float_repr(f), s, "{f}");
        }
    }

    #[test]
    fn truthiness() {
        for (t, b) in [("null", false), ("[]", false), ("{}", false), ("0", false), ("0.0", false), ("\"\"", false)] {
            assert_eq!(json_truthy(&json_loads(t.as_bytes()).unwrap()), b, "{t}");
        }
        for t in ["[0]", "1", "\"x\"", "true", "{\"a\":0}"] {
            assert!(json_truthy(&json_loads(t.as_bytes()).unwrap()), "{t}");
        }
    }
}
