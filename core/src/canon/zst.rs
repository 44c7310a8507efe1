//! The compressed form of an evidence pack (DESIGN A7, issue 15): the
//! deterministic tar as one Zstandard frame written with pinned settings.
//!
//! Why a frame around the tar and not per-member compression: the manifest,
//! the artifact hashes and `pack_hash` stay over the uncompressed members
//! exactly as before, so a pack's identity does not depend on the
//! compressor; the compression is a transport wrapper that any `zstd -d`
//! removes, leaving the very tar an older release wrote.
//!
//! Pinned settings, so the same inputs give the same bytes: the `zstd` crate
//! at an exact version (`zstd-sys` 2.1.3, libzstd 1.5.7, built from the
//! bundled source, never the system library), level [`LEVEL`] with its
//! parameters set one by one, window log [`WINDOW_LOG`] with long-distance
//! matching ([`LDM_HASH_LOG`] and the next three), jobs of [`JOB_SIZE`]
//! bytes compressed by one or more worker threads (the bytes do not depend
//! on how many), a content checksum, the content size in the frame header,
//! no dictionary id.
//!
//! Reading is hostile: a frame must declare its content size, the size must
//! be at most [`MAX_CONTENT`] and at most [`MAX_RATIO`] times the frame's own
//! length (a decompression bomb is refused before anything is allocated),
//! the input must be exactly one frame, and it must decompress to exactly
//! the declared size with a matching checksum.

use std::borrow::Cow;
use std::io::{Read, Write};

/// The four bytes every Zstandard frame starts with.
pub(crate) const MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// The compression level (pinned: changing it changes pack bytes): level 1,
/// the `fast` strategy, whose parameters [`encoder`] also sets one by one
/// (hash log 14, chain log 13, search log 1, minimum match 7, target length
/// 0) so they cannot drift with the library's level table. On the 1 M-signal
/// reference bundle the cheap fast parser finds the short, local repeats of
/// the JSON lines as well as the lazy levels do; what makes the pack small
/// is the long-distance matcher below (docs/performance.md, 2026-12-03).
pub(crate) const LEVEL: i32 = 1;

/// The window log (pinned, so the output does not depend on the level's
/// default window for a given source size): 128 MiB, so a device's id,
/// name and serial in one source's signals are found again in another
/// source's, tens of megabytes further on; 2^26 leaves the pack above
/// issue 15's 0.35x of its inputs whatever the level (0.36x at best). 27 is also the
/// largest window every zstd decoder accepts by default (`zstd -d` needs no
/// `--long` flag). The window is most of the compressor's memory: ~160 MB
/// with the jobs and the matcher's table.
pub(crate) const WINDOW_LOG: u32 = 27;

/// Long-distance matching, pinned: a 2^21-entry table (16 MiB), matches of
/// at least 32 bytes (an id and its neighbours), one position in 2^5 sampled (the default, 2^7, gives 0.36x),
/// buckets of 2^2 entries. This matcher runs serially across the workers
/// and is the dearest part of the compression; these values are the
/// cheapest measured under 0.35x with a margin (0.34x).
pub(crate) const LDM_HASH_LOG: u32 = 21;
/// See [`LDM_HASH_LOG`].
pub(crate) const LDM_MIN_MATCH: u32 = 32;
/// See [`LDM_HASH_LOG`].
pub(crate) const LDM_HASH_RATE_LOG: u32 = 5;
/// See [`LDM_HASH_LOG`].
pub(crate) const LDM_BUCKET_SIZE_LOG: u32 = 2;

/// The size of a compression job (pinned: 2 MiB, the library's default for
/// these parameters) and the overlap each job reloads from the one before
/// (log 6: 1/8 of 2^19 = 64 KiB, also the default). The frame is cut into
/// jobs of this size whatever the number of worker threads, which is why
/// the bytes do not depend on `threads` (libzstd guarantees it for one
/// worker or more; zero workers, the single-threaded mode, would give other
/// bytes, so [`encoder`] always asks for at least one). A tar of 512 KiB
/// or less is compressed in one piece, whatever the number of workers.
pub(crate) const JOB_SIZE: u32 = 2 << 20;
/// See [`JOB_SIZE`].
pub(crate) const OVERLAP_LOG: u32 = 6;

/// The largest tar a pack may decompress to (64 GiB).
pub(crate) const MAX_CONTENT: u64 = 64 << 30;

/// The largest ratio of declared content to frame length a pack may have.
/// Real packs are text and zero padding, compressing 5 to 30 times.
pub(crate) const MAX_RATIO: u64 = 1024;

/// Whether `bytes` starts like a Zstandard frame (the compressed pack).
pub(crate) fn is_compressed(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Whether `head` (a file's first 512 bytes, or all of them) starts like an
/// evidence pack in either form — a Zstandard frame, or a plain ustar archive
/// as written before compression — rather than a JSON document (a snapshot).
///
/// ```
/// use eucora_license_core::looks_like_pack;
/// assert!(looks_like_pack(&[0x28, 0xB5, 0x2F, 0xFD, 0]));
/// assert!(!looks_like_pack(br#"{"snapshot_hash":"sha256:..."}"#));
/// ```
pub fn looks_like_pack(head: &[u8]) -> bool {
    is_compressed(head) || super::tar::looks_like_archive(head)
}

/// A writer that compresses into `sink` with the pinned settings; `size` is
/// the exact number of bytes that will be written (recorded in the frame
/// header). `threads` worker threads of libzstd compress while the caller
/// writes (0 counts as 1; the bytes are the same for every count). Finish it
/// with [`finish`].
pub(crate) fn encoder<W: Write>(sink: W, size: u64, threads: usize) -> std::io::Result<zstd::stream::write::Encoder<'static, W>> {
    use zstd::stream::raw::CParameter;
    use zstd::zstd_safe::Strategy;
    let workers = u32::try_from(threads.max(1)).unwrap_or(u32::MAX);
    let mut e = zstd::stream::write::Encoder::new(sink, LEVEL)?;
    for p in [
        CParameter::NbWorkers(workers),
        CParameter::JobSize(JOB_SIZE),
        CParameter::OverlapSizeLog(OVERLAP_LOG),
        CParameter::Strategy(Strategy::ZSTD_fast),
        CParameter::WindowLog(WINDOW_LOG),
        CParameter::HashLog(14),
        CParameter::ChainLog(13),
        CParameter::SearchLog(1),
        CParameter::MinMatch(7),
        CParameter::TargetLength(0),
        CParameter::EnableLongDistanceMatching(true),
        CParameter::LdmHashLog(LDM_HASH_LOG),
        CParameter::LdmMinMatch(LDM_MIN_MATCH),
        CParameter::LdmHashRateLog(LDM_HASH_RATE_LOG),
        CParameter::LdmBucketSizeLog(LDM_BUCKET_SIZE_LOG),
        CParameter::ChecksumFlag(true),
        CParameter::ContentSizeFlag(true),
        CParameter::DictIdFlag(false),
    ] {
        e.set_parameter(p)?;
    }
    e.set_pledged_src_size(Some(size))?;
    Ok(e)
}

/// End the frame and return the sink.
pub(crate) fn finish<W: Write>(e: zstd::stream::write::Encoder<'static, W>) -> std::io::Result<W> {
    e.finish()
}

/// The tar of a pack: `bytes` itself when it is a plain tar (`write_pack`,
/// and every pack written before compression), else the one frame it
/// holds, decompressed under the bounds in the module doc. The error says
/// what was wrong with the frame.
pub fn archive(bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    if !is_compressed(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    let declared = match zstd::zstd_safe::get_frame_content_size(bytes) {
        Ok(Some(n)) => n,
        Ok(None) => return Err("zstd frame: no content size declared; refused".into()),
        Err(_) => return Err("zstd frame: the frame header is not valid".into()),
    };
    let frame_len =
        zstd::zstd_safe::find_frame_compressed_size(bytes).map_err(|_| "zstd frame: the frame is truncated or corrupt".to_string())?;
    if frame_len != bytes.len() {
        return Err(format!("zstd frame: {} bytes after the frame ({} bytes); a pack is one frame", bytes.len() - frame_len, frame_len));
    }
    let bound = MAX_CONTENT.min(MAX_RATIO.saturating_mul(bytes.len() as u64));
    if declared > bound {
        return Err(format!(
            "zstd frame: declares {declared} bytes of content from {} bytes, over the bound {bound}; refused",
            bytes.len()
        ));
    }
    let declared = usize::try_from(declared).map_err(|_| "zstd frame: content size too large for this machine".to_string())?;
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(declared).map_err(|_| format!("zstd frame: cannot allocate {declared} bytes"))?;
    let mut d = zstd::bulk::Decompressor::new().map_err(|e| format!("zstd frame: {e}"))?;
    let n = d.decompress_to_buffer(bytes, &mut out).map_err(|e| format!("zstd frame: cannot decompress: {e}"))?;
    if n != declared || out.len() != declared {
        return Err(format!("zstd frame: decompressed to {n} bytes, declared {declared}"));
    }
    Ok(Cow::Owned(out))
}

/// Bytes of decompressed output allowed beyond [`MAX_RATIO`] times the
/// compressed bytes read so far, while a frame streams (the decoder reads its
/// input ahead in blocks, and a pack opens with small, dense members).
const STREAM_SLACK: u64 = 4 << 20;

/// The largest frame header (magic included), RFC 8878.
const MAX_HEADER: usize = 18;

/// Counts the bytes read from the source under the decoder's buffer.
struct Counting<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

type Source<R> = std::io::BufReader<Counting<std::io::Chain<std::io::Cursor<Vec<u8>>, R>>>;

/// A pack read as a stream of its tar's bytes: the bytes themselves for a
/// plain tar, else its one frame decompressed on the fly under the bounds
/// of the module doc, checked as the bytes pass instead of up front (the
/// frame's length is known only at its end): the declared content size
/// (present, at most [`MAX_CONTENT`], never exceeded), the ratio (output at
/// most [`MAX_RATIO`] times the input read so far, and at the end the
/// declared size at most that ratio of the frame's length), the content
/// checksum (libzstd checks it at the frame's end), exactly the declared
/// size, and nothing after the frame. A failure is an `InvalidData` I/O
/// error whose text starts with `zstd frame:`; once failed, every read
/// fails the same way. Never holds more than the decoder's window.
pub(crate) struct ArchiveReader<R: Read> {
    inner: ArchiveInner<R>,
    failed: Option<String>,
}

enum ArchiveInner<R: Read> {
    Plain(std::io::Chain<std::io::Cursor<Vec<u8>>, R>),
    Frame { decoder: Option<zstd::stream::read::Decoder<'static, Source<R>>>, declared: u64, out: u64, done: bool },
}

/// Read `buf.len()` bytes unless the source ends first; how many were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Start reading a pack of either form from `source` (see [`ArchiveReader`]).
/// The error is the frame header's: no declared size, over [`MAX_CONTENT`],
/// not valid; or the source's own I/O error.
pub(crate) fn archive_reader<R: Read>(mut source: R) -> Result<ArchiveReader<R>, String> {
    let mut head = vec![0u8; MAX_HEADER];
    let n = read_full(&mut source, &mut head[..MAGIC.len()]).map_err(|e| format!("cannot read the pack: {e}"))?;
    if n < MAGIC.len() || head[..MAGIC.len()] != MAGIC {
        head.truncate(n);
        return Ok(ArchiveReader { inner: ArchiveInner::Plain(std::io::Cursor::new(head).chain(source)), failed: None });
    }
    let k = read_full(&mut source, &mut head[MAGIC.len()..]).map_err(|e| format!("cannot read the pack: {e}"))?;
    head.truncate(MAGIC.len() + k);
    let declared = match zstd::zstd_safe::get_frame_content_size(&head) {
        Ok(Some(n)) => n,
        Ok(None) => return Err("zstd frame: no content size declared; refused".into()),
        Err(_) => return Err("zstd frame: the frame header is not valid".into()),
    };
    if declared > MAX_CONTENT {
        return Err(format!("zstd frame: declares {declared} bytes of content, over the bound {MAX_CONTENT}; refused"));
    }
    let counting = Counting { inner: std::io::Cursor::new(head).chain(source), n: 0 };
    let buffered = std::io::BufReader::with_capacity(zstd::zstd_safe::DCtx::in_size(), counting);
    let decoder = zstd::stream::read::Decoder::with_buffer(buffered).map_err(|e| format!("zstd frame: {e}"))?.single_frame();
    Ok(ArchiveReader { inner: ArchiveInner::Frame { decoder: Some(decoder), declared, out: 0, done: false }, failed: None })
}

impl<R: Read> ArchiveReader<R> {
    fn frame_read(&mut self, buf: &mut [u8]) -> Result<usize, String> {
        let ArchiveInner::Frame { decoder, declared, out, done } = &mut self.inner else { return Ok(0) };
        if *done {
            return Ok(0);
        }
        let Some(d) = decoder.as_mut() else { return Ok(0) };
        let n = d.read(buf).map_err(|e| format!("zstd frame: cannot decompress: {e}"))?;
        *out += n as u64;
        let consumed = d.get_ref().get_ref().n;
        if *out > *declared {
            return Err(format!("zstd frame: decompresses past its declared {declared} bytes"));
        }
        if *out > MAX_RATIO.saturating_mul(consumed).saturating_add(STREAM_SLACK) {
            return Err(format!(
                "zstd frame: declares {declared} bytes of content and gives {out} from {consumed} bytes, over the bound {}; refused",
                MAX_RATIO.saturating_mul(consumed)
            ));
        }
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        // The frame ended (its checksum checked by libzstd): exactly the
        // declared size, nothing after it, and within the ratio.
        *done = true;
        let mut rest = decoder.take().map(zstd::stream::read::Decoder::finish).ok_or("zstd frame: already ended")?;
        if *out != *declared {
            return Err(format!("zstd frame: decompressed to {out} bytes, declared {declared}"));
        }
        let buffered = std::io::BufRead::fill_buf(&mut rest).map(<[u8]>::len).unwrap_or(0) as u64;
        let frame_len = rest.get_ref().n - buffered;
        let trailing = std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| format!("cannot read the pack: {e}"))?;
        if trailing > 0 {
            return Err(format!("zstd frame: {trailing} bytes after the frame ({frame_len} bytes); a pack is one frame"));
        }
        let bound = MAX_CONTENT.min(MAX_RATIO.saturating_mul(frame_len));
        if *declared > bound {
            return Err(format!(
                "zstd frame: declares {declared} bytes of content from {frame_len} bytes, over the bound {bound}; refused"
            ));
        }
        Ok(0)
    }
}

impl<R: Read> Read for ArchiveReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e.clone()));
        }
        let got = match &mut self.inner {
            ArchiveInner::Plain(r) => return r.read(buf),
            ArchiveInner::Frame { .. } => self.frame_read(buf),
        };
        got.map_err(|e| {
            self.failed = Some(e.clone());
            std::io::Error::new(std::io::ErrorKind::InvalidData, e)
        })
    }
}

impl<R: Read> ArchiveReader<R> {
    /// Whether the pack is a frame (then a frame error takes precedence
    /// over what the tar reader found: see [`Self::drain`]).
    pub(crate) fn is_frame(&self) -> bool {
        matches!(self.inner, ArchiveInner::Frame { .. })
    }

    /// Read the rest of a frame, keeping nothing, for its end-of-frame
    /// checks: a corrupt frame can decompress to a damaged tar before
    /// libzstd sees the damage, and the frame's own reason is the one to
    /// report. `None` when the frame is sound (or the pack is a plain tar).
    pub(crate) fn drain(&mut self) -> Option<String> {
        if !self.is_frame() {
            return None;
        }
        match std::io::copy(self, &mut std::io::sink()) {
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON-like lines with repeats near and far (a few MB: several jobs).
    fn sample(lines: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..lines {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let device = x % 5_000;
            out.extend_from_slice(
                format!(
                    "{{\"device\":\"{:016x}\",\"line\":{i},\"source\":\"s{}\",\"seen\":\"2026-11-{:02}\"}}\n",
                    device.wrapping_mul(0x2545_F491_4F6C_DD1D),
                    x % 5,
                    1 + x % 28
                )
                .as_bytes(),
            );
        }
        out
    }

    fn compress(data: &[u8], threads: usize) -> Vec<u8> {
        let mut e = encoder(Vec::new(), data.len() as u64, threads).unwrap();
        // Written in uneven pieces, as the pack writer does.
        for piece in data.chunks(70_001) {
            e.write_all(piece).unwrap();
        }
        finish(e).unwrap()
    }

    /// Issue 15: the same bytes for every thread count (1, 2 and 3 workers;
    /// 0 is taken as 1), over several compression jobs, and they decompress
    /// to the input.
    #[test]
    fn compressed_bytes_do_not_depend_on_the_thread_count() {
        let data = sample(120_000);
        assert!(data.len() as u64 > 3 * u64::from(JOB_SIZE), "{} bytes: too few for several jobs", data.len());
        let one = compress(&data, 1);
        assert!(is_compressed(&one));
        assert!(one.len() * 3 < data.len(), "{} from {}", one.len(), data.len());
        for threads in [0, 2, 3] {
            assert!(compress(&data, threads) == one, "{threads} threads gave other bytes than 1");
        }
        assert!(*archive(&one).unwrap() == data[..]);
    }
}
