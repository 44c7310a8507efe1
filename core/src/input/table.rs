//! Reading tabular input (CSV with a header, JSON Lines) from any byte
//! stream, with the locations every error must carry.
//!
//! The engine never opens files: the host hands it readers. [`HashingReader`]
//! hashes the exact bytes as they stream by, so an import's `input_hash` costs
//! no second pass and the file never has to sit in memory whole.

pub(crate) use crate::canon::canonical::strip_position;
use crate::canon::hash::{Digest32, Domain, TaggedHasher};
use crate::error::{Error, ErrorCode, Location, Result};
use std::io::{self, Read};

/// Wraps a reader, hashing (domain `eucora.import.v1`) and counting every
/// byte read, and dropping a leading UTF-8 byte-order mark from what it hands
/// on (the mark is still hashed: the hash is over the exact input bytes).
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: TaggedHasher,
    bytes: u64,
    at_start: bool,
    pending: Vec<u8>,
}

impl<R: Read> HashingReader<R> {
    /// Wrap `inner`.
    pub(crate) fn new(inner: R) -> Self {
        HashingReader { inner, hasher: TaggedHasher::new(Domain::Import), bytes: 0, at_start: true, pending: Vec::new() }
    }

    /// Read what is left (so the hash covers the whole input) and return the
    /// input hash and byte count.
    pub(crate) fn finish(mut self) -> io::Result<(Digest32, u64)> {
        let mut sink = [0u8; 64 * 1024];
        while self.read(&mut sink)? > 0 {}
        Ok((self.hasher.finish(), self.bytes))
    }

    fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at_start {
            self.at_start = false;
            // Gather up to three bytes to decide whether a BOM is present.
            let mut head = [0u8; 3];
            let mut got = 0;
            while got < 3 {
                let n = self.read_raw(&mut head[got..])?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            if head[..got] != [0xEF, 0xBB, 0xBF] {
                self.pending.extend_from_slice(&head[..got]);
            }
        }
        if !self.pending.is_empty() {
            let n = self.pending.len().min(buf.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        self.read_raw(buf)
    }
}

/// One CSV record: the unescaped bytes of its fields.
#[derive(Debug, Default, Clone)]
pub(crate) struct Record {
    data: Vec<u8>,
    /// (start, end) of each field in `data`.
    spans: Vec<(usize, usize)>,
    /// Start of the field being read (slow path).
    field_start: usize,
}

impl Record {
    /// Number of fields.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Field `i`'s bytes.
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        let &(start, end) = self.spans.get(i)?;
        Some(&self.data[start..end])
    }

    /// All fields.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    fn clear(&mut self) {
        self.data.clear();
        self.spans.clear();
        self.field_start = 0;
    }

    /// End the field being read at the current end of `data`.
    fn end_field(&mut self) {
        self.spans.push((self.field_start, self.data.len()));
        self.field_start = self.data.len();
    }
}

/// A streaming RFC 4180 reader that knows the physical line each record
/// starts on (quoted fields may span lines; CRLF and LF both end a record).
struct CsvReader<R> {
    input: std::io::BufReader<R>,
    line_buf: Vec<u8>,
    line: u64,
}

impl<R: Read> CsvReader<R> {
    fn new(input: R) -> Self {
        CsvReader { input: std::io::BufReader::with_capacity(1 << 20, input), line_buf: Vec::new(), line: 0 }
    }

    /// Read the next record into `rec`; returns its first line, or `None` at the end.
    fn read(&mut self, rec: &mut Record) -> std::result::Result<Option<u64>, (u64, String)> {
        use std::io::BufRead;
        rec.clear();
        self.line_buf.clear();
        let n = self.input.read_until(b'\n', &mut self.line_buf).map_err(|e| (self.line + 1, format!("cannot read: {e}")))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let first_line = self.line;
        // Fast path: a line without quotes is split on commas in one pass.
        if !self.line_buf.contains(&b'"') {
            let mut body = &self.line_buf[..];
            if let Some(rest) = body.strip_suffix(b"\n") {
                body = rest;
            }
            if let Some(rest) = body.strip_suffix(b"\r") {
                body = rest;
            }
            rec.data.extend_from_slice(body);
            let mut start = 0;
            for (i, &b) in body.iter().enumerate() {
                if b == b',' {
                    rec.spans.push((start, i));
                    start = i + 1;
                }
            }
            rec.spans.push((start, body.len()));
            return Ok(Some(first_line));
        }
        let mut in_quotes = false;
        let mut field_start = true;
        let mut i = 0;
        loop {
            let buf = &self.line_buf;
            while i < buf.len() {
                let b = buf[i];
                if in_quotes {
                    if b == b'"' {
                        if buf.get(i + 1) == Some(&b'"') {
                            rec.data.push(b'"');
                            i += 1;
                        } else {
                            in_quotes = false;
                        }
                    } else {
                        rec.data.push(b);
                    }
                } else {
                    match b {
                        b',' => {
                            rec.end_field();
                            field_start = true;
                            i += 1;
                            continue;
                        }
                        b'"' if field_start => in_quotes = true,
                        b'\n' => break,
                        b'\r' if buf.get(i + 1) == Some(&b'\n') || i + 1 == buf.len() => break,
                        _ => rec.data.push(b),
                    }
                }
                field_start = false;
                i += 1;
            }
            if !in_quotes {
                break;
            }
            // A quoted field continues on the next physical line.
            let before = self.line_buf.len();
            let n = self.input.read_until(b'\n', &mut self.line_buf).map_err(|e| (self.line + 1, format!("cannot read: {e}")))?;
            if n == 0 {
                return Err((first_line, "unterminated quoted field".to_string()));
            }
            self.line += 1;
            i = before;
        }
        rec.end_field();
        Ok(Some(first_line))
    }
}

/// One record parsed by [`SliceCsv`]: a line without quotes is split in
/// place (its fields are spans of the input slice, nothing is copied); a
/// record with quotes is unescaped into `data`.
#[derive(Debug, Default)]
pub(crate) struct SliceRecord {
    /// (start, end) of each field in [`SliceRecord::bytes`].
    pub(crate) spans: Vec<(usize, usize)>,
    data: Vec<u8>,
    /// The record's bytes in the input slice, when nothing needed unescaping.
    body: Option<(usize, usize)>,
}

impl SliceRecord {
    /// The record's (unescaped) bytes; `src` is the slice it was read from.
    pub(crate) fn bytes<'a>(&'a self, src: &'a [u8]) -> &'a [u8] {
        match self.body {
            Some((s, e)) => &src[s..e],
            None => &self.data,
        }
    }

    /// A blank line: one field that is empty or white space only.
    pub(crate) fn is_blank(&self, bytes: &[u8]) -> bool {
        self.spans.len() == 1 && bytes[self.spans[0].0..self.spans[0].1].iter().all(u8::is_ascii_whitespace)
    }

    fn end_field(&mut self, start: &mut usize) {
        self.spans.push((*start, self.data.len()));
        *start = self.data.len();
    }
}

/// The record reader of [`CsvTable`] (same records, same line numbers, same
/// errors) over bytes in memory that start at a record boundary: the signal
/// reader hands it blocks cut at record boundaries ([`last_record_end`]), so
/// fields are read in the block itself and blocks can be parsed in parallel.
pub(crate) struct SliceCsv<'a> {
    data: &'a [u8],
    pos: usize,
    /// Physical lines consumed so far.
    pub(crate) line: u64,
}

impl<'a> SliceCsv<'a> {
    /// Read `data` from `start` (a record boundary).
    pub(crate) fn new(data: &'a [u8], start: usize) -> Self {
        SliceCsv { data, pos: start, line: 0 }
    }

    /// Where the next record starts.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The next record into `rec`; its first line (counted from this
    /// reader's start), or `None` at the end; an unterminated quoted field is
    /// an error at the record's first line.
    pub(crate) fn read(&mut self, rec: &mut SliceRecord) -> std::result::Result<Option<u64>, (u64, String)> {
        rec.spans.clear();
        rec.data.clear();
        rec.body = None;
        let data = self.data;
        if self.pos >= data.len() {
            return Ok(None);
        }
        let rest = &data[self.pos..];
        let mut line_stop = self.pos + memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        self.line += 1;
        let first_line = self.line;
        // Fast path: a line without quotes is split on commas where it lies.
        if memchr::memchr(b'"', &data[self.pos..line_stop]).is_none() {
            let mut body = &data[self.pos..line_stop];
            if let Some(rest) = body.strip_suffix(b"\n") {
                body = rest;
            }
            if let Some(rest) = body.strip_suffix(b"\r") {
                body = rest;
            }
            rec.body = Some((self.pos, self.pos + body.len()));
            let mut start = 0;
            for i in memchr::memchr_iter(b',', body) {
                rec.spans.push((start, i));
                start = i + 1;
            }
            rec.spans.push((start, body.len()));
            self.pos = line_stop;
            return Ok(Some(first_line));
        }
        // The state machine of `CsvReader::read`, a physical line at a time.
        let mut in_quotes = false;
        let mut field_start = true;
        let mut start = 0;
        let mut i = self.pos;
        loop {
            while i < line_stop {
                let b = data[i];
                if in_quotes {
                    if b == b'"' {
                        if i + 1 < line_stop && data[i + 1] == b'"' {
                            rec.data.push(b'"');
                            i += 1;
                        } else {
                            in_quotes = false;
                        }
                    } else {
                        rec.data.push(b);
                    }
                } else {
                    match b {
                        b',' => {
                            rec.end_field(&mut start);
                            field_start = true;
                            i += 1;
                            continue;
                        }
                        b'"' if field_start => in_quotes = true,
                        b'\n' => break,
                        b'\r' if (i + 1 < line_stop && data[i + 1] == b'\n') || i + 1 == line_stop => break,
                        _ => rec.data.push(b),
                    }
                }
                field_start = false;
                i += 1;
            }
            if !in_quotes {
                break;
            }
            // A quoted field continues on the next physical line.
            if line_stop >= data.len() {
                return Err((first_line, "unterminated quoted field".to_string()));
            }
            i = line_stop;
            let rest = &data[line_stop..];
            line_stop += memchr::memchr(b'\n', rest).map_or(rest.len(), |k| k + 1);
            self.line += 1;
        }
        rec.end_field(&mut start);
        self.pos = line_stop;
        Ok(Some(first_line))
    }
}

/// The end (exclusive) of the last complete record in `buf`, which starts at
/// a record boundary: just after the last line end that is outside quotes,
/// as [`SliceCsv`] (and `CsvReader`) would read it. `None` when no record
/// ends in `buf`. Without a quote in `buf` (the common case) every line end
/// is a record end; otherwise the reader's quote state machine decides.
pub(crate) fn last_record_end(buf: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', buf).is_none() {
        return memchr::memrchr(b'\n', buf).map(|i| i + 1);
    }
    let mut last = None;
    let mut in_quotes = false;
    let mut field_start = true;
    let mut i = 0;
    while i < buf.len() {
        let b = buf[i];
        if in_quotes {
            if b == b'"' {
                // `""` is an escaped quote; a quote followed by anything else
                // (a line end included) closes the field. A quote that is the
                // very last byte is read as closing: only the state after it
                // could be wrong, and no record end lies after it.
                if buf.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
            field_start = false;
        } else {
            match b {
                b',' => {
                    field_start = true;
                    i += 1;
                    continue;
                }
                b'\n' => {
                    last = Some(i + 1);
                    field_start = true;
                    i += 1;
                    continue;
                }
                b'"' if field_start => in_quotes = true,
                _ => {}
            }
            field_start = false;
        }
        i += 1;
    }
    last
}

/// A CSV stream with a header row, yielding records with their line numbers.
pub(crate) struct CsvTable<R: Read> {
    file: String,
    reader: CsvReader<R>,
    header: Vec<String>,
    record: Record,
}

impl<R: Read> CsvTable<R> {
    /// Start reading; reads the header. An empty input has an empty header.
    pub(crate) fn new(file: &str, input: R) -> Result<Self> {
        let mut reader = CsvReader::new(input);
        let mut record = Record::default();
        let mut header = Vec::new();
        loop {
            match reader.read(&mut record) {
                Ok(None) => break,
                Ok(Some(line)) => {
                    if is_blank(&record) {
                        continue;
                    }
                    for (i, f) in record.iter().enumerate() {
                        let s = std::str::from_utf8(f).map_err(|_| {
                            Error::new(ErrorCode::InvalidInput, format!("header column {} is not UTF-8", i + 1))
                                .at(Location::line(file, line))
                        })?;
                        header.push(s.trim().to_string());
                    }
                    break;
                }
                Err((line, msg)) => return Err(Error::new(ErrorCode::InvalidInput, msg).at(Location::line(file, line))),
            }
        }
        Ok(CsvTable { file: file.to_string(), reader, header, record })
    }

    /// The header's column names (trimmed).
    pub(crate) fn header(&self) -> &[String] {
        &self.header
    }

    /// Whether the input had no header at all (an empty file).
    pub(crate) fn is_empty_input(&self) -> bool {
        self.header.is_empty()
    }

    /// Index of column `name`, if present.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Indices of `names`, failing with `invalid_input` naming the first
    /// missing column.
    pub(crate) fn require(&self, names: &[&str]) -> Result<Vec<usize>> {
        names
            .iter()
            .map(|n| {
                self.column(n).ok_or_else(|| {
                    Error::new(ErrorCode::InvalidInput, format!("required column `{n}` is missing from the header"))
                        .at(Location::line(&self.file, 1).with_field(*n))
                })
            })
            .collect()
    }

    /// The next non-blank record and its 1-based line. A record whose field
    /// count differs from the header's is an `invalid_input` error.
    pub(crate) fn next_record(&mut self) -> Result<Option<(u64, &Record)>> {
        loop {
            match self.reader.read(&mut self.record) {
                Ok(None) => return Ok(None),
                Ok(Some(line)) => {
                    if is_blank(&self.record) {
                        continue;
                    }
                    if self.record.len() != self.header.len() {
                        return Err(Error::new(
                            ErrorCode::InvalidInput,
                            format!("expected {} fields as in the header, found {}", self.header.len(), self.record.len()),
                        )
                        .at(Location::line(&self.file, line)));
                    }
                    return Ok(Some((line, &self.record)));
                }
                Err((line, msg)) => return Err(Error::new(ErrorCode::InvalidInput, msg).at(Location::line(&self.file, line))),
            }
        }
    }

    /// The underlying reader, once the records are exhausted.
    pub(crate) fn into_inner(self) -> R {
        self.reader.input.into_inner()
    }
}

/// Field `i` of `record` as UTF-8 text, trimmed, or an `invalid_input` error.
pub(crate) fn field<'r>(file: &str, line: u64, header: &[String], record: &'r Record, i: usize) -> Result<&'r str> {
    let raw = record.get(i).unwrap_or(b"");
    std::str::from_utf8(raw).map(str::trim).map_err(|_| {
        Error::new(ErrorCode::InvalidInput, "field is not valid UTF-8")
            .at(Location::line(file, line).with_field(header.get(i).cloned().unwrap_or_default()))
    })
}

/// A blank line: one field that is empty or white space only.
fn is_blank(record: &Record) -> bool {
    record.len() == 1 && record.get(0).is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
}

/// Read a whole (small) JSON document from a reader, failing with
/// `invalid_input` and the line of a syntax error.
pub(crate) fn read_json(file: &str, input: impl Read) -> Result<(serde_json::Value, Digest32)> {
    let mut hr = HashingReader::new(input);
    let mut bytes = Vec::new();
    hr.read_to_end(&mut bytes).map_err(|e| Error::new(ErrorCode::InvalidInput, format!("cannot read: {e}")).at(Location::file(file)))?;
    let (hash, _) = hr.finish().map_err(|e| Error::new(ErrorCode::InvalidInput, format!("cannot read: {e}")).at(Location::file(file)))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::new(ErrorCode::InvalidInput, "not valid UTF-8").at(Location::file(file)))?;
    let value = crate::canon::canonical::parse_strict(text).map_err(|e| {
        Error::new(ErrorCode::InvalidInput, format!("malformed JSON: {}", strip_position(&e))).at(Location::line(file, e.line() as u64))
    })?;
    Ok((value, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_hashed_but_not_parsed() {
        let with = b"\xEF\xBB\xBFa,b\n1,2\n";
        let mut t = CsvTable::new("x.csv", HashingReader::new(&with[..])).unwrap();
        assert_eq!(t.header(), ["a", "b"]);
        let (line, rec) = t.next_record().unwrap().unwrap();
        assert_eq!((line, rec.get(1)), (2, Some(&b"2"[..])));
        let (h1, n1) = t.into_inner().finish().unwrap();
        let (h2, _) = HashingReader::new(&b"a,b\n1,2\n"[..]).finish().unwrap();
        assert_eq!(n1, with.len() as u64);
        assert_ne!(h1, h2);
    }

    #[test]
    fn crlf_blank_lines_and_field_counts() {
        let data = b"a,b\r\n\r\n1,2\r\n   \r\n3\r\n";
        let mut t = CsvTable::new("x.csv", &data[..]).unwrap();
        assert_eq!(t.next_record().unwrap().unwrap().0, 3);
        let e = t.next_record().unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert_eq!(e.location().unwrap().line, Some(5));
    }

    #[test]
    fn quoted_fields_span_lines_and_escape_quotes() {
        let data = b"a,b\n\"x,\"\"y\"\"\",\"multi\nline\"\n\"\",z\n";
        let mut t = CsvTable::new("q.csv", &data[..]).unwrap();
        let (line, r) = t.next_record().unwrap().unwrap();
        assert_eq!((line, r.get(0).unwrap(), r.get(1).unwrap()), (2, &b"x,\"y\""[..], &b"multi\nline"[..]));
        let (line, r) = t.next_record().unwrap().unwrap();
        assert_eq!((line, r.get(0).unwrap(), r.get(1).unwrap()), (4, &b""[..], &b"z"[..]));
        let e = CsvTable::new("q.csv", &b"a\n\"open\n"[..]).unwrap().next_record().unwrap_err();
        assert_eq!(e.location().unwrap().line, Some(2));
    }

    #[test]
    fn missing_required_column_names_it() {
        let t = CsvTable::new("e.csv", &b"a,b\n"[..]).unwrap();
        let e = t.require(&["a", "quantity"]).unwrap_err();
        assert_eq!(e.location().unwrap().field.as_deref(), Some("quantity"));
    }

    #[test]
    fn record_ends_respect_quotes() {
        assert_eq!(last_record_end(b"a,b\nc,d\ne"), Some(8));
        assert_eq!(last_record_end(b"a,\"x\ny\"\nb"), Some(8));
        // The line end inside the open quote is not a record end.
        assert_eq!(last_record_end(b"a,\"x\ny"), None);
        // A quote inside an unquoted field is data; `""` inside quotes is one quote.
        assert_eq!(last_record_end(b"a\"b,c\n\"q\"\"\n\",d\n"), Some(15));
        let data = b"h\n\"a\nb\",c\r\n\nx,\"\"\"\"\n";
        let mut p = SliceCsv::new(data, 0);
        let mut rec = SliceRecord::default();
        assert_eq!(p.read(&mut rec).unwrap(), Some(1));
        assert_eq!(p.read(&mut rec).unwrap(), Some(2));
        let b = rec.bytes(data);
        assert_eq!(rec.spans.iter().map(|&(s, e)| &b[s..e]).collect::<Vec<_>>(), [&b"a\nb"[..], b"c"]);
        assert_eq!(p.read(&mut rec).unwrap(), Some(4));
        assert!(rec.is_blank(rec.bytes(data)));
        assert_eq!(p.read(&mut rec).unwrap(), Some(5));
        let b = rec.bytes(data);
        assert_eq!(&b[rec.spans[1].0..rec.spans[1].1], b"\"");
        assert_eq!(p.read(&mut rec).unwrap(), None);
        assert_eq!(SliceCsv::new(b"\"open\n", 0).read(&mut rec), Err((1, "unterminated quoted field".to_string())));
    }
}
