//! A minimal, deterministic POSIX ustar writer and a strict reader, for
//! evidence packs (DESIGN A7).
//!
//! Determinism: entries are written in byte order of their names, with mtime
//! 0, uid/gid 0, empty user/group names and mode 0644, so the same artifacts
//! always give the same archive bytes. Any `tar` tool can list and extract a
//! pack. The reader accepts only what the writer produces (regular files,
//! names up to 100 bytes) and never panics on damaged input.

use crate::error::{Error, ErrorCode, Result};
use std::io::Write;

const BLOCK: usize = 512;

fn octal(field: &mut [u8], value: u64) {
    // NUL-terminated, zero-padded octal, as ustar expects.
    let digits = field.len() - 1;
    let s = format!("{value:0digits$o}");
    field[..digits].copy_from_slice(&s.as_bytes()[s.len() - digits..]);
    field[digits] = 0;
}

fn header(name: &str, size: u64) -> Result<[u8; BLOCK]> {
    if name.is_empty() || name.len() > 100 || name.bytes().any(|b| b == 0) {
        return Err(Error::new(ErrorCode::Internal, format!("tar entry name `{name}` is not 1..=100 bytes")));
    }
    if size >= 1 << 33 {
        return Err(Error::new(ErrorCode::Internal, "tar entry larger than 8 GiB"));
    }
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    // Checksum: computed with the checksum field as eight spaces.
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    Ok(h)
}

/// Streams a tar archive into a sink. Entries must be added in byte order of
/// their names (checked), so the archive is deterministic.
pub struct TarWriter<W: Write> {
    sink: W,
    last: Option<String>,
}

impl<W: Write> TarWriter<W> {
    /// Start an archive.
    pub fn new(sink: W) -> Self {
        TarWriter { sink, last: None }
    }

    /// Append one file.
    pub fn append(&mut self, name: &str, data: &[u8]) -> Result<()> {
        if self.last.as_deref().is_some_and(|l| l >= name) {
            return Err(Error::new(ErrorCode::Internal, format!("tar entries out of order at `{name}`")));
        }
        let io = |e: std::io::Error| Error::new(ErrorCode::InvalidInput, format!("cannot write the archive: {e}"));
        self.sink.write_all(&header(name, data.len() as u64)?).map_err(io)?;
        self.sink.write_all(data).map_err(io)?;
        let pad = (BLOCK - data.len() % BLOCK) % BLOCK;
        self.sink.write_all(&[0u8; BLOCK][..pad]).map_err(io)?;
        self.last = Some(name.to_string());
        Ok(())
    }

    /// Append one file whose `size` bytes `write` produces straight into the
    /// archive (large artifacts never sit in memory). Producing a different
    /// number of bytes than announced is an error.
    pub fn append_with(&mut self, name: &str, size: u64, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
        if self.last.as_deref().is_some_and(|l| l >= name) {
            return Err(Error::new(ErrorCode::Internal, format!("tar entries out of order at `{name}`")));
        }
        let io = |e: std::io::Error| Error::new(ErrorCode::InvalidInput, format!("cannot write the archive: {e}"));
        self.sink.write_all(&header(name, size)?).map_err(io)?;
        let mut counted = Counted { inner: &mut self.sink, n: 0 };
        write(&mut counted)?;
        if counted.n != size {
            return Err(Error::new(ErrorCode::Internal, format!("`{name}`: wrote {} bytes, announced {size}", counted.n)));
        }
        let pad = (BLOCK as u64 - size % BLOCK as u64) as usize % BLOCK;
        self.sink.write_all(&[0u8; BLOCK][..pad]).map_err(io)?;
        self.last = Some(name.to_string());
        Ok(())
    }

    /// Write the end-of-archive marker (two zero blocks) and return the sink.
    pub fn finish(mut self) -> Result<W> {
        self.sink
            .write_all(&[0u8; 2 * BLOCK])
            .map_err(|e| Error::new(ErrorCode::InvalidInput, format!("cannot write the archive: {e}")))?;
        Ok(self.sink)
    }
}

/// Counts what passes through to the sink.
struct Counted<'a, W: Write> {
    inner: &'a mut W,
    n: u64,
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One archive entry: its name and the byte range of its data in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// File name.
    pub name: String,
    /// The file's bytes.
    pub data: &'a [u8],
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let text: Vec<u8> = field.iter().copied().take_while(|&b| b != 0 && b != b' ').collect();
    let s = std::str::from_utf8(&text).ok()?.trim_start();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

/// Whether `bytes` start like a ustar archive (the magic at offset 257), so
/// a caller can tell an evidence pack from a JSON document.
pub(crate) fn looks_like_archive(bytes: &[u8]) -> bool {
    bytes.get(257..263) == Some(b"ustar\0")
}

/// Read every entry of an archive written by [`TarWriter`]. Damage (a bad
/// checksum, a truncated entry, a non-file entry, a header the writer would
/// not have written) is an error naming the entry's offset.
pub fn read(bytes: &[u8]) -> Result<Vec<Entry<'_>>> {
    entries(bytes).collect()
}

/// The entries of an archive written by [`TarWriter`], one at a time, so that
/// a caller can stop at the first entry it does not want (an unknown name, one
/// entry too many) without reading the rest. Yields at most one error, then
/// ends; a clean end needs the end-of-archive marker.
///
/// Strict: a header must be byte for byte the one [`TarWriter`] writes for
/// that name and size (mode 0644, uid/gid 0, mtime 0, no link, no prefix, no
/// user or group name), so what other `tar` tools extract is exactly what was
/// read.
///
/// ```
/// use eucora_license_core::internal::tar::{entries, TarWriter};
/// let mut w = TarWriter::new(Vec::new());
/// w.append("a", b"1").unwrap();
/// w.append("b", b"2").unwrap();
/// let bytes = w.finish().unwrap();
/// let first = entries(&bytes).next().unwrap().unwrap();
/// assert_eq!((first.name.as_str(), first.data), ("a", &b"1"[..]));
/// assert_eq!(entries(&bytes).count(), 2);
/// ```
pub fn entries(bytes: &[u8]) -> Entries<'_> {
    Entries { bytes, pos: 0, done: false }
}

/// Iterator over an archive's entries; see [`entries`].
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    bytes: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Entries<'a> {
    fn next_entry(&mut self) -> Result<Option<Entry<'a>>> {
        let bytes = self.bytes;
        let pos = self.pos;
        let bad = |offset: usize, what: &str| Error::new(ErrorCode::InvalidInput, format!("archive damaged at byte {offset}: {what}"));
        let Some(h) = pos.checked_add(BLOCK).and_then(|end| bytes.get(pos..end)) else {
            return Err(bad(pos, "missing end-of-archive marker"));
        };
        if h.iter().all(|&b| b == 0) {
            let rest = &bytes[pos..];
            if rest.len() < 2 * BLOCK || rest.iter().any(|&b| b != 0) {
                return Err(bad(pos, "data after the end-of-archive marker, or a short marker"));
            }
            return Ok(None);
        }
        let (name, size) = check_header(h).map_err(|what| bad(pos, what))?;
        let size = usize::try_from(size).map_err(|_| bad(pos, "entry too large"))?;
        let start = pos + BLOCK;
        let data_end = start.checked_add(size).ok_or_else(|| bad(pos, "entry too large"))?;
        let data = bytes.get(start..data_end).ok_or_else(|| bad(pos, "entry truncated"))?;
        let end = size.div_ceil(BLOCK).checked_mul(BLOCK).and_then(|n| start.checked_add(n)).ok_or_else(|| bad(pos, "entry too large"))?;
        let padding = bytes.get(data_end..end).ok_or_else(|| bad(pos, "entry padding truncated"))?;
        if padding.iter().any(|&b| b != 0) {
            return Err(bad(data_end, "non-zero padding after an entry"));
        }
        self.pos = end;
        Ok(Some(Entry { name, data }))
    }
}

/// A (non-zero) header block checked against what the writer writes — the
/// ustar checksum, a regular file, a UTF-8 name, and every other field the
/// writer's own, byte for byte — shared by [`entries`] and
/// [`StreamEntries`]: the entry's (name, size), or why the archive is
/// damaged there.
fn check_header(h: &[u8]) -> std::result::Result<(String, u64), &'static str> {
    if h[154] != 0 || h[155] != b' ' {
        return Err("checksum field not in ustar form");
    }
    let stored = parse_octal(&h[148..156]).ok_or("unreadable checksum")?;
    let sum: u64 = h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { b' ' as u64 } else { b as u64 }).sum();
    if sum != stored {
        return Err("header checksum mismatch");
    }
    if h[156] != b'0' && h[156] != 0 {
        return Err("not a regular file");
    }
    let name_len = h[..100].iter().position(|&b| b == 0).unwrap_or(100);
    let name = std::str::from_utf8(&h[..name_len]).map_err(|_| "name is not UTF-8")?.to_string();
    let size = parse_octal(&h[124..136]).ok_or("unreadable size")?;
    match header(&name, size) {
        Ok(expected) if expected[..] == h[..] => Ok((name, size)),
        _ => Err("header fields other than the writer's (name, mode, owner, time, type, prefix)"),
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// The strict reader of [`entries`], over a stream: the same rules, the same
/// messages, without the archive in memory. A caller takes each header with
/// [`StreamEntries::next_header`] and then its data, in chunks, with
/// [`StreamEntries::data`]; an I/O error of the source (a bad frame around
/// the tar) is reported as its own text.
pub(crate) struct StreamEntries<R: std::io::Read> {
    source: R,
    pos: u64,
    buf: Vec<u8>,
}

/// The size of the chunks [`StreamEntries::data`] hands out.
const CHUNK: usize = 256 << 10;

impl<R: std::io::Read> StreamEntries<R> {
    pub(crate) fn new(source: R) -> Self {
        StreamEntries { source, pos: 0, buf: vec![0u8; CHUNK] }
    }

    /// The source, to finish reading it (see `zst::ArchiveReader::drain`).
    pub(crate) fn source_mut(&mut self) -> &mut R {
        &mut self.source
    }

    fn fill(&mut self, n: usize) -> std::result::Result<usize, String> {
        let mut got = 0;
        while got < n {
            match self.source.read(&mut self.buf[got..n]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(got)
    }

    /// The next entry's (name, size), or `None` at the end-of-archive
    /// marker, after checking that only zeros follow it (two blocks at least).
    pub(crate) fn next_header(&mut self) -> std::result::Result<Option<(String, u64)>, String> {
        let pos = self.pos;
        let bad = |offset: u64, what: &str| format!("archive damaged at byte {offset}: {what}");
        if self.fill(BLOCK)? < BLOCK {
            return Err(bad(pos, "missing end-of-archive marker"));
        }
        let h: [u8; BLOCK] = self.buf[..BLOCK].try_into().map_err(|_| bad(pos, "short header"))?;
        self.pos += BLOCK as u64;
        if h.iter().all(|&b| b == 0) {
            let mut rest = BLOCK as u64;
            loop {
                let n = self.fill(CHUNK)?;
                if n == 0 {
                    break;
                }
                if self.buf[..n].iter().any(|&b| b != 0) {
                    return Err(bad(pos, "data after the end-of-archive marker, or a short marker"));
                }
                rest += n as u64;
            }
            if rest < 2 * BLOCK as u64 {
                return Err(bad(pos, "data after the end-of-archive marker, or a short marker"));
            }
            return Ok(None);
        }
        check_header(&h).map(Some).map_err(|what| bad(pos, what))
    }

    /// The data of the entry whose header was just read (`size` bytes), in
    /// chunks to `sink`, then its zero padding.
    pub(crate) fn data(&mut self, size: u64, mut sink: impl FnMut(&[u8])) -> std::result::Result<(), String> {
        let header_at = self.pos - BLOCK as u64;
        let bad = |offset: u64, what: &str| format!("archive damaged at byte {offset}: {what}");
        let mut left = size;
        while left > 0 {
            let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
            let n = self.fill(want)?;
            if n > 0 {
                sink(&self.buf[..n]);
            }
            self.pos += n as u64;
            left -= n as u64;
            if n < want {
                return Err(bad(header_at, "entry truncated"));
            }
        }
        let pad = ((BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64) as usize;
        if self.fill(pad)? < pad {
            return Err(bad(header_at, "entry padding truncated"));
        }
        if self.buf[..pad].iter().any(|&b| b != 0) {
            return Err(bad(self.pos, "non-zero padding after an entry"));
        }
        self.pos += pad as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_determinism() {
        let write = || {
            let mut w = TarWriter::new(Vec::new());
            w.append("a.json", b"{}").unwrap();
            w.append("b.txt", &[7u8; 1000]).unwrap();
            w.append("c", b"").unwrap();
            w.finish().unwrap()
        };
        let bytes = write();
        assert_eq!(bytes, write());
        assert_eq!(bytes.len() % BLOCK, 0);
        let entries = read(&bytes).unwrap();
        assert_eq!(entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["a.json", "b.txt", "c"]);
        assert_eq!(entries[1].data, &[7u8; 1000][..]);
    }

    #[test]
    fn order_is_enforced_and_damage_detected() {
        let mut w = TarWriter::new(Vec::new());
        w.append("b", b"x").unwrap();
        assert!(w.append("a", b"y").is_err());
        let mut w = TarWriter::new(Vec::new());
        w.append("a", b"hello").unwrap();
        let bytes = w.finish().unwrap();
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x41;
            // Never panics; header damage is always caught (data damage is the manifest's job).
            let r = read(&damaged);
            if i < BLOCK {
                assert!(r.is_err(), "header byte {i} flipped but accepted");
            }
        }
        assert!(read(&bytes[..bytes.len() - 1]).is_err());
    }

    /// A header another tool might write (and extract elsewhere): a ustar
    /// prefix (`../` before the name), an owner, a mode, a link name, a time.
    /// Each is refused, even with the checksum recomputed.
    #[test]
    fn only_the_writers_headers_are_read() {
        let mut w = TarWriter::new(Vec::new());
        w.append("snapshot.json", b"{}").unwrap();
        let bytes = w.finish().unwrap();
        assert!(read(&bytes).is_ok());
        let edits: [(usize, &[u8]); 6] = [
            (345, b"../"),        // prefix: extracted as ../snapshot.json
            (108, b"0001750"),    // uid 1000
            (100, b"0000755"),    // mode
            (157, b"target"),     // link name
            (136, b"0000000001"), // mtime
            (265, b"root"),       // user name
        ];
        for (at, text) in edits {
            let mut h = bytes.clone();
            h[at..at + text.len()].copy_from_slice(text);
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h[..BLOCK].iter().map(|&b| b as u32).sum();
            h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            let e = read(&h).unwrap_err();
            assert!(e.message().contains("header fields"), "edit at {at}: {}", e.message());
        }
        // The iterator stops at the first bad entry and says so once.
        let mut bad = bytes.clone();
        bad[0] = b'/';
        let all: Vec<_> = entries(&bad).collect();
        assert_eq!(all.len(), 1);
        assert!(all[0].is_err());
    }
}
