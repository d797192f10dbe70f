//! Pod Security levels and versions, as written in namespace labels and PSA's configuration.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub const NAMES: [&'static str; 3] = ["privileged", "baseline", "restricted"];

    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy version as configured: `latest` or `v1.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Latest,
    V1(u32),
}

impl Version {
    /// Parses `latest` or `v1.N` with N written without leading zeros, as PSA does.
    pub fn parse(text: &str) -> Option<Version> {
        if text == "latest" {
            return Some(Version::Latest);
        }
        let minor = text.strip_prefix("v1.")?;
        let canonical = !minor.is_empty()
            && minor.bytes().all(|b| b.is_ascii_digit())
            && (minor == "0" || !minor.starts_with('0'));
        if !canonical {
            return None;
        }
        minor.parse().ok().map(Version::V1)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::V1(minor) => write!(f, "v1.{minor}"),
        }
    }
}

/// A level at a version, written `level:version` in messages (`restricted:latest`, `baseline:v1.25`);
/// PSA's `LevelVersion`. Which variant of each check a version means is the registry's business
/// ([`crate::checks::effective_minor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    pub level: Level,
    pub version: Version,
}

impl fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_like_psa() {
        assert_eq!(Version::parse("latest"), Some(Version::Latest));
        assert_eq!(Version::parse("v1.0"), Some(Version::V1(0)));
        assert_eq!(Version::parse("v1.25"), Some(Version::V1(25)));
        for bad in [
            "v1.01", "v1", "1.25", "v1.", "v2.0", "V1.2", "v1.2a", "v1.-1", "", "Latest",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad:?} must be refused");
        }
    }

    #[test]
    fn level_versions_print_as_configured() {
        let policy = LevelVersion {
            level: Level::Baseline,
            version: Version::V1(99),
        };
        assert_eq!(policy.to_string(), "baseline:v1.99");
    }
}
