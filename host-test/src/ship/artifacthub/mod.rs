//! `artifacthub-pkg.yml`, the package description Artifact Hub indexes, generated from the policy
//! metadata and Rancher's settings form the way `kwctl scaffold artifacthub` does.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::ship::metadata::Metadata;

pub const TITLE: &str = "io.kubewarden.policy.title";
pub const VERSION: &str = "io.kubewarden.policy.version";
pub const DESCRIPTION: &str = "io.kubewarden.policy.description";
pub const AUTHOR: &str = "io.kubewarden.policy.author";
pub const URL: &str = "io.kubewarden.policy.url";
pub const SOURCE: &str = "io.kubewarden.policy.source";
pub const LICENSE: &str = "io.kubewarden.policy.license";
pub const OCI_URL: &str = "io.kubewarden.policy.ociUrl";
pub const HIDDEN_UI: &str = "io.kubewarden.hidden-ui";
pub const DISPLAY_NAME: &str = "io.artifacthub.displayName";
pub const RESOURCES: &str = "io.artifacthub.resources";
pub const KEYWORDS: &str = "io.artifacthub.keywords";

/// Where every Kubewarden policy package points its readers first.
const CONTROLLER_PACKAGE: &str =
    "https://artifacthub.io/packages/helm/kubewarden/kubewarden-controller";

const HEADER: &str = "\
# Artifact Hub package description of this policy (https://artifacthub.io).
#
# Generated from metadata.yml and questions-ui.yml by
#   host-test scaffold artifacthub --metadata metadata.yml --questions questions-ui.yml -o artifacthub-pkg.yml
# (`make artifacthub`): edit those files, not this one. `make test` fails when it is out of date.
";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactHubPkg {
    pub version: String,
    pub name: String,
    pub display_name: String,
    pub created_at: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(rename = "homeURL", skip_serializing_if = "Option::is_none")]
    pub home_url: Option<String>,
    pub containers_images: Vec<ContainerImage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
    pub install: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintainers: Option<Vec<Maintainer>>,
    pub provider: Provider,
    pub recommendations: Vec<Recommendation>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerImage {
    pub name: String,
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub url: String,
}

/// One field of Rancher's settings form; only the keys the form cannot do without are checked.
#[derive(Deserialize)]
struct Question {
    variable: String,
    #[serde(rename = "type")]
    kind: String,
    label: String,
}

#[derive(Deserialize)]
struct QuestionsUi {
    questions: Vec<Question>,
}

fn required<'a>(metadata: &'a Metadata, key: &str) -> anyhow::Result<&'a str> {
    match metadata.annotation(key) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => bail!("the metadata must have the annotation {key}"),
    }
}

fn parse_url(key: &str, text: &str) -> anyhow::Result<url::Url> {
    url::Url::parse(text).with_context(|| format!("annotation {key}: {text:?} is not a URL"))
}

/// `a, b ,c` into its items, refusing empty ones.
fn comma_separated(key: &str, text: &str) -> anyhow::Result<Vec<String>> {
    let items: Vec<String> = text
        .split(',')
        .map(|item| item.trim().to_string())
        .collect();
    ensure!(
        items.iter().all(|item| !item.is_empty()),
        "annotation {key}: {text:?} has an empty item; expected comma-separated values"
    );
    Ok(items)
}

/// `Name <email>, Other <email>` into maintainers.
fn parse_maintainers(text: &str) -> anyhow::Result<Vec<Maintainer>> {
    comma_separated(AUTHOR, text)?
        .iter()
        .map(|author| {
            let parsed = author
                .strip_suffix('>')
                .and_then(|rest| rest.split_once('<'));
            match parsed {
                Some((name, email))
                    if !name.trim().is_empty()
                        && email.split_once('@').is_some_and(|(user, host)| {
                            !user.is_empty() && host.contains('.') && !email.contains(' ')
                        }) =>
                {
                    Ok(Maintainer {
                        name: name.trim().to_string(),
                        email: email.to_string(),
                    })
                }
                _ => bail!("annotation {AUTHOR}: {author:?} is not \"Name <email>\""),
            }
        })
        .collect()
}

fn validate_questions(text: &str) -> anyhow::Result<()> {
    let form: QuestionsUi = crate::yaml::from_str(text)
        .context("the questions file is not a Rancher questions form")?;
    ensure!(
        !form.questions.is_empty(),
        "the questions file has no questions"
    );
    let mut variables = BTreeSet::new();
    for question in &form.questions {
        ensure!(
            !question.label.is_empty() && !question.kind.is_empty(),
            "question {:?}: label and type must not be empty",
            question.variable
        );
        ensure!(
            variables.insert(question.variable.as_str()),
            "question {:?} appears twice",
            question.variable
        );
    }
    Ok(())
}

fn install_instructions(image: &str) -> String {
    format!(
        "The policy can be obtained with [`kwctl`](https://github.com/kubewarden/kwctl):\n\
         ```console\n\
         kwctl pull {image}\n\
         ```\n\
         Then generate its manifest and adjust the settings, for example:\n\
         ```console\n\
         kwctl scaffold manifest -t ClusterAdmissionPolicy registry://{image}\n\
         ```\n"
    )
}

impl ArtifactHubPkg {
    /// The package for `metadata`, released at `created_at` (RFC 3339), with the settings form
    /// `questions` (the text of questions-ui.yml) when given.
    pub fn from_metadata(
        metadata: &Metadata,
        created_at: &str,
        questions: Option<&str>,
    ) -> anyhow::Result<Self> {
        chrono::DateTime::parse_from_rfc3339(created_at)
            .with_context(|| format!("createdAt {created_at:?} is not an RFC 3339 time"))?;
        let version = required(metadata, VERSION)?;
        semver::Version::parse(version)
            .with_context(|| format!("annotation {VERSION}: {version:?} is not a semver"))?;
        let oci_url = required(metadata, OCI_URL)?;
        ensure!(
            !oci_url.contains("://") && !oci_url.contains(['@', ' ']),
            "annotation {OCI_URL}: {oci_url:?} must be a repository without scheme, tag or digest"
        );
        let image = format!("{oci_url}:v{version}");

        let home_url = metadata
            .annotation(URL)
            .map(|url| parse_url(URL, url).map(|_| url.to_string()))
            .transpose()?;
        let links = metadata
            .annotation(SOURCE)
            .map(|source| {
                let url = parse_url(SOURCE, source)?;
                let mut links = Vec::new();
                // GitHub releases carry the module itself.
                if url.host_str() == Some("github.com") {
                    links.push(Link {
                        name: "policy".into(),
                        url: format!(
                            "{}/releases/download/v{version}/policy.wasm",
                            source.trim_end_matches('/')
                        ),
                    });
                }
                links.push(Link {
                    name: "source".into(),
                    url: source.to_string(),
                });
                anyhow::Ok(links)
            })
            .transpose()?;

        let mut annotations = BTreeMap::from([
            ("kubewarden/mutation".into(), metadata.mutating.to_string()),
            (
                "kubewarden/rules".into(),
                crate::yaml::to_string(&metadata.rules)?,
            ),
        ]);
        if !metadata.context_aware_resources.is_empty() {
            annotations.insert(
                "kubewarden/contextAwareResources".into(),
                crate::yaml::to_string(&metadata.context_aware_resources)?,
            );
        }
        if let Some(resources) = metadata.annotation(RESOURCES) {
            annotations.insert("kubewarden/resources".into(), resources.to_string());
        }
        if let Some(hidden) = metadata.annotation(HIDDEN_UI) {
            let hidden: bool = hidden
                .parse()
                .with_context(|| format!("annotation {HIDDEN_UI}: {hidden:?} is not a bool"))?;
            annotations.insert("kubewarden/hidden-ui".into(), hidden.to_string());
        }
        if let Some(questions) = questions {
            validate_questions(questions)?;
            annotations.insert("kubewarden/questions-ui".into(), questions.to_string());
        }

        Ok(Self {
            version: version.to_string(),
            name: required(metadata, TITLE)?.to_string(),
            display_name: required(metadata, DISPLAY_NAME)?.to_string(),
            created_at: created_at.to_string(),
            description: required(metadata, DESCRIPTION)?.to_string(),
            license: metadata.annotation(LICENSE).map(str::to_string),
            home_url,
            install: install_instructions(&image),
            containers_images: vec![ContainerImage {
                name: "policy".into(),
                image,
            }],
            keywords: metadata
                .annotation(KEYWORDS)
                .map(|keywords| comma_separated(KEYWORDS, keywords))
                .transpose()?,
            links,
            maintainers: metadata
                .annotation(AUTHOR)
                .map(parse_maintainers)
                .transpose()?,
            provider: Provider {
                name: "kubewarden".into(),
            },
            recommendations: vec![Recommendation {
                url: CONTROLLER_PACKAGE.into(),
            }],
            annotations,
        })
    }

    /// The file as written: a header saying how it is made, then the YAML.
    pub fn to_file_text(&self) -> String {
        format!(
            "{HEADER}{}",
            crate::yaml::to_string(self).expect("the package serializes to YAML")
        )
    }

    /// The `createdAt` of an existing artifacthub-pkg.yml.
    pub fn created_at_of(text: &str) -> anyhow::Result<String> {
        let package: Self =
            crate::yaml::from_str(text).context("it is not an Artifact Hub package description")?;
        Ok(package.created_at)
    }
}

#[cfg(test)]
mod tests;
