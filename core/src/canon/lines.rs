//! Splitting a stream of JSONL into lines with bounded memory (evidence
//! packs read as streams, issue 15).

/// The longest line of a JSONL member read line by line (a unit lists its
/// signals; a signal is a few hundred bytes).
pub(crate) const MAX_LINE: usize = 64 << 20;

/// Splits a stream into lines (as `split(b'\n')` numbers them: every line
/// counts, empty ones are skipped), holding at most one partial line.
#[derive(Default)]
pub(crate) struct Lines {
    partial: Vec<u8>,
    n: usize,
    too_long: bool,
}

impl Lines {
    /// Feed a chunk; `line(number, bytes)` for each complete non-empty line.
    /// A line over [`MAX_LINE`] is reported once as `Err(number)`.
    pub(crate) fn feed(&mut self, chunk: &[u8], line: &mut impl FnMut(usize, std::result::Result<&[u8], ()>)) {
        let mut rest = chunk;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            self.n += 1;
            let piece = &rest[..i];
            if self.too_long {
                self.too_long = false;
                self.partial.clear();
            } else if self.partial.is_empty() {
                if !piece.is_empty() {
                    line(self.n, Ok(piece));
                }
            } else {
                self.partial.extend_from_slice(piece);
                let whole = std::mem::take(&mut self.partial);
                line(self.n, Ok(&whole));
                self.partial = whole;
                self.partial.clear();
            }
            rest = &rest[i + 1..];
        }
        if self.too_long {
            return;
        }
        if self.partial.len() + rest.len() > MAX_LINE {
            self.too_long = true;
            self.partial = Vec::new();
            line(self.n + 1, Err(()));
            return;
        }
        self.partial.extend_from_slice(rest);
    }

    /// The last line, when the member does not end with a line end.
    pub(crate) fn finish(&mut self, line: &mut impl FnMut(usize, std::result::Result<&[u8], ()>)) {
        if !self.partial.is_empty() && !self.too_long {
            self.n += 1;
            let whole = std::mem::take(&mut self.partial);
            line(self.n, Ok(&whole));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fed in any chunking, the lines and their numbers are those of
    /// `split(b'\n')` with the empty ones skipped.
    #[test]
    fn lines_are_split_like_the_whole_bytes() {
        let text = b"a\n\nbc\ndef\n\n\nlast-without-end";
        let want: Vec<(usize, Vec<u8>)> =
            text.split(|&b| b == b'\n').enumerate().filter(|(_, l)| !l.is_empty()).map(|(i, l)| (i + 1, l.to_vec())).collect();
        for step in 1..=text.len() {
            let mut got = Vec::new();
            let mut lines = Lines::default();
            let mut sink = |i: usize, l: Result<&[u8], ()>| got.push((i, l.unwrap().to_vec()));
            for chunk in text.chunks(step) {
                lines.feed(chunk, &mut sink);
            }
            lines.finish(&mut sink);
            assert_eq!(got, want, "chunks of {step}");
        }
    }
}
