//! One credential chain for every S3 request (docs/OPERATING.md#s3-credentials):
//!
//! 1. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!    `AWS_SESSION_TOKEN`;
//! 2. the profile named by `AWS_PROFILE` (or `AWS_DEFAULT_PROFILE`, else
//!    `default`) in the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`,
//!    else `~/.aws/credentials`), then in the config file (`AWS_CONFIG_FILE`,
//!    else `~/.aws/config`, section `[profile NAME]` or `[default]`), which
//!    also gives the region;
//! 3. what the object store finds itself: web identity (EKS) and the
//!    instance metadata service.
//!
//! The keys found by 1 or 2 are handed to both clients (polars' scans and
//! our uploads and lease), so that every request of a run is signed by the
//! same identity. The files are read with a small section parser: an INI
//! crate would add dependencies that change shared crates' features (the
//! one-build guard).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Keys found by the chain, and where.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// Where they came from, for messages (never the keys themselves).
    pub origin: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// What the chain found: keys (or none: the object store's own chain
/// decides), the profile's region, and a problem (a profile named by
/// `AWS_PROFILE` that no file has).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    pub credentials: Option<Credentials>,
    pub region: Option<String>,
    pub problem: Option<String>,
}

/// Runs the chain against the process environment and files.
pub fn resolve() -> Chain {
    resolve_with(&|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// The chain with `env` as the environment (for tests).
pub fn resolve_with(env: &dyn Fn(&str) -> Option<String>) -> Chain {
    let mut chain = Chain::default();
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        chain.credentials = Some(Credentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env("AWS_SESSION_TOKEN"),
            origin: "the environment (AWS_ACCESS_KEY_ID)".into(),
        });
    }
    let named = env("AWS_PROFILE").or_else(|| env("AWS_DEFAULT_PROFILE"));
    let profile = named.clone().unwrap_or_else(|| "default".into());
    let home = env("HOME").map(PathBuf::from);
    let file = |variable: &str, default: &str| {
        env(variable)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
    };
    let credentials_file = file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    let config_file = file("AWS_CONFIG_FILE", ".aws/config");
    let read = |path: &Option<PathBuf>| {
        path.as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|text| sections(&text))
            .unwrap_or_default()
    };
    let in_credentials = read(&credentials_file).remove(&profile);
    let config_section = if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    };
    let in_config = read(&config_file).remove(&config_section);
    chain.region = in_config.as_ref().and_then(|s| s.get("region").cloned());
    if named.is_some() && in_credentials.is_none() && in_config.is_none() {
        chain.problem = Some(format!(
            "AWS_PROFILE `{profile}` names no profile in `{}` or `{}`",
            shown(&credentials_file),
            shown(&config_file)
        ));
    }
    if chain.credentials.is_none() {
        for (section, path) in [
            (&in_credentials, &credentials_file),
            (&in_config, &config_file),
        ] {
            let Some(section) = section else { continue };
            if let (Some(id), Some(secret)) = (
                section.get("aws_access_key_id"),
                section.get("aws_secret_access_key"),
            ) {
                chain.credentials = Some(Credentials {
                    access_key_id: id.clone(),
                    secret_access_key: secret.clone(),
                    session_token: section.get("aws_session_token").cloned(),
                    origin: format!("profile `{profile}` of `{}`", shown(path)),
                });
                break;
            }
        }
    }
    chain
}

fn shown(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map_or("(no HOME)".into(), |p| p.display().to_string())
}

/// The sections of an AWS shared file: `[name]` headers, `key = value`
/// lines (keys lower-cased), `#` and `;` comments.
fn sections(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            out.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some((key, value))) = (&current, line.split_once('=')) {
            out.entry(section.clone())
                .or_default()
                .insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(pairs: &'a [(&'a str, String)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn the_profile_named_by_aws_profile_is_read_whatever_its_place_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().join("credentials");
        std::fs::write(
            &credentials,
            "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other-secret\n\n\
             [default]\naws_access_key_id=AKIADEFAULT\naws_secret_access_key=default-secret\n",
        )
        .unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "[profile other]\nregion = eu-west-3\n[default]\nregion = us-east-2\n",
        )
        .unwrap();
        let files = |profile: Option<&str>| {
            let mut pairs = vec![
                (
                    "AWS_SHARED_CREDENTIALS_FILE",
                    credentials.display().to_string(),
                ),
                ("AWS_CONFIG_FILE", config.display().to_string()),
            ];
            if let Some(p) = profile {
                pairs.push(("AWS_PROFILE", p.to_string()));
            }
            let env = env_of(&pairs);
            let chain = resolve_with(&env);
            chain
        };
        let default = files(None);
        let keys = default.credentials.unwrap();
        assert_eq!(
            (keys.access_key_id.as_str(), keys.secret_access_key.as_str()),
            ("AKIADEFAULT", "default-secret")
        );
        assert_eq!(default.region.as_deref(), Some("us-east-2"));
        assert_eq!(
            files(Some("default")).credentials.unwrap().access_key_id,
            "AKIADEFAULT"
        );
        let other = files(Some("other"));
        assert_eq!(other.credentials.unwrap().access_key_id, "AKIAOTHER");
        assert_eq!(other.region.as_deref(), Some("eu-west-3"));
        let missing = files(Some("nope"));
        assert!(missing.credentials.is_none());
        assert!(missing
            .problem
            .unwrap()
            .contains("AWS_PROFILE `nope` names no profile"));
        // The environment comes first.
        let pairs = [
            ("AWS_ACCESS_KEY_ID", "AKIAENV".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "env-secret".to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                credentials.display().to_string(),
            ),
        ];
        assert_eq!(
            resolve_with(&env_of(&pairs))
                .credentials
                .unwrap()
                .access_key_id,
            "AKIAENV"
        );
        assert!(!format!("{:?}", files(None)).contains("secret"));
    }
}
