//! A Python file object as `io::Write`, for streaming the evidence pack.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::io::{self, Write};

/// Writes to a Python file-like object in chunks, taking the GIL only for
/// each `write` call. The first Python exception is kept and re-raised.
pub(crate) struct PyWriter {
    pub(crate) file: Py<PyAny>,
    pub(crate) buf: Vec<u8>,
    pub(crate) chunk: usize,
    /// Shared with the caller: the writer is dropped inside the engine when a write fails.
    pub(crate) error: std::sync::Arc<std::sync::Mutex<Option<PyErr>>>,
    pub(crate) failed: bool,
    pub(crate) written: u64,
}

impl PyWriter {
    fn flush_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = Python::attach(|py| -> PyResult<()> {
            let file = self.file.bind(py);
            let mut start = 0;
            while start < self.buf.len() {
                // At most `chunk` bytes per call, even when one write (the
                // compressor's output at the end of a frame) brought more.
                let end = self.buf.len().min(start + self.chunk);
                let chunk = PyBytes::new(py, &self.buf[start..end]);
                let n = file.call_method1("write", (chunk,))?;
                // Raw files may write less than asked; buffered ones return None or the length.
                let n: Option<usize> = if n.is_none() { None } else { Some(n.extract()?) };
                match n {
                    Some(0) => return Err(pyo3::exceptions::PyOSError::new_err("write() wrote 0 bytes")),
                    Some(n) => start += n,
                    None => start = end,
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                self.written += self.buf.len() as u64;
                self.buf.clear();
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                if let Ok(mut slot) = self.error.lock() {
                    slot.get_or_insert(e);
                }
                Err(io::Error::other("the file object's write() raised"))
            }
        }
    }
}

impl Write for PyWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other("the file object's write() raised"));
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.chunk {
            self.flush_buf()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buf()
    }
}
