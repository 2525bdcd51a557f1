//! `--download FILE`: the body (decoded, as HTTPX's `iter_bytes`) written byte for
//! byte, with rich's progress bar: `Downloading FILE 100% ━━━━ 256/256 bytes ?`.
//!
//! HTTPX prints a blank line, then (on a terminal) a live bar; when not on a
//! terminal rich prints the bar once, in its final state, on stdout. We draw the live
//! bar on stderr when stderr is a terminal, and otherwise print the final line on
//! stdout exactly as HTTPX does.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use httpx::Response;

use crate::console::{Console, Style};

pub enum DownloadError {
    /// The file could not be opened (click: `Error: Could not open file ...`).
    Open(String),
    Write(String),
    Http(httpx::Error),
}

struct Bar {
    desc: String,
    total: u64,
    started: bool,
    color: bool,
}

/// rich.filesize.pick_unit_and_suffix with decimal units.
fn unit_for(n: u64) -> (u64, &'static str) {
    let suffixes = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut unit = 1u64;
    for (i, s) in suffixes.iter().enumerate() {
        unit = 1000u64.saturating_pow(i as u32);
        if (n as u128) < unit as u128 * 1000 {
            return (unit, s);
        }
    }
    (unit, "YB")
}

/// Python `f"{x:,.{p}f}"`.
fn commas(x: f64, precision: usize) -> String {
    let s = format!("{x:.precision$}");
    let (int, frac) = match s.split_once('.') {
        Some((a, b)) => (a.to_string(), Some(b.to_string())),
        None => (s.clone(), None),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    out
}

/// rich.filesize.decimal (for the speed column).
fn decimal(size: u64) -> String {
    if size == 1 {
        return "1 byte".into();
    }
    if size < 1000 {
        return format!("{} bytes", commas(size as f64, 0));
    }
    let suffixes = ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut unit = 1000f64;
    for (i, s) in suffixes.iter().enumerate() {
        unit = 1000f64.powi(i as i32 + 2);
        if (size as f64) < unit {
            return format!("{} {s}", commas(1000.0 * size as f64 / unit, 1));
        }
    }
    format!("{} YB", commas(1000.0 * size as f64 / unit, 1))
}

impl Bar {
    fn render(&self, width: usize, done: u64, speed: Option<f64>) -> String {
        let pct = if self.total == 0 { 0.0 } else { (done as f64 / self.total as f64 * 100.0).min(100.0) };
        let pct = format!("{:>3.0}%", pct);
        let (unit, suffix) = unit_for(self.total);
        let prec = if unit == 1 { 0 } else { 1 };
        let dl = format!(
            "{}/{} {}",
            commas(done as f64 / unit as f64, prec),
            commas(self.total as f64 / unit as f64, prec),
            suffix
        );
        let sp = match speed {
            Some(s) => format!("{}/s", decimal(s as u64)),
            None => "?".into(),
        };
        let fixed = unicode_width::UnicodeWidthStr::width(self.desc.as_str()) + pct.len() + dl.len() + sp.len() + 4;
        let w = width.saturating_sub(fixed).max(1);
        let bar = if !self.started || self.total == 0 {
            "━".repeat(w)
        } else {
            let halves = ((w as u128 * 2 * done as u128) / self.total as u128).min(w as u128 * 2) as usize;
            let mut b = "━".repeat(halves / 2);
            let mut used = halves / 2;
            if halves % 2 == 1 {
                b.push('╸');
                used += 1;
            }
            if self.color {
                format!("\x1b[38;5;197m{b}\x1b[38;5;237m{}\x1b[0m", "━".repeat(w - used))
            } else {
                b + &" ".repeat(w - used)
            }
        };
        let desc = if self.color {
            let (a, b) = self.desc.split_at("Downloading ".len().min(self.desc.len()));
            format!("{a}\x1b[1m{b}\x1b[0m")
        } else {
            self.desc.clone()
        };
        if self.color {
            format!("{desc} \x1b[35m{pct}\x1b[0m {bar} \x1b[32m{dl}\x1b[0m \x1b[31m{sp}\x1b[0m")
        } else {
            format!("{desc} {pct} {bar} {dl} {sp}")
        }
    }
}

/// Stream the body into `path`. `received` counts raw body bytes (the progress
/// callback), as HTTPX's `num_bytes_downloaded`.
pub fn run(
    console: &Console,
    resp: &mut Response,
    path: &Path,
    shown_name: &str,
    received: Arc<AtomicU64>,
) -> Result<(), DownloadError> {
    console.print("", Style::Plain);
    let content_length = resp.headers.get("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
    let live = io::stderr().is_terminal();
    let bar = Bar {
        desc: format!("Downloading {shown_name}"),
        total: content_length.unwrap_or(0),
        started: content_length.is_some(),
        color: live,
    };
    let started = Instant::now();
    let mut chunks = 0u64;
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    if live {
        // Hide the cursor while the bar is live, as rich does.
        let _ = write!(io::stderr(), "\x1b[?25l");
    }
    let finish = |done: u64, chunks: u64| {
        let secs = started.elapsed().as_secs_f64();
        let speed = if chunks > 1 && secs > 0.0 { Some(done as f64 / secs) } else { None };
        if live {
            let line = bar.render(console.width, done, speed);
            let _ = write!(io::stderr(), "\r\x1b[2K{line}\n\x1b[?25h");
        } else {
            console.print(&bar.render(console.width, done, speed), Style::Plain);
        }
    };
    // click opens `--download` lazily, at the first write: after the response head.
    let mut file = match std::fs::File::create(path) {
        Ok(f) => f,
        Err(e) => {
            finish(0, 0);
            return Err(DownloadError::Open(format!(
                "Could not open file {}: {}",
                crate::pyfmt::str_repr(shown_name),
                crate::args::io_reason(&e)
            )));
        }
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match resp.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                finish(received.load(Ordering::Relaxed), chunks);
                return Err(DownloadError::Http(e));
            }
        };
        if n == 0 {
            break;
        }
        chunks += 1;
        if let Err(e) = file.write_all(&buf[..n]) {
            finish(received.load(Ordering::Relaxed), chunks);
            return Err(DownloadError::Write(e.to_string()));
        }
        if live && last_draw.elapsed() >= Duration::from_millis(100) {
            last_draw = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            let done = received.load(Ordering::Relaxed);
            let speed = if chunks > 1 && secs > 0.0 { Some(done as f64 / secs) } else { None };
            let _ = write!(io::stderr(), "\r\x1b[2K{}", bar.render(console.width, done, speed));
        }
    }
    if let Err(e) = file.flush() {
        return Err(DownloadError::Write(e.to_string()));
    }
    finish(received.load(Ordering::Relaxed), chunks);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected lines printed by rich's Progress (the HTTPX CLI's columns) on an
    // 80-column non-terminal Console, in /work/venv-httpx.
    #[test]
    fn renders_like_rich() {
        let b = Bar { desc: "Downloading out.bin".into(), total: 256, started: true, color: false };
        assert_eq!(b.render(80, 256, None), format!("Downloading out.bin 100% {} 256/256 bytes ?", "━".repeat(39)));
        let b = Bar { desc: "Downloading out.bin".into(), total: 0, started: false, color: false };
        assert_eq!(b.render(80, 3, None), format!("Downloading out.bin   0% {} 3/0 bytes ?", "━".repeat(43)));
        let b = Bar { desc: "Downloading out.bin".into(), total: 3_000_000, started: true, color: false };
        assert_eq!(
            b.render(80, 1_500_000, None),
            format!("Downloading out.bin  50% {}{} 1.5/3.0 MB ?", "━".repeat(21), " ".repeat(21))
        );
        assert_eq!(decimal(1_234_567), "1.2 MB");
        assert_eq!(decimal(999), "999 bytes");
        assert_eq!(commas(1234567.0, 0), "1,234,567");
    }
}
