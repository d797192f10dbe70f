//! Image references compared as the container runtime resolves them: `nginx` is
//! `docker.io/library/nginx:latest`, a digest is kept, and a pattern can only match within the
//! repository or registry path it names.

/// `nginx` → `docker.io/library/nginx:latest`; `ghcr.io/o/app@sha256:…` unchanged; a reference with
/// both a tag and a digest keeps both, as the runtime pulls by the digest.
pub fn normalise(reference: &str) -> String {
    let (name, suffix) = split_name(reference);
    let repository = repository(name);
    if suffix.is_empty() {
        format!("{repository}:latest")
    } else {
        format!("{repository}{suffix}")
    }
}

/// The repository with its registry: `docker.io/library/nginx` for `nginx`.
fn repository(name: &str) -> String {
    let (first, rest) = name.split_once('/').unwrap_or(("", name));
    let has_registry =
        !first.is_empty() && (first.contains('.') || first.contains(':') || first == "localhost");
    match (has_registry, first.is_empty()) {
        (true, _) => name.to_string(),
        (false, true) => format!("docker.io/library/{rest}"),
        (false, false) => format!("docker.io/{name}"),
    }
}

/// The name and what follows it (`:tag`, `@digest`, both, or nothing). A `:` before the last `/`
/// is a registry's port, not a tag.
fn split_name(reference: &str) -> (&str, &str) {
    let name_end = reference.find('@').unwrap_or(reference.len());
    let last_slash = reference[..name_end].rfind('/').map_or(0, |i| i + 1);
    let tag_start = reference[last_slash..name_end]
        .find(':')
        .map(|i| last_slash + i);
    let split = tag_start.unwrap_or(name_end);
    (&reference[..split], &reference[split..])
}

/// An image pattern of `checkExemptions`: an exact reference, or a prefix ending in `/*` (every
/// repository under a registry path) or `:*` (every tag of one repository).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImagePattern {
    Exact(String),
    /// Normalised, ending in `/` or `:`.
    Prefix(String),
}

impl ImagePattern {
    pub fn parse(pattern: &str) -> Result<Self, String> {
        if pattern.is_empty() || pattern.chars().any(char::is_whitespace) {
            return Err(format!("{pattern:?} is not an image reference"));
        }
        if let Some(repository) = pattern.strip_suffix(":*") {
            if repository.contains(['*', '@']) || repository.ends_with('/') {
                return Err(format!(
                    "{pattern:?}: expected REPOSITORY:* (any tag of one repository)"
                ));
            }
            return Ok(ImagePattern::Prefix(format!(
                "{}:",
                self::repository(repository)
            )));
        }
        if let Some(path) = pattern.strip_suffix("/*") {
            let (first, rest) = path.split_once('/').unwrap_or((path, ""));
            // Only a registry's port may bring a `:`.
            if path.is_empty() || path.contains(['*', '@']) || rest.contains(':') {
                return Err(format!(
                    "{pattern:?}: expected REGISTRY/PATH/* (every repository under a path)"
                ));
            }
            // A bare first component is a Docker Hub namespace (`bitnami/*`), not a registry.
            let normalised = if first.contains('.') || first.contains(':') || first == "localhost" {
                path.to_string()
            } else {
                format!("docker.io/{path}")
            };
            return Ok(ImagePattern::Prefix(format!("{normalised}/")));
        }
        if pattern.contains('*') {
            return Err(format!(
                "{pattern:?}: a pattern ends in /* (every repository under a path) or :* (every tag of \
                 one repository); a * elsewhere could match other repositories"
            ));
        }
        Ok(ImagePattern::Exact(normalise(pattern)))
    }

    pub fn matches(&self, image: &str) -> bool {
        let image = normalise(image);
        match self {
            ImagePattern::Exact(exact) => image == *exact,
            ImagePattern::Prefix(prefix) => image.starts_with(prefix.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_normalise_as_the_runtime_resolves_them() {
        for (written, resolved) in [
            ("nginx", "docker.io/library/nginx:latest"),
            ("nginx:1.25", "docker.io/library/nginx:1.25"),
            ("docker.io/library/nginx", "docker.io/library/nginx:latest"),
            ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
            (
                "registry.example.com/nginx",
                "registry.example.com/nginx:latest",
            ),
            ("localhost:5000/app:1", "localhost:5000/app:1"),
            ("nginx@sha256:abc", "docker.io/library/nginx@sha256:abc"),
            (
                "nginx:1.25@sha256:abc",
                "docker.io/library/nginx:1.25@sha256:abc",
            ),
        ] {
            assert_eq!(normalise(written), resolved, "{written}");
        }
    }

    #[test]
    fn patterns_match_within_what_they_name() {
        let nginx = ImagePattern::parse("nginx").unwrap();
        assert!(nginx.matches("docker.io/library/nginx:latest"));
        assert!(nginx.matches("nginx"));
        assert!(!nginx.matches("registry.example.com/nginx"));
        assert!(!nginx.matches("nginx:1.25"));

        let any_tag = ImagePattern::parse("nginx:*").unwrap();
        assert!(any_tag.matches("nginx:1.25"));
        // A digest is not a tag.
        assert!(!any_tag.matches("docker.io/library/nginx@sha256:abc"));
        assert!(!any_tag.matches("nginx-evil:1"));
        assert!(!any_tag.matches("registry.example.com/nginx:1"));

        let path = ImagePattern::parse("registry.example.com/cni/*").unwrap();
        assert!(path.matches("registry.example.com/cni/agent:1.2"));
        assert!(!path.matches("registry.example.com/cni-evil/agent"));
        assert!(!path.matches("registry.example.com.evil.io/cni/agent"));

        for refused in [
            "nginx*",
            "*",
            "*:1.0",
            "registry.example.com/cni*",
            "",
            "a b",
        ] {
            assert!(ImagePattern::parse(refused).is_err(), "{refused}");
        }
    }
}
