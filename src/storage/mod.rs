//! Where data lives: a local path or an object in S3 (docs/INPUTS.md: a source path
//! is a "file, directory, glob, or `s3://bucket/key` of any of these"; docs/OUTPUTS.md:
//! outputs go to a "local directory or `s3://bucket/prefix`").
//!
//! [`Location`] is the one type every path of the pipeline becomes after
//! resolution; [`s3::S3`] is the client for the `s3://` ones.

pub mod checksum;
pub mod lock;
pub mod s3;

use std::fmt;
use std::path::{Path, PathBuf};

use polars::prelude::PlRefPath;

/// A resolved path: local (absolute or relative to the current directory)
/// or an S3 object key / prefix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    Local(PathBuf),
    /// `key` has no leading `/`; a prefix ("directory") ends with `/` or is empty.
    S3 {
        bucket: String,
        key: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{}", path.display()),
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

impl Location {
    /// Parses a path from the pipeline file or the command line. Relative
    /// local paths are joined to `base_dir`; `s3://bucket/key` is taken as is.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Location, String> {
        if text.trim().is_empty() {
            return Err("the path is empty".into());
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if !valid_bucket(bucket) {
                return Err(format!(
                    "`{text}`: `{bucket}` is not a valid S3 bucket name (3 to 63 characters: lower-case letters, digits, `.` and `-`)"
                ));
            }
            if key.contains("//") {
                return Err(format!("`{text}`: an S3 key must not contain `//`"));
            }
            check_s3_key(key).map_err(|problem| format!("`{text}`: {problem}"))?;
            return Ok(Location::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
            });
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!(
                "`{text}`: `{scheme}://` is not supported; use a local path or `s3://bucket/key`"
            ));
        }
        let path = Path::new(text);
        let joined = if path.is_absolute() {
            path.to_path_buf()
        } else {
            base_dir.join(path)
        };
        Ok(Location::Local(normalize(&joined)))
    }

    pub fn is_s3(&self) -> bool {
        matches!(self, Location::S3 { .. })
    }

    pub fn as_local(&self) -> Option<&Path> {
        match self {
            Location::Local(path) => Some(path),
            Location::S3 { .. } => None,
        }
    }

    /// The last path segment (file or object name).
    pub fn file_name(&self) -> Option<String> {
        match self {
            Location::Local(path) => path.file_name().map(|n| n.to_string_lossy().to_string()),
            Location::S3 { key, .. } => key
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .map(str::to_string),
        }
    }

    /// `self/name`: a child of a directory or prefix.
    pub fn join(&self, name: &str) -> Location {
        match self {
            Location::Local(path) => Location::Local(path.join(name)),
            Location::S3 { bucket, key } => Location::S3 {
                bucket: bucket.clone(),
                key: if key.is_empty() || key.ends_with('/') {
                    format!("{key}{name}")
                } else {
                    format!("{key}/{name}")
                },
            },
        }
    }

    /// The directory or prefix that holds this file or directory (None at
    /// the top).
    pub fn parent(&self) -> Option<Location> {
        match self {
            Location::Local(path) => path.parent().map(|p| Location::Local(p.to_path_buf())),
            Location::S3 { bucket, key } => {
                let key = key.trim_end_matches('/');
                (!key.is_empty()).then(|| Location::S3 {
                    bucket: bucket.clone(),
                    key: key
                        .rsplit_once('/')
                        .map(|(p, _)| p)
                        .unwrap_or("")
                        .to_string(),
                })
            }
        }
    }

    /// The directory or prefix that holds this file, for messages.
    pub fn parent_shown(&self) -> String {
        match self {
            Location::Local(path) => path
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            Location::S3 { bucket, key } => {
                let parent = key.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                format!("s3://{bucket}/{parent}")
            }
        }
    }

    /// The path as polars reads it.
    pub fn polars_path(&self) -> PlRefPath {
        PlRefPath::new(self.to_string().as_str())
    }

    /// Whether the path holds a glob pattern (`*`, `?` or `[`).
    pub fn is_glob(&self) -> bool {
        let text = match self {
            Location::Local(path) => path.to_string_lossy().to_string(),
            Location::S3 { key, .. } => key.clone(),
        };
        text.contains(['*', '?', '['])
    }
}

/// Characters of an S3 key that the object store client would write
/// percent-encoded (`a~b` becomes the key `a%7Eb`): keys are compared as
/// text, so they are refused instead of being silently renamed. `*`, `?`,
/// `[` and `]` are glob syntax in a source path (refused in an output path).
pub const S3_KEY_REFUSED: &[char] = &['\\', '{', '^', '}', '%', '`', '"', '>', '<', '~', '#', '|'];

/// Whether an S3 key (or key prefix) is one the client writes and lists
/// unchanged: none of [`S3_KEY_REFUSED`], no control character, no `.` or
/// `..` segment.
pub fn check_s3_key(key: &str) -> Result<(), String> {
    if let Some(c) = key
        .chars()
        .find(|c| S3_KEY_REFUSED.contains(c) || c.is_control())
    {
        return Err(format!(
            "the S3 key contains `{}`, which the S3 client would store percent-encoded (as another key); rename it without any of {}",
            c.escape_default(),
            S3_KEY_REFUSED
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if key
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err("an S3 key must not have a `.` or `..` segment".into());
    }
    Ok(())
}

/// S3 bucket naming rules (the subset that matters for a clear message).
fn valid_bucket(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.as_bytes()[0].is_ascii_alphanumeric()
}

/// Removes `.` and `name/..` pairs without touching the file system, so that
/// logs and the manifest show `out/x` rather than `pipelines/../out/x`.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_local_and_s3_paths() {
        let base = Path::new("/p/pipelines");
        assert_eq!(
            Location::parse("../data/x.csv", base).unwrap(),
            Location::Local(PathBuf::from("/p/data/x.csv"))
        );
        let s3 = Location::parse("s3://my-lake/events/", base).unwrap();
        assert_eq!(
            s3,
            Location::S3 {
                bucket: "my-lake".into(),
                key: "events/".into()
            }
        );
        assert_eq!(s3.to_string(), "s3://my-lake/events/");
        assert_eq!(
            s3.join("a.parquet").to_string(),
            "s3://my-lake/events/a.parquet"
        );
        assert_eq!(
            Location::parse("s3://my-lake", base)
                .unwrap()
                .join("as_of=x")
                .to_string(),
            "s3://my-lake/as_of=x"
        );
        assert_eq!(
            Location::parse("s3://my-lake/out", base)
                .unwrap()
                .join("as_of=x")
                .to_string(),
            "s3://my-lake/out/as_of=x"
        );
        assert!(Location::parse("s3://my-lake/e/*.parquet", base)
            .unwrap()
            .is_glob());
        assert!(Location::parse("s3://A_b/x", base)
            .unwrap_err()
            .contains("bucket"));
        assert!(Location::parse("gs://b/x", base)
            .unwrap_err()
            .contains("gs://"));
        assert!(Location::parse(" ", base).is_err());
        // Keys the client would store percent-encoded are refused, naming
        // the character; glob syntax stays allowed (refused for outputs by
        // the resolver).
        for (path, shown) in [
            ("s3://lake/out~1/", "`~`"),
            ("s3://lake/a/%41.csv", "`%`"),
            ("s3://lake/run#2/x.csv", "`#`"),
            ("s3://lake/{a}/x.csv", "`{`"),
        ] {
            let problem = Location::parse(path, base).unwrap_err();
            assert!(
                problem.contains(shown) && problem.contains("percent-encoded"),
                "{problem}"
            );
        }
        assert!(Location::parse("s3://lake/a/../b", base)
            .unwrap_err()
            .contains("`..`"));
        assert!(Location::parse("s3://lake/e/part-[0-9]?.csv", base)
            .unwrap()
            .is_glob());
    }

    #[test]
    fn names_and_parents() {
        let s3 = Location::S3 {
            bucket: "lake".into(),
            key: "a/b/c.csv".into(),
        };
        assert_eq!(s3.file_name().as_deref(), Some("c.csv"));
        assert_eq!(s3.parent_shown(), "s3://lake/a/b");
        let local = Location::Local(PathBuf::from("/x/y.csv"));
        assert_eq!(local.file_name().as_deref(), Some("y.csv"));
        assert_eq!(local.parent_shown(), "/x");
    }
}
