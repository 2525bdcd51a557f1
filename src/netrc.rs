//! `.netrc` parsing and credential lookup, following Python's `netrc` module as used
//! by HTTPX's `NetRCAuth`.
//!
//! Format: whitespace-separated tokens (an entry may span one line or many).
//! `machine NAME` or `default` starts an entry, followed by any of `login VALUE` (or
//! `user VALUE`), `password VALUE`, `account VALUE`. `macdef NAME` starts a macro whose
//! body runs to the next blank line and is skipped. Tokens may be quoted with `"..."`,
//! and a backslash escapes the next character. Where a keyword is expected, a token
//! starting with `#` starts a comment that runs to the end of the line; values are taken
//! verbatim, so `password #secret` has the password `#secret`, as in Python.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A parsed `.netrc` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netrc {
    entries: Vec<Entry>,
}

/// One `machine` or `default` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Entry {
    /// `None` for the `default` entry.
    machine: Option<String>,
    login: Option<String>,
    password: Option<String>,
}

impl Netrc {
    /// Parse the text of a `.netrc` file.
    ///
    /// Malformed input (a keyword missing its value, an unknown keyword, tokens before
    /// the first `machine`/`default`) gives
    /// `Error::Io("malformed .netrc: line N: ...")`.
    pub fn parse(text: &str) -> Result<Netrc> {
        let mut lx = Lexer::new(text);
        let mut entries: Vec<Entry> = Vec::new();
        while let Some(tok) = lx.keyword() {
            let line = tok.line;
            match tok.text.as_str() {
                "machine" => {
                    let name = lx.value(line, "machine")?;
                    entries.push(Entry { machine: Some(name), ..Entry::default() });
                }
                "default" => entries.push(Entry::default()),
                "macdef" => {
                    lx.value(line, "macdef")?;
                    lx.skip_macro_body();
                }
                kw @ ("login" | "user" | "password" | "account") => {
                    let value = lx.value(line, kw)?;
                    let Some(entry) = entries.last_mut() else {
                        return Err(malformed(line, &format!("{kw:?} before any machine or default")));
                    };
                    match kw {
                        "password" => entry.password = Some(value),
                        "account" => {}
                        _ => entry.login = Some(value),
                    }
                }
                other => {
                    return Err(malformed(line, &format!("unknown keyword {other:?}")));
                }
            }
        }
        Ok(Netrc { entries })
    }

    /// Read and parse the file at `path`. A missing or unreadable file gives
    /// [`Error::Io`] naming the path.
    pub fn load(path: &Path) -> Result<Netrc> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::from_local_io(&format!("reading {}", path.display()), e))?;
        Netrc::parse(&text).map_err(|e| match e {
            Error::Io(msg) => Error::Io(format!("{}: {msg}", path.display())),
            other => other,
        })
    }

    /// The `(login, password)` for `host` (compared ignoring ASCII case).
    ///
    /// The first `machine` entry for the host that has a non-empty password wins;
    /// entries without one are skipped. If no machine entry applies, the first
    /// `default` entry with a password is used. A missing login is `""`.
    pub fn lookup(&self, host: &str) -> Option<(String, String)> {
        let usable = |e: &&Entry| e.password.as_deref().is_some_and(|p| !p.is_empty());
        let by_machine = self
            .entries
            .iter()
            .filter(usable)
            .find(|e| e.machine.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(host)));
        let entry = by_machine.or_else(|| self.entries.iter().filter(usable).find(|e| e.machine.is_none()))?;
        Some((entry.login.clone().unwrap_or_default(), entry.password.clone().unwrap_or_default()))
    }
}

/// [`locate`] and [`Netrc::load`] with a per-process cache, so that creating many
/// clients (each reads its netrc once, on its first request that may need it) costs one
/// `statx` each and one parse in all:
/// - a file found before is re-checked with one `statx` (type, mtime, size, inode in one
///   call) and read and parsed again only when one of those changed;
/// - "no netrc in HOME" is re-checked with one `statx` of HOME: creating, removing or
///   renaming a file in a directory changes the directory's mtime.
pub fn load_cached(netrc_env: Option<&OsStr>, home: Option<&Path>) -> Result<Option<std::sync::Arc<Netrc>>> {
    use std::os::unix::fs::MetadataExt;
    use std::sync::{Arc, Mutex};
    type Key = (PathBuf, Option<std::time::SystemTime>, u64, u64);
    enum Cached {
        Found(Key, Arc<Netrc>),
        /// No $NETRC, and neither HOME/.netrc nor HOME/_netrc when HOME had this mtime.
        Absent(PathBuf, std::time::SystemTime),
    }
    static CACHE: Mutex<Option<Cached>> = Mutex::new(None);
    let poisoned = || Error::Internal("netrc cache poisoned".into());
    let key_of = |p: PathBuf, m: &std::fs::Metadata| -> Key { (p, m.modified().ok(), m.len(), m.ino()) };
    let from_env = netrc_env.filter(|v| !v.is_empty()).map(PathBuf::from);
    // The fast paths: one statx.
    match CACHE.lock().map_err(|_| poisoned())?.as_ref() {
        Some(Cached::Found(k, n)) if from_env.as_ref().is_none_or(|e| *e == k.0) => {
            // Only a path of this HOME (or $NETRC itself) may be reused as is: an
            // earlier candidate may have appeared since, which the HOME check catches.
            let same_place = from_env.is_some() || home.is_some_and(|h| k.0 == h.join(".netrc"));
            if same_place {
                if let Some(m) = std::fs::metadata(&k.0).ok().filter(|m| m.is_file()) {
                    if key_of(k.0.clone(), &m) == *k {
                        return Ok(Some(n.clone()));
                    }
                }
            }
        }
        Some(Cached::Absent(h, mtime)) if from_env.is_none() && home == Some(h.as_path()) => {
            if std::fs::metadata(h).ok().and_then(|m| m.modified().ok()) == Some(*mtime) {
                return Ok(None);
            }
        }
        _ => {}
    }
    // HOME's mtime before looking, so that a file created meanwhile is not missed.
    let home_mtime = home.and_then(|h| std::fs::metadata(h).ok()).and_then(|m| m.modified().ok());
    let from_home = home.into_iter().flat_map(|h| [h.join(".netrc"), h.join("_netrc")]);
    let found =
        from_env.clone().into_iter().chain(from_home).find_map(|p| std::fs::metadata(&p).ok().filter(|m| m.is_file()).map(|m| (p, m)));
    let Some((path, meta)) = found else {
        if let (None, Some(h), Some(m)) = (&from_env, home, home_mtime) {
            *CACHE.lock().map_err(|_| poisoned())? = Some(Cached::Absent(h.to_path_buf(), m));
        }
        return Ok(None);
    };
    let key = key_of(path, &meta);
    if let Some(Cached::Found(k, n)) = CACHE.lock().map_err(|_| poisoned())?.as_ref() {
        if *k == key {
            return Ok(Some(n.clone()));
        }
    }
    let n = Arc::new(Netrc::load(&key.0)?);
    *CACHE.lock().map_err(|_| poisoned())? = Some(Cached::Found(key, n.clone()));
    Ok(Some(n))
}

/// Find the `.netrc` file to use, as HTTPX does: `$NETRC` (when set and non-empty),
/// then `HOME/.netrc`, then `HOME/_netrc`; the first that exists as a file.
///
/// Pure apart from file-existence checks: the caller passes `env::var_os("NETRC")` and
/// the home directory.
pub fn locate(netrc_env: Option<&OsStr>, home: Option<&Path>) -> Option<PathBuf> {
    let from_env = netrc_env.filter(|v| !v.is_empty()).map(PathBuf::from);
    let from_home = home.into_iter().flat_map(|h| [h.join(".netrc"), h.join("_netrc")]);
    from_env.into_iter().chain(from_home).find(|p| p.is_file())
}

fn malformed(line: usize, what: &str) -> Error {
    Error::Io(format!("malformed .netrc: line {line}: {what}"))
}

/// A token and the (1-based) line it started on.
struct Token {
    text: String,
    line: usize,
}

/// Character-level tokenizer tracking line numbers.
struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer { chars: text.chars().peekable(), line: 1 }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Next raw token (quotes removed, escapes resolved), or `None` at end of input.
    fn token(&mut self) -> Option<Token> {
        while self.chars.peek().is_some_and(|c| c.is_whitespace()) {
            self.bump();
        }
        let line = self.line;
        let mut text = String::new();
        if self.chars.next_if_eq(&'"').is_some() {
            while let Some(c) = self.bump() {
                match c {
                    '"' => break,
                    '\\' => text.extend(self.bump()),
                    _ => text.push(c),
                }
            }
        } else {
            while let Some(c) = self.chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    text.extend(self.bump());
                } else {
                    text.push(c);
                }
            }
            if text.is_empty() {
                return None;
            }
        }
        Some(Token { text, line })
    }

    /// Next token in keyword position, skipping `#` comments.
    fn keyword(&mut self) -> Option<Token> {
        loop {
            let tok = self.token()?;
            if !tok.text.starts_with('#') {
                return Some(tok);
            }
            // Skip the rest of the comment's line, unless the token already ended it.
            if self.line == tok.line {
                self.skip_line();
            }
        }
    }

    /// The value following keyword `kw` (which was on line `line`).
    fn value(&mut self, line: usize, kw: &str) -> Result<String> {
        self.token().map(|t| t.text).ok_or_else(|| malformed(line, &format!("{kw:?} has no value")))
    }

    /// Consume through the end of the current line.
    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == '\n' {
                break;
            }
        }
    }

    /// Skip a macro body: the rest of the `macdef` line, then lines up to and including
    /// the first blank one (or end of input).
    fn skip_macro_body(&mut self) {
        let start = self.line;
        self.skip_line();
        // If the name token was the end of input, there is nothing more.
        if self.line == start {
            return;
        }
        while self.chars.peek().is_some() {
            let mut blank = true;
            while let Some(c) = self.bump() {
                if c == '\n' {
                    break;
                }
                blank &= c.is_whitespace();
            }
            if blank {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn creds(l: &str, p: &str) -> Option<(String, String)> {
        Some((l.to_owned(), p.to_owned()))
    }

    fn err_msg(text: &str) -> String {
        match Netrc::parse(text) {
            Err(Error::Io(m)) => m,
            other => panic!("expected Io error for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn seed_example() {
        let n = Netrc::parse("machine netrcexample.org\nlogin example-username\npassword example-password\n").unwrap();
        assert_eq!(n.lookup("netrcexample.org"), creds("example-username", "example-password"));
        assert_eq!(n.lookup("NetrcExample.ORG"), creds("example-username", "example-password"));
        assert_eq!(n.lookup("example.org"), None);
    }

    #[test]
    fn one_line_form_and_several_entries() {
        let n = Netrc::parse(
            "machine a.com login alice password pa machine b.com login bob password pb\n\
             machine c.com\n  password pc\n  login carol account acct\n",
        )
        .unwrap();
        assert_eq!(n.lookup("a.com"), creds("alice", "pa"));
        assert_eq!(n.lookup("b.com"), creds("bob", "pb"));
        assert_eq!(n.lookup("c.com"), creds("carol", "pc"));
        assert_eq!(n.lookup("d.com"), None);
    }

    #[test]
    fn first_match_wins_and_user_synonym() {
        let n = Netrc::parse("machine h user u1 password p1\nmachine h login u2 password p2\n").unwrap();
        assert_eq!(n.lookup("h"), creds("u1", "p1"));
    }

    #[test]
    fn default_entry() {
        let n =
            Netrc::parse("machine a.com login alice password pa\ndefault login anonymous password guest\n").unwrap();
        assert_eq!(n.lookup("a.com"), creds("alice", "pa"));
        assert_eq!(n.lookup("other.org"), creds("anonymous", "guest"));
        // A default before the machines does not shadow them.
        let n = Netrc::parse("default password d\nmachine a.com password pa\n").unwrap();
        assert_eq!(n.lookup("a.com"), creds("", "pa"));
        assert_eq!(n.lookup("b.com"), creds("", "d"));
    }

    #[test]
    fn entries_without_password_are_skipped() {
        let n = Netrc::parse(
            "machine h login nopass\n\
             machine h login empty password \"\"\n\
             machine h login later password p\n\
             machine only login x\n\
             default login dflt password dp\n",
        )
        .unwrap();
        assert_eq!(n.lookup("h"), creds("later", "p"));
        assert_eq!(n.lookup("only"), creds("dflt", "dp"));
        let n = Netrc::parse("machine only login x\ndefault login y\n").unwrap();
        assert_eq!(n.lookup("only"), None);
        assert_eq!(n.lookup("else"), None);
    }

    #[test]
    fn missing_login_is_empty() {
        let n = Netrc::parse("machine h password p").unwrap();
        assert_eq!(n.lookup("h"), creds("", "p"));
    }

    #[test]
    fn macdef_skipped() {
        let text = "machine a login u password p\n\
                    macdef init\n\
                    cd /pub\n\
                    machine evil login x password y\n\
                    \n\
                    machine b login v password q\n\
                    macdef empty\n\
                    \n\
                    machine c login w password r\n\
                    macdef at_end\n\
                    machine z password z";
        let n = Netrc::parse(text).unwrap();
        assert_eq!(n.lookup("a"), creds("u", "p"));
        assert_eq!(n.lookup("b"), creds("v", "q"));
        assert_eq!(n.lookup("c"), creds("w", "r"));
        assert_eq!(n.lookup("evil"), None);
        assert_eq!(n.lookup("z"), None);
        // Body text on the macdef line itself, and a whitespace-only terminator line.
        let n = Netrc::parse("macdef m echo hi\nls\n   \nmachine h password p").unwrap();
        assert_eq!(n.lookup("h"), creds("", "p"));
        // macdef name at end of input.
        assert!(Netrc::parse("macdef m").is_ok());
    }

    #[test]
    fn comments() {
        let n = Netrc::parse(
            "# leading comment with machine words password x\n\
             machine h # trailing comment login bad\n\
             \tlogin u   #another\n\
             #no-space comment machine other\n\
             password #not-a-comment\n\
             #\n",
        )
        .unwrap();
        assert_eq!(n.lookup("h"), creds("u", "#not-a-comment"));
        assert_eq!(n.lookup("other"), None);
        assert_eq!(Netrc::parse("# only a comment").unwrap(), Netrc::default());
        assert_eq!(Netrc::parse("").unwrap(), Netrc::default());
        assert_eq!(Netrc::parse(" \n\t\r\n").unwrap(), Netrc::default());
    }

    #[test]
    fn quoted_tokens_and_escapes() {
        let n = Netrc::parse(
            "machine \"my host\" login \"John Doe\" password \"pass with spaces \\\" and quote\"\n\
             machine h2 login a\\ b password back\\\\slash\n\
             machine h3 password \"multi\nline\"\n",
        )
        .unwrap();
        assert_eq!(n.lookup("my host"), creds("John Doe", "pass with spaces \" and quote"));
        assert_eq!(n.lookup("h2"), creds("a b", "back\\slash"));
        assert_eq!(n.lookup("h3"), creds("", "multi\nline"));
    }

    #[test]
    fn crlf_line_endings() {
        let n = Netrc::parse("machine h\r\nlogin u\r\npassword p\r\n").unwrap();
        assert_eq!(n.lookup("h"), creds("u", "p"));
    }

    #[test]
    fn malformed_with_line_numbers() {
        let m = err_msg("machine h\nlogin u\npassword");
        assert!(m.starts_with("malformed .netrc: line 3: "), "{m}");
        assert!(m.contains("password"), "{m}");

        let m = err_msg("machine h\n\nlogin");
        assert!(m.starts_with("malformed .netrc: line 3: "), "{m}");

        let m = err_msg("machine h login u\n  frobnicate x\n");
        assert!(m.starts_with("malformed .netrc: line 2: "), "{m}");
        assert!(m.contains("frobnicate"), "{m}");

        let m = err_msg("# comment\nlogin u password p\nmachine h");
        assert!(m.starts_with("malformed .netrc: line 2: "), "{m}");

        let m = err_msg("\n\n\nhello");
        assert!(m.starts_with("malformed .netrc: line 4: "), "{m}");

        let m = err_msg("machine");
        assert!(m.starts_with("malformed .netrc: line 1: "), "{m}");

        let m = err_msg("machine h\nmacdef\n");
        assert!(m.starts_with("malformed .netrc: line 2: "), "{m}");

        // Line counting includes newlines inside macro bodies and quoted tokens.
        let m = err_msg("macdef m\na\nb\n\nmachine \"x\ny\" bogus");
        assert!(m.starts_with("malformed .netrc: line 6: "), "{m}");
    }

    #[test]
    fn hostile_input_never_panics() {
        for s in [
            "\"",
            "machine \"unterminated",
            "machine h password \\",
            "\\",
            "machine \u{1F600} login \u{e9} password \u{0}",
            "#",
            "macdef",
        ] {
            let _ = Netrc::parse(s);
        }
        let n = Netrc::parse("machine h password \"unterminated").unwrap();
        assert_eq!(n.lookup("h"), creds("", "unterminated"));
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
            let dir = std::env::temp_dir().join(format!("httpx-netrc-test-{tag}-{}-{nanos}", std::process::id()));
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn locate_order() {
        let home = TempDir::new("home");
        let other = TempDir::new("other");
        let h = home.0.as_path();
        let custom = other.0.join("custom-netrc");
        let env = Some(custom.as_os_str());

        // Nothing exists.
        assert_eq!(locate(env, Some(h)), None);
        assert_eq!(locate(None, None), None);

        // _netrc is the last resort.
        fs::write(h.join("_netrc"), "").unwrap();
        assert_eq!(locate(env, Some(h)), Some(h.join("_netrc")));

        // .netrc beats _netrc.
        fs::write(h.join(".netrc"), "").unwrap();
        assert_eq!(locate(env, Some(h)), Some(h.join(".netrc")));

        // $NETRC beats both once it exists; an empty $NETRC is ignored.
        fs::write(&custom, "").unwrap();
        assert_eq!(locate(env, Some(h)), Some(custom.clone()));
        assert_eq!(locate(Some(OsStr::new("")), Some(h)), Some(h.join(".netrc")));
        assert_eq!(locate(env, None), Some(custom.clone()));

        // A directory named .netrc is not a netrc file.
        let dir_home = TempDir::new("dirhome");
        fs::create_dir(dir_home.0.join(".netrc")).unwrap();
        assert_eq!(locate(None, Some(&dir_home.0)), None);
    }

    #[test]
    fn load_cached_follows_changes() {
        let home = TempDir::new("cached");
        let h = home.0.as_path();
        let get = |h: &Path| load_cached(None, Some(h)).unwrap().and_then(|n| n.lookup("h"));
        assert_eq!(get(h), None);
        assert_eq!(get(h), None); // the "absent" fast path
        fs::write(h.join(".netrc"), "machine h login u password p\n").unwrap();
        assert_eq!(get(h), creds("u", "p"));
        assert_eq!(get(h), creds("u", "p")); // the "found" fast path
        fs::write(h.join(".netrc"), "machine h login u2 password p2\n").unwrap();
        assert_eq!(get(h), creds("u2", "p2"));
        fs::remove_file(h.join(".netrc")).unwrap();
        fs::write(h.join("_netrc"), "machine h login w password q\n").unwrap();
        assert_eq!(get(h), creds("w", "q"));
        fs::remove_file(h.join("_netrc")).unwrap();
        assert_eq!(get(h), None);
        // $NETRC first.
        let other = TempDir::new("cached-env");
        let custom = other.0.join("n");
        fs::write(&custom, "machine h login e password f\n").unwrap();
        let n = load_cached(Some(custom.as_os_str()), Some(h)).unwrap().unwrap();
        assert_eq!(n.lookup("h"), creds("e", "f"));
    }

    #[test]
    fn load_reads_and_reports_path() {
        let dir = TempDir::new("load");
        let path = dir.0.join("netrc");
        fs::write(&path, "machine h login u password p\n").unwrap();
        assert_eq!(Netrc::load(&path).unwrap().lookup("h"), creds("u", "p"));

        let missing = dir.0.join("missing");
        match Netrc::load(&missing) {
            Err(Error::Io(m)) => assert!(m.contains(&missing.display().to_string()), "{m}"),
            other => panic!("{other:?}"),
        }

        fs::write(&path, "machine h\nbogus").unwrap();
        match Netrc::load(&path) {
            Err(Error::Io(m)) => {
                assert!(m.contains(&path.display().to_string()), "{m}");
                assert!(m.contains("malformed .netrc: line 2"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }
}
