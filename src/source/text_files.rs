//! The bytes of a text source file as the reader sees them: read in chunks
//! (ranged requests on S3) and un-gzipped on the way when the name ends in
//! `.gz` (docs/INPUTS.md, "File formats"), so the checks of CSV lines and
//! of NDJSON objects hold memory at one chunk whatever the file.

use std::fs::File;
use std::io::{Read, Write};

use flate2::write::MultiGzDecoder;

use crate::config::ResolvedSource;
use crate::error::{Error, Result};
use crate::storage::Location;

/// How much of a file is read at a time.
const CHUNK_BYTES: u64 = 4 * 1024 * 1024;

/// Whether a file is gzip'd, by its name (as the reader decides).
pub fn is_gzip(file: &Location) -> bool {
    file.to_string().to_lowercase().ends_with(".gz")
}

/// Feeds `each` the file's bytes, decompressed when gzip'd, until it
/// returns false or the file ends.
pub fn stream_text(
    source: &ResolvedSource,
    file: &Location,
    each: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<()> {
    if is_gzip(file) {
        let mut decoder = MultiGzDecoder::new(Feed { each, open: true });
        let mut failed = None;
        read_raw(source, file, &mut |bytes| {
            if let Err(e) = decoder.write_all(bytes) {
                failed = Some(e);
                return false;
            }
            decoder.get_ref().open
        })?;
        let finished = match failed {
            Some(e) => Err(e),
            None if decoder.get_ref().open => decoder.try_finish(),
            None => Ok(()),
        };
        return finished.map_err(|e| {
            Error::data(format!(
                "source `{}`: `{file}` is not a readable gzip file (truncated or corrupt?): {e}",
                source.name
            ))
        });
    }
    read_raw(source, file, each)
}

/// Hands decompressed bytes on; stops taking them once `each` said stop.
struct Feed<'a> {
    each: &'a mut dyn FnMut(&[u8]) -> bool,
    open: bool,
}

impl Write for Feed<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.open && !bytes.is_empty() {
            self.open = (self.each)(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn read_raw(
    source: &ResolvedSource,
    file: &Location,
    each: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<()> {
    match file {
        Location::Local(path) => {
            let mut reader = File::open(path).map_err(|e| {
                Error::io(format!("source `{}`: cannot open `{file}`", source.name), e)
            })?;
            let mut buffer = vec![0u8; CHUNK_BYTES as usize];
            loop {
                let n = reader.read(&mut buffer).map_err(|e| {
                    Error::io(format!("source `{}`: cannot read `{file}`", source.name), e)
                })?;
                if n == 0 || !each(&buffer[..n]) {
                    return Ok(());
                }
            }
        }
        Location::S3 { bucket, key } => {
            let s3 = source
                .s3
                .as_ref()
                .ok_or_else(|| Error::other("S3 client missing for an s3:// source"))?;
            if !s3.read_chunks(bucket, key, CHUNK_BYTES, each)? {
                return Err(Error::io_failed(format!(
                    "source `{}`: `{file}` disappeared while it was read",
                    source.name
                )));
            }
            Ok(())
        }
    }
}
