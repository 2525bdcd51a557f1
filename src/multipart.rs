//! Streaming `multipart/form-data` request bodies, laid out as HTTPX lays them out.
//!
//! A [`Multipart`] is a description of the form: plain fields, in-memory files and
//! files on disk. Its exact length is known up front ([`Multipart::content_length`])
//! and every [`Multipart::reader`] streams it afresh, so a body can be sent again
//! after a 307/308 redirect or an auth challenge. Files on disk are read a chunk at a
//! time when the reader reaches them, never loaded whole.
//!
//! Each part is
//! `--{boundary}\r\nContent-Disposition: form-data; name="..."[; filename="..."]\r\n[Content-Type: ...\r\n]\r\n{data}\r\n`
//! and the body ends with `--{boundary}--\r\n`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};

/// How much of a file a reader holds in memory at once.
const CHUNK: usize = 64 * 1024;

/// The closing delimiter follows the last part; the one that precedes each part's
/// data is rendered into its header block.
const CRLF: &[u8] = b"\r\n";

/// A `multipart/form-data` body under construction. Cheap to clone: in-memory data
/// is shared, files are referred to by path.
#[derive(Debug, Clone)]
pub struct Multipart {
    boundary: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
struct Part {
    /// `--boundary\r\n`, the part's headers and the blank line after them.
    head: Arc<[u8]>,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Memory(Arc<[u8]>),
    File { path: Arc<Path>, len: u64 },
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Memory(data) => data.len() as u64,
            Body::File { len, .. } => *len,
        }
    }
}

impl Default for Multipart {
    fn default() -> Self {
        Self::new()
    }
}

impl Multipart {
    /// An empty form with a random boundary: 16 random bytes as 32 hex digits,
    /// as HTTPX does.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn new() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes).expect("the OS random number generator failed");
        let boundary = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Multipart { boundary, parts: Vec::new() }
    }

    /// An empty form with the given boundary: 1 to 70 characters from RFC 2046's
    /// `bchars` (letters, digits, `'()+_,-./:=?` and space), not ending in a space.
    /// Anything else is an [`Error::InvalidArgument`].
    pub fn with_boundary(boundary: &str) -> Result<Self> {
        let valid = (1..=70).contains(&boundary.len()) && boundary.bytes().all(is_bchar) && !boundary.ends_with(' ');
        if !valid {
            return Err(Error::InvalidArgument(format!(
                "invalid multipart boundary {boundary:?}: need 1 to 70 RFC 2046 boundary characters"
            )));
        }
        Ok(Multipart { boundary: boundary.to_string(), parts: Vec::new() })
    }

    /// The boundary delimiting the parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// Add a plain form field: no filename, no `Content-Type`.
    pub fn add_field(&mut self, name: &str, value: &[u8]) {
        self.push(name, None, None, Body::Memory(value.into()));
    }

    /// Add an in-memory file.
    ///
    /// With a `filename`, the part gets a `filename` parameter and a `Content-Type`:
    /// `content_type` if given, else guessed from the filename's extension, else
    /// `application/octet-stream`. Without one (or with an empty one), the part has
    /// no filename and a `Content-Type` only if `content_type` is given.
    ///
    /// A `content_type` holding CR, LF, NUL or another control byte is
    /// [`Error::InvalidArgument`] (names and filenames are escaped instead, as HTTPX
    /// does).
    pub fn add_bytes(
        &mut self,
        name: &str,
        filename: Option<&str>,
        data: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<()> {
        check_content_type(content_type)?;
        let filename = filename.filter(|f| !f.is_empty());
        let content_type = resolve_content_type(filename, content_type);
        self.push(name, filename, content_type.as_deref(), Body::Memory(data.into()));
        Ok(())
    }

    /// Add a file on disk, read when a reader reaches it.
    ///
    /// `filename` defaults to the last component of `path`; the `Content-Type` is
    /// chosen as in [`Multipart::add_bytes`]. The file must exist and be a readable
    /// regular file (else [`Error::Io`] naming the path); its size is recorded now and
    /// must not change before the body is sent.
    pub fn add_file(
        &mut self,
        name: &str,
        filename: Option<&str>,
        path: &Path,
        content_type: Option<&str>,
    ) -> Result<()> {
        check_content_type(content_type)?;
        let len = regular_file_len(path).map_err(|e| Error::from_local_io(&path.display().to_string(), e))?;
        let default_name = path.file_name().map(|n| n.to_string_lossy());
        let filename = filename.or(default_name.as_deref()).filter(|f| !f.is_empty());
        let content_type = resolve_content_type(filename, content_type);
        let body = Body::File { path: path.into(), len };
        self.push(name, filename, content_type.as_deref(), body);
        Ok(())
    }

    /// The `Content-Type` header value: `multipart/form-data; boundary=...` (the
    /// boundary is quoted only if it holds characters that require it).
    pub fn content_type(&self) -> String {
        let token = self.boundary.bytes().all(|b| b.is_ascii_alphanumeric() || b"'+_-.".contains(&b));
        if token {
            format!("multipart/form-data; boundary={}", self.boundary)
        } else {
            format!("multipart/form-data; boundary=\"{}\"", self.boundary)
        }
    }

    /// The exact length of the body in bytes, from the part headers and the data
    /// sizes (file sizes as recorded by [`Multipart::add_file`]). `None` only if the
    /// total does not fit in a `u64`.
    pub fn content_length(&self) -> Option<u64> {
        let closing = 2 + self.boundary.len() as u64 + 4;
        self.parts.iter().try_fold(closing, |total, part| {
            total.checked_add(part.head.len() as u64)?.checked_add(part.body.len())?.checked_add(CRLF.len() as u64)
        })
    }

    /// A fresh reader over the whole body; each call starts from the beginning.
    ///
    /// Fails with [`Error::Io`] if a file is gone or its size differs from the one
    /// recorded by [`Multipart::add_file`]. Files are opened only when the reader
    /// reaches them, and are checked again then: a file whose size has changed by
    /// that time makes the reader fail (`io::ErrorKind::InvalidData`, naming the
    /// file) rather than produce a body that disagrees with
    /// [`Multipart::content_length`].
    pub fn reader(&self) -> Result<MultipartReader> {
        let mut segments = Vec::with_capacity(self.parts.len() * 3 + 1);
        for part in &self.parts {
            if let Body::File { path, len } = &part.body {
                let display = path.display().to_string();
                let actual = regular_file_len(path).map_err(|e| Error::from_local_io(&display, e))?;
                if actual != *len {
                    return Err(Error::Io(size_changed(path, *len, actual)));
                }
            }
            segments.push(Segment::Memory(part.head.clone()));
            segments.push(match &part.body {
                Body::Memory(data) => Segment::Memory(data.clone()),
                Body::File { path, len } => Segment::File { path: path.clone(), len: *len },
            });
            segments.push(Segment::Static(CRLF));
        }
        segments.push(Segment::Memory(format!("--{}--\r\n", self.boundary).into_bytes().into()));
        Ok(MultipartReader { segments, index: 0, offset: 0, file: None })
    }

    fn push(&mut self, name: &str, filename: Option<&str>, content_type: Option<&str>, body: Body) {
        let mut head = format!("--{}\r\nContent-Disposition: form-data; name=\"", self.boundary);
        escape_param(name, &mut head);
        head.push('"');
        if let Some(filename) = filename {
            head.push_str("; filename=\"");
            escape_param(filename, &mut head);
            head.push('"');
        }
        head.push_str("\r\n");
        if let Some(content_type) = content_type {
            head.push_str("Content-Type: ");
            escape_controls(content_type, &mut head);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        self.parts.push(Part { head: head.into_bytes().into(), body });
    }
}

/// RFC 2046 `bchars`.
fn is_bchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+_,-./:=?".contains(&b)
}

/// The explicit content type, else (only when there is a filename) a guess from it.
/// A part's Content-Type goes into the part's header as is: no control bytes.
fn check_content_type(ct: Option<&str>) -> Result<()> {
    match ct {
        Some(ct) if ct.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) => Err(Error::InvalidArgument(format!(
            "multipart content type {:?} contains CR, LF or another control character",
            ct.chars().take(64).collect::<String>()
        ))),
        _ => Ok(()),
    }
}

fn resolve_content_type(filename: Option<&str>, explicit: Option<&str>) -> Option<String> {
    if let Some(ct) = explicit {
        return Some(ct.to_string());
    }
    let guess = mime_guess::from_path(filename?).first_raw();
    Some(guess.unwrap_or("application/octet-stream").to_string())
}

/// Append a `name`/`filename` parameter value escaped as HTTPX does (HTML5 form
/// encoding): `"` becomes `%22`, `\` becomes `\\`, and C0 controls other than ESC
/// become `%XX`, so no CR or LF can reach the headers.
fn escape_param(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\\' => out.push_str("\\\\"),
            '\x1b' => out.push(c),
            c if c < ' ' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
}

/// Append a header value with C0 controls (other than tab) and DEL percent-escaped,
/// so a caller-supplied content type cannot inject header lines.
fn escape_controls(value: &str, out: &mut String) {
    for c in value.chars() {
        if (c < ' ' && c != '\t') || c == '\x7f' {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
}

/// The size of `path`, which must be a regular file we can open for reading.
fn regular_file_len(path: &Path) -> io::Result<u64> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    File::open(path)?;
    Ok(meta.len())
}

fn size_changed(path: &Path, expected: u64, actual: u64) -> String {
    format!(
        "{}: file size changed since it was added to the form ({expected} bytes expected, {actual} found)",
        path.display()
    )
}

/// One piece of the body, in order.
#[derive(Debug)]
enum Segment {
    Static(&'static [u8]),
    Memory(Arc<[u8]>),
    File { path: Arc<Path>, len: u64 },
}

/// The open file of the segment being read.
#[derive(Debug)]
struct OpenFile {
    reader: BufReader<File>,
    remaining: u64,
}

/// Streams a [`Multipart`] body; made by [`Multipart::reader`].
///
/// Holds at most one open file and one 64 KiB chunk of it at a time; in-memory
/// data is shared with the form, not copied.
#[derive(Debug)]
pub struct MultipartReader {
    segments: Vec<Segment>,
    /// The segment being read.
    index: usize,
    /// Position within a memory segment.
    offset: usize,
    file: Option<OpenFile>,
}

impl MultipartReader {
    /// Read from the file segment `path`, opening it on first use. `Ok(0)` once all
    /// `len` bytes have been read and the file has been found to end there.
    fn read_file(&mut self, path: &Path, len: u64, buf: &mut [u8]) -> io::Result<usize> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(open_checked(path, len)?),
        };
        if file.remaining == 0 {
            if !file.reader.fill_buf()?.is_empty() {
                return Err(changed_error(path, len, "grew"));
            }
            return Ok(0);
        }
        let max = usize::try_from(file.remaining).unwrap_or(usize::MAX).min(buf.len());
        let n = file.reader.read(&mut buf[..max])?;
        if n == 0 {
            return Err(changed_error(path, len, "shrank"));
        }
        file.remaining -= n as u64;
        Ok(n)
    }
}

fn open_checked(path: &Path, len: u64) -> io::Result<OpenFile> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(named)?;
    let actual = file.metadata().map_err(named)?.len();
    if actual != len {
        return Err(io::Error::new(io::ErrorKind::InvalidData, size_changed(path, len, actual)));
    }
    Ok(OpenFile { reader: BufReader::with_capacity(CHUNK, file), remaining: len })
}

fn changed_error(path: &Path, len: u64, how: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: file {how} while being sent (expected {len} bytes)", path.display()),
    )
}

impl Read for MultipartReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while let Some(segment) = self.segments.get(self.index) {
            let n = match segment {
                Segment::Static(data) => copy_from(data, &mut self.offset, buf),
                Segment::Memory(data) => copy_from(data, &mut self.offset, buf),
                Segment::File { path, len } => {
                    let (path, len) = (path.clone(), *len);
                    self.read_file(&path, len, buf)?
                }
            };
            if n > 0 {
                return Ok(n);
            }
            self.index += 1;
            self.offset = 0;
            self.file = None;
        }
        Ok(0)
    }
}

/// Copy from `data[*offset..]` into `buf`, advancing `offset`.
fn copy_from(data: &[u8], offset: &mut usize, buf: &mut [u8]) -> usize {
    let rest = &data[*offset..];
    let n = rest.len().min(buf.len());
    buf[..n].copy_from_slice(&rest[..n]);
    *offset += n;
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A file in the temp dir, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &[u8]) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "httpx-mp-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }

    fn body(form: &Multipart) -> Vec<u8> {
        let mut out = Vec::new();
        form.reader().unwrap().read_to_end(&mut out).unwrap();
        out
    }

    fn read_chunked(mut r: impl Read, size: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; size];
        loop {
            match r.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}

    #[test]
    fn traits() {
        assert_send_sync::<Multipart>();
        assert_send::<MultipartReader>();
    }

    #[test]
    fn exact_output() {
        let file = TempFile::new("notes.txt", b"file contents\n");
        let mut form = Multipart::with_boundary("BOUNDARY").unwrap();
        form.add_field("a", b"1");
        form.add_bytes("upload", Some("pic.png"), b"\x89PNG".to_vec(), None).unwrap();
        form.add_file("doc", None, &file.0, None).unwrap();
        let expected: &[u8] = b"--BOUNDARY\r\n\
Content-Disposition: form-data; name=\"a\"\r\n\
\r\n\
1\r\n\
--BOUNDARY\r\n\
Content-Disposition: form-data; name=\"upload\"; filename=\"pic.png\"\r\n\
Content-Type: image/png\r\n\
\r\n\
\x89PNG\r\n\
--BOUNDARY\r\n\
Content-Disposition: form-data; name=\"doc\"; filename=\"notes.txt\"\r\n\
Content-Type: text/plain\r\n\
\r\n\
file contents\n\r\n\
--BOUNDARY--\r\n";
        let out = body(&form);
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(expected));
        assert_eq!(out, expected);
        assert_eq!(form.content_length(), Some(expected.len() as u64));
        assert_eq!(form.content_type(), "multipart/form-data; boundary=BOUNDARY");
    }

    #[test]
    fn random_boundary() {
        let a = Multipart::new();
        let b = Multipart::default();
        assert_eq!(a.boundary().len(), 32);
        assert!(a.boundary().bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a.boundary(), b.boundary());
        assert_eq!(a.content_type(), format!("multipart/form-data; boundary={}", a.boundary()));
        assert!(Multipart::with_boundary(a.boundary()).is_ok());
    }

    #[test]
    fn boundary_validation() {
        for ok in ["a", "simple-boundary", "x'()+_,-./:=?y", "with space", &"b".repeat(70)] {
            assert!(Multipart::with_boundary(ok).is_ok(), "{ok:?}");
        }
        for bad in ["", "trailing ", "semi;colon", "quote\"", "crlf\r\n", "é", &"b".repeat(71)] {
            let err = Multipart::with_boundary(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{bad:?}");
        }
        let form = Multipart::with_boundary("a b").unwrap();
        assert_eq!(form.content_type(), "multipart/form-data; boundary=\"a b\"");
    }

    #[test]
    fn content_length_matches_output() {
        let empty_file = TempFile::new("empty.bin", b"");
        let file = TempFile::new("données.csv", b"a,b\n1,2\n");
        let mut shapes = Vec::new();

        shapes.push(Multipart::new());

        let mut form = Multipart::new();
        form.add_bytes("empty", Some("empty.txt"), Vec::new(), None).unwrap();
        form.add_file("also-empty", None, &empty_file.0, None).unwrap();
        form.add_field("", b"");
        shapes.push(form);

        let mut form = Multipart::with_boundary("x").unwrap();
        form.add_field("naïve ☃", "välue ✓".as_bytes());
        form.add_bytes("ファイル", Some("résumé.pdf"), vec![0xff; 1000], None).unwrap();
        form.add_file("f", Some("名前.csv"), &file.0, Some("text/csv; charset=utf-8")).unwrap();
        form.add_file("g", None, &file.0, None).unwrap();
        shapes.push(form);

        for form in shapes {
            let out = body(&form);
            assert_eq!(form.content_length(), Some(out.len() as u64));
            assert!(out.ends_with(format!("--{}--\r\n", form.boundary()).as_bytes()));
        }
    }

    #[test]
    fn empty_form() {
        let form = Multipart::with_boundary("b").unwrap();
        assert_eq!(body(&form), b"--b--\r\n");
        assert_eq!(form.content_length(), Some(7));
    }

    #[test]
    fn small_and_odd_buffers_give_identical_output() {
        let file = TempFile::new("data.bin", &(0..200_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        let mut form = Multipart::new();
        form.add_field("field", b"value");
        form.add_file("file", None, &file.0, None).unwrap();
        form.add_bytes("mem", None, vec![7; 12345], None).unwrap();
        let reference = body(&form);
        assert_eq!(form.content_length(), Some(reference.len() as u64));
        for size in [1, 2, 3, 7, 13, 4095, 65537, 1 << 20] {
            assert_eq!(read_chunked(form.reader().unwrap(), size).unwrap(), reference, "buffer {size}");
        }
        // An empty buffer reads nothing and doesn't disturb the stream.
        let mut r = form.reader().unwrap();
        assert_eq!(r.read(&mut []).unwrap(), 0);
        assert_eq!(read_chunked(r, 100).unwrap(), reference);
    }

    #[test]
    fn replay_with_two_readers() {
        let file = TempFile::new("replay.txt", b"same every time");
        let mut form = Multipart::new();
        form.add_file("f", None, &file.0, None).unwrap();
        form.add_field("k", b"v");
        let mut first = form.reader().unwrap();
        let mut second = form.reader().unwrap();
        // Interleave the two readers.
        let mut a = vec![0u8; 10];
        let n = first.read(&mut a).unwrap();
        let rest_b = read_chunked(&mut second, 5).unwrap();
        let mut rest_a = a[..n].to_vec();
        first.read_to_end(&mut rest_a).unwrap();
        assert_eq!(rest_a, rest_b);
        // A clone of the form replays the same body too.
        assert_eq!(body(&form.clone()), rest_a);
    }

    #[test]
    fn large_file_streams_in_bounded_chunks() {
        const SIZE: usize = 50 << 20;
        let pattern: Vec<u8> = (0..SIZE).map(|i| (i % 253) as u8).collect();
        let file = TempFile::new("big.bin", &pattern);
        drop(pattern);
        let mut form = Multipart::new();
        form.add_file("big", None, &file.0, None).unwrap();
        let total = form.content_length().unwrap();
        assert!(total > SIZE as u64);

        let mut r = form.reader().unwrap();
        // Only small in-memory segments: the headers, CRLFs and closing line.
        for segment in &r.segments {
            if let Segment::Memory(data) = segment {
                assert!(data.len() < 256);
            }
        }
        let mut buf = vec![0u8; 8 * 1024];
        let (mut produced, mut file_pos) = (0u64, 0usize);
        let mut head_len = None;
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            if let Some(open) = &r.file {
                // Never more than one chunk of the file buffered.
                assert_eq!(open.reader.capacity(), CHUNK);
                let head = *head_len.get_or_insert(produced as usize);
                for (i, &b) in buf[..n].iter().enumerate() {
                    let pos = produced as usize + i - head;
                    assert_eq!(b, (pos % 253) as u8);
                }
                file_pos += n;
            }
            produced += n as u64;
        }
        assert_eq!(file_pos, SIZE);
        assert_eq!(produced, total);
    }

    #[test]
    fn file_changed_size() {
        let file = TempFile::new("changing.txt", b"0123456789");
        let mut form = Multipart::new();
        form.add_file("f", None, &file.0, None).unwrap();

        // Changed before the reader is made: reader() refuses.
        std::fs::write(&file.0, b"012").unwrap();
        let err = form.reader().unwrap_err();
        assert!(matches!(&err, Error::Io(m) if m.contains("changing.txt")), "{err:?}");

        // Changed after the reader is made, before it reaches the file.
        std::fs::write(&file.0, b"0123456789").unwrap();
        let r = form.reader().unwrap();
        std::fs::write(&file.0, b"0123456789abc").unwrap();
        let err = read_chunked(r, 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("changing.txt"), "{err}");
    }

    #[test]
    fn file_changed_while_reading() {
        // A file bigger than one chunk, so the change lands after the first chunk.
        let data = vec![b'x'; 3 * CHUNK];
        for new_len in [4 * CHUNK, 2 * CHUNK] {
            let file = TempFile::new("live.bin", &data);
            let mut form = Multipart::new();
            form.add_file("f", None, &file.0, None).unwrap();
            let mut r = form.reader().unwrap();
            let mut buf = vec![0u8; 1024];
            let head = form.parts[0].head.len();
            let mut got = 0;
            while got < head + 10 {
                got += r.read(&mut buf).unwrap();
            }
            std::fs::OpenOptions::new().write(true).open(&file.0).unwrap().set_len(new_len as u64).unwrap();
            let err = read_chunked(r, 1024).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{new_len}");
            assert!(err.to_string().contains("live.bin"), "{err}");
        }
    }

    #[test]
    fn missing_or_unreadable_file() {
        let mut form = Multipart::new();
        let missing = std::env::temp_dir().join("httpx-mp-definitely-missing.bin");
        let err = form.add_file("f", None, &missing, None).unwrap_err();
        assert!(matches!(&err, Error::Io(m) if m.contains("httpx-mp-definitely-missing.bin")), "{err:?}");
        let err = form.add_file("f", None, &std::env::temp_dir(), None).unwrap_err();
        assert!(matches!(&err, Error::Io(m) if m.contains("not a regular file")), "{err:?}");
        assert_eq!(form.parts.len(), 0);

        // Deleted after being added.
        let file = TempFile::new("gone.txt", b"abc");
        form.add_file("f", None, &file.0, None).unwrap();
        let r = form.reader().unwrap();
        std::fs::remove_file(&file.0).unwrap();
        assert!(matches!(form.reader().unwrap_err(), Error::Io(m) if m.contains("gone.txt")));
        let err = read_chunked(r, 64).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("gone.txt"), "{err}");
    }

    #[test]
    fn escaping() {
        let mut form = Multipart::with_boundary("b").unwrap();
        // A content type with CR/LF is refused; names and filenames are escaped.
        let err = form.add_bytes("n", None, b"d".to_vec(), Some("text/plain\r\nX-Evil: 1")).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        form.add_bytes(
            "na\"me\r\nX-Injected: 1",
            Some("fi\"le\\\n\r\t\x1b.txt"),
            b"d".to_vec(),
            Some("text/plain; x=1"),
        )
        .unwrap();
        let out = String::from_utf8(body(&form)).unwrap();
        let expected = "--b\r\n\
Content-Disposition: form-data; name=\"na%22me%0D%0AX-Injected: 1\"; filename=\"fi%22le\\\\%0A%0D%09\x1b.txt\"\r\n\
Content-Type: text/plain; x=1\r\n\
\r\n\
d\r\n\
--b--\r\n";
        assert_eq!(out, expected);
        // No bare CR or LF anywhere except as the layout's CRLFs.
        assert_eq!(out.matches('\r').count(), out.matches("\r\n").count());
        assert_eq!(out.matches('\n').count(), out.matches("\r\n").count());
    }

    #[test]
    fn content_type_choice() {
        let file = TempFile::new("archive.unknownext", b"zz");
        let mut form = Multipart::with_boundary("b").unwrap();
        form.add_bytes("png", Some("image.PNG"), vec![1], None).unwrap();
        form.add_bytes("unknown", Some("blob.qqqzzz"), vec![2], None).unwrap();
        form.add_bytes("noext", Some("README"), vec![3], None).unwrap();
        form.add_bytes("nofilename", None, vec![4], None).unwrap();
        form.add_bytes("emptyfilename", Some(""), vec![5], None).unwrap();
        form.add_bytes("explicit", None, vec![6], Some("application/json")).unwrap();
        form.add_bytes("override", Some("a.png"), vec![7], Some("text/x-custom")).unwrap();
        form.add_file("disk", None, &file.0, None).unwrap();
        form.add_file("renamed", Some("photo.jpg"), &file.0, None).unwrap();
        let out = String::from_utf8_lossy(&body(&form)).into_owned();
        let part = |name: &str| {
            let start = out.find(&format!("name=\"{name}\"")).unwrap();
            let end = out[start..].find("\r\n\r\n").unwrap();
            out[start..start + end].to_string()
        };
        assert_eq!(part("png"), "name=\"png\"; filename=\"image.PNG\"\r\nContent-Type: image/png");
        assert_eq!(
            part("unknown"),
            "name=\"unknown\"; filename=\"blob.qqqzzz\"\r\nContent-Type: application/octet-stream"
        );
        assert_eq!(part("noext"), "name=\"noext\"; filename=\"README\"\r\nContent-Type: application/octet-stream");
        assert_eq!(part("nofilename"), "name=\"nofilename\"");
        assert_eq!(part("emptyfilename"), "name=\"emptyfilename\"");
        assert_eq!(part("explicit"), "name=\"explicit\"\r\nContent-Type: application/json");
        assert_eq!(part("override"), "name=\"override\"; filename=\"a.png\"\r\nContent-Type: text/x-custom");
        assert_eq!(
            part("disk"),
            "name=\"disk\"; filename=\"archive.unknownext\"\r\nContent-Type: application/octet-stream"
        );
        assert_eq!(part("renamed"), "name=\"renamed\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg");
    }

    #[test]
    fn field_has_no_content_type() {
        let mut form = Multipart::with_boundary("b").unwrap();
        form.add_field("k", b"v\r\nwith \"raw\" bytes \xff");
        assert_eq!(
            body(&form),
            b"--b\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\nwith \"raw\" bytes \xff\r\n--b--\r\n"
        );
    }
}
