//! Label selectors as Kubernetes writes them (`matchLabels`, `matchExpressions` with `In`, `NotIn`,
//! `Exists`, `DoesNotExist`), matched against a pod's (or a pod template's) labels.

use crate::pod::Labels;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Why the selector can never match, or is malformed, as the API server would refuse it.
    pub fn problem(&self) -> Option<String> {
        if self.match_labels.is_empty() && self.match_expressions.is_empty() {
            return Some(
                "an empty selector matches every pod: leave podSelector out instead".to_string(),
            );
        }
        for requirement in &self.match_expressions {
            let key = &requirement.key;
            match requirement.operator {
                Operator::In | Operator::NotIn if requirement.values.is_empty() => {
                    return Some(format!(
                        "matchExpressions {key}: {:?} needs values",
                        requirement.operator
                    ));
                }
                Operator::Exists | Operator::DoesNotExist if !requirement.values.is_empty() => {
                    return Some(format!(
                        "matchExpressions {key}: {:?} takes no values",
                        requirement.operator
                    ));
                }
                _ => {}
            }
            // `key In (…)` and `key: v` for a v not among them, or `key DoesNotExist` with key
            // required elsewhere: nothing can match.
            let required = self.match_labels.get(key);
            let contradicts = match requirement.operator {
                Operator::In => required.is_some_and(|value| !requirement.values.contains(value)),
                Operator::NotIn => required.is_some_and(|value| requirement.values.contains(value)),
                Operator::DoesNotExist => required.is_some(),
                Operator::Exists => false,
            };
            if contradicts {
                return Some(format!(
                    "matchExpressions {key} contradicts matchLabels: no pod can match"
                ));
            }
        }
        None
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        let value = |key: &str| labels.get(key);
        self.match_labels
            .iter()
            .all(|(key, wanted)| value(key) == Some(wanted.as_str()))
            && self.match_expressions.iter().all(|requirement| {
                let found = value(&requirement.key);
                match requirement.operator {
                    Operator::In => {
                        found.is_some_and(|v| requirement.values.iter().any(|w| w == v))
                    }
                    Operator::NotIn => {
                        found.is_none_or(|v| requirement.values.iter().all(|w| w != v))
                    }
                    Operator::Exists => found.is_some(),
                    Operator::DoesNotExist => found.is_none(),
                }
            })
    }
}
