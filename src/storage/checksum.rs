//! Size and sha256 of bytes and files: what the manifest, `_SUCCESS`,
//! `verify` and the activity store's day manifests record and check.

use sha2::{Digest, Sha256};

/// The sha256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a stream of byte chunks: size and sha256 (hex).
#[derive(Default)]
pub struct Checksum {
    hasher: Sha256,
    bytes: u64,
}

impl Checksum {
    pub fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
    }

    pub fn finish(self) -> (u64, String) {
        (self.bytes, hex(&self.hasher.finalize()))
    }
}

/// Size and sha256 of a local file, read 1 MiB at a time.
pub fn file_checksum(path: &std::path::Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut sum = Checksum::default();
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(sum.finish());
        }
        sum.update(&buffer[..n]);
    }
}
