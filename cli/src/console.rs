//! Output the way HTTPX's CLI prints it through `rich`: every block is printed as
//! text plus a newline, word-wrapped to the console width (rich's `Syntax(...,
//! word_wrap=True)`), with tabs expanded to 4 columns and `\r\n` turned into `\n`.
//! Colours only when stdout is a terminal (and `NO_COLOR` is unset).
//!
//! Width as rich computes it: `COLUMNS` when set, else the size of the terminal on
//! stdin, stdout or stderr, else 80.

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;

use unicode_width::UnicodeWidthChar;

pub struct Console {
    pub width: usize,
    pub color: bool,
    out: Mutex<io::Stdout>,
}

/// What a block is, for colouring on a terminal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    /// An HTTP head (request or response): first line and `Name: value` lines.
    Head,
    /// `* Connecting to ...` lines of `-v`.
    Info,
}

impl Console {
    pub fn new() -> Console {
        let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Console { width: console_width(), color, out: Mutex::new(io::stdout()) }
    }

    /// Print one block (rich `console.print`): wrapped text and a newline.
    pub fn print(&self, text: &str, style: Style) {
        let mut s = String::new();
        for line in normalize(text).split('\n') {
            for piece in wrap_line(line, self.width) {
                if self.color {
                    s.push_str(&colorize(&piece, style));
                } else {
                    s.push_str(&piece);
                }
                s.push('\n');
            }
        }
        self.write_raw(s.as_bytes());
    }

    /// `[red]Name[/red]: message` of a transport error.
    pub fn print_error(&self, name: &str, msg: &str) {
        if self.color {
            let text = format!("{name}: {msg}");
            let mut s = String::new();
            for (i, piece) in wrap_line(&normalize(&text), self.width).into_iter().enumerate() {
                if i == 0 && piece.starts_with(name) {
                    s.push_str(&format!("\x1b[31m{name}\x1b[0m{}", &piece[name.len()..]));
                } else {
                    s.push_str(&piece);
                }
                s.push('\n');
            }
            self.write_raw(s.as_bytes());
        } else {
            self.print(&format!("{name}: {msg}"), Style::Plain);
        }
    }

    pub fn write_raw(&self, b: &[u8]) {
        if let Ok(mut o) = self.out.lock() {
            // A closed pipe (`httpx URL | head`) is not worth a panic; SIGPIPE is
            // ignored by the Rust runtime, so the write just fails.
            let _ = o.write_all(b);
            let _ = o.flush();
        }
    }
}

fn console_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()) {
        if n > 0 {
            return n;
        }
    }
    for size in [
        terminal_size::terminal_size_of(io::stdin()),
        terminal_size::terminal_size_of(io::stdout()),
        terminal_size::terminal_size_of(io::stderr()),
    ]
    .into_iter()
    .flatten()
    {
        if size.0 .0 > 0 {
            return size.0 .0 as usize;
        }
    }
    80
}

/// `\r\n` and lone `\r` become `\n`, BEL, BS, VT and FF are dropped (rich's
/// `strip_control_codes`), tabs go to the next multiple of 4 columns.
fn normalize(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text: String = text.chars().filter(|c| !matches!(c, '\u{7}' | '\u{8}' | '\u{b}' | '\u{c}')).collect();
    if !text.contains('\t') {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut col = 0usize;
    for c in text.chars() {
        match c {
            '\t' => {
                let n = 4 - col % 4;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            '\n' => {
                out.push('\n');
                col = 0;
            }
            c => {
                out.push(c);
                col += c.width().unwrap_or(0);
            }
        }
    }
    out
}

fn cells(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// rich's `divide_line`: words are `\s*\S+\s*`; a word stays on the line when its
/// text without trailing spaces fits, else it starts a new line; a word wider than
/// the line is chopped into width-sized pieces. Trailing spaces stay.
pub fn wrap_line(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    if cells(line) <= width {
        return vec![line.to_string()];
    }
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut offset = 0usize;
    for word in words(line) {
        let wlen = cells(word.trim_end());
        if width.saturating_sub(offset) >= wlen {
            cur.push_str(word);
            offset += cells(word);
        } else if wlen > width {
            // Chop the word into pieces of `width` cells; the first goes on a new line.
            let mut piece = String::new();
            let mut pw = 0usize;
            let mut pieces = Vec::new();
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if pw + cw > width && !piece.is_empty() {
                    pieces.push(std::mem::take(&mut piece));
                    pw = 0;
                }
                piece.push(c);
                pw += cw;
            }
            pieces.push(piece);
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            let last = pieces.pop().unwrap_or_default();
            lines.extend(pieces);
            offset = cells(&last);
            cur = last;
        } else {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            offset = cells(word);
            cur.push_str(word);
        }
    }
    lines.push(cur);
    lines
}

fn words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let is_space = |c: char| c.is_whitespace();
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let start = chars[k].0;
        while k < chars.len() && is_space(chars[k].1) {
            k += 1;
        }
        while k < chars.len() && !is_space(chars[k].1) {
            k += 1;
        }
        while k < chars.len() && is_space(chars[k].1) {
            k += 1;
        }
        let end = if k < chars.len() { chars[k].0 } else { line.len() };
        out.push(&line[start..end]);
    }
    out
}

/// `HTTP/1.1` as rich's `http` lexer colours it (ansi_dark): `HTTP` and the version
/// bright blue.
fn color_version(v: &str) -> String {
    match v.split_once('/') {
        Some((a, b)) => format!("\x1b[94m{a}\x1b[0m/\x1b[94m{b}\x1b[0m"),
        None => v.to_string(),
    }
}

/// The colours HTTPX's CLI shows on a terminal (recorded with `script` around
/// `/work/venv-httpx/bin/httpx -v`): rich's `http` lexer with the ansi_dark theme for
/// heads, and rich's highlighter (strings green, numbers bold cyan) for `* ...` lines.
/// Bodies are printed without colour.
fn colorize(line: &str, style: Style) -> String {
    match style {
        Style::Plain => line.to_string(),
        Style::Info => {
            let mut out = line.to_string();
            if let (Some(a), Some(b)) = (out.find('\''), out.rfind('\'')) {
                if b > a {
                    out = format!("{}\x1b[32m{}\x1b[0m{}", &out[..a], &out[a..=b], &out[b + 1..]);
                }
            }
            if let Some(i) = out.rfind(" on port ") {
                let port = &out[i + 9..];
                if !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()) {
                    out = format!("{} on port \x1b[1;36m{port}\x1b[0m", &out[..i]);
                }
            }
            out
        }
        Style::Head => {
            if line.starts_with("HTTP/") {
                let mut parts = line.splitn(3, ' ');
                let v = parts.next().unwrap_or("");
                let status = parts.next().unwrap_or("");
                let reason = parts.next();
                let mut out = format!("{} \x1b[94m{status}\x1b[0m", color_version(v));
                if let Some(r) = reason {
                    out.push_str(&format!(" \x1b[96m{r}\x1b[0m"));
                }
                return out;
            }
            if let Some((name, value)) = line.split_once(": ") {
                if !name.is_empty() && !name.contains(' ') {
                    return format!("\x1b[96m{name}\x1b[0m: {value}");
                }
            }
            let parts: Vec<&str> = line.splitn(3, ' ').collect();
            if parts.len() == 3 && parts[2].starts_with("HTTP/") {
                return format!(
                    "\x1b[92m{}\x1b[0m \x1b[4;96m{}\x1b[0m {}",
                    parts[0],
                    parts[1],
                    color_version(parts[2])
                );
            }
            line.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_colours_like_httpx() {
        assert_eq!(
            colorize("GET /json HTTP/1.1", Style::Head),
            "\x1b[92mGET\x1b[0m \x1b[4;96m/json\x1b[0m \x1b[94mHTTP\x1b[0m/\x1b[94m1.1\x1b[0m"
        );
        assert_eq!(
            colorize("HTTP/1.1 200 OK", Style::Head),
            "\x1b[94mHTTP\x1b[0m/\x1b[94m1.1\x1b[0m \x1b[94m200\x1b[0m \x1b[96mOK\x1b[0m"
        );
        assert_eq!(colorize("Host: 127.0.0.1:18777", Style::Head), "\x1b[96mHost\x1b[0m: 127.0.0.1:18777");
        assert_eq!(
            colorize("* Connected to '127.0.0.1' on port 18777", Style::Info),
            "* Connected to \x1b[32m'127.0.0.1'\x1b[0m on port \x1b[1;36m18777\x1b[0m"
        );
    }

    // Expected results printed by rich (the version in /work/venv-httpx) with
    // `Console(width=20).print(Syntax(code, "text", word_wrap=True))`.
    #[test]
    fn wraps_like_rich() {
        assert_eq!(wrap_line("aaaa bbbb cccc dddd eeee ffff", 20), ["aaaa bbbb cccc dddd ", "eeee ffff"]);
        assert_eq!(wrap_line("aaaa    bbbb cccc dddd eeee ffff", 20), ["aaaa    bbbb cccc ", "dddd eeee ffff"]);
        assert_eq!(wrap_line(&"x".repeat(45), 20), ["x".repeat(20), "x".repeat(20), "x".repeat(5)]);
        assert_eq!(wrap_line("ab cdefghijklmnopqrstuvwxyz0123", 20), ["ab ", "cdefghijklmnopqrstuv", "wxyz0123"]);
        assert_eq!(wrap_line(&"é".repeat(25), 20), ["é".repeat(20), "é".repeat(5)]);
        assert_eq!(wrap_line(&"日本".repeat(8), 20), ["日本".repeat(5), "日本".repeat(3)]);
        assert_eq!(wrap_line("  lead spaces and more words here", 20), ["  lead spaces and ", "more words here"]);
        assert_eq!(wrap_line("hello   ", 20), ["hello   "]);
    }

    #[test]
    fn tabs_and_newlines() {
        assert_eq!(normalize("a\tb\r\nc"), "a   b\nc");
        // rich: "a\x0bb\x0cc\x08d\x0ee\x0ff\x07g\x1bh\x00i\x7fj" prints as below.
        assert_eq!(
            normalize("a\u{b}b\u{c}c\u{8}d\u{e}e\u{f}f\u{7}g\u{1b}h\u{0}i\u{7f}j\rk"),
            "abcd\u{e}e\u{f}fg\u{1b}h\u{0}i\u{7f}j\nk"
        );
    }
}
