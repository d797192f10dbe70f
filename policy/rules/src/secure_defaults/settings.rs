//! `secureDefaults` in the settings: off unless enabled, then each default on unless switched off.

use serde::Deserialize;

/// What to fill in when absent (see the module's docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecureDefaults {
    pub seccomp_profile: bool,
    pub allow_privilege_escalation: bool,
    pub drop_all_capabilities: bool,
    pub run_as_non_root: bool,
    pub run_as_user: Option<u32>,
    pub run_as_group: Option<u32>,
    pub fs_group: Option<u32>,
}

impl SecureDefaults {
    /// Every default on and no IDs: what `enabled: true` alone means.
    pub fn all_on() -> Self {
        SecureDefaults {
            seccomp_profile: true,
            allow_privilege_escalation: true,
            drop_all_capabilities: true,
            run_as_non_root: true,
            run_as_user: None,
            run_as_group: None,
            fs_group: None,
        }
    }
}

/// The section as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SecureDefaultsDocument {
    enabled: Option<bool>,
    seccomp_profile: Option<bool>,
    allow_privilege_escalation: Option<bool>,
    drop_all_capabilities: Option<bool>,
    run_as_non_root: Option<bool>,
    run_as_user: Option<u32>,
    run_as_group: Option<u32>,
    fs_group: Option<u32>,
}

impl SecureDefaultsDocument {
    /// `None` when defaulting is off (`enabled` absent or false).
    pub(crate) fn read(self) -> Result<Option<SecureDefaults>, String> {
        if self.enabled != Some(true) {
            let set = self.seccomp_profile.is_some()
                || self.allow_privilege_escalation.is_some()
                || self.drop_all_capabilities.is_some()
                || self.run_as_non_root.is_some()
                || self.run_as_user.is_some()
                || self.run_as_group.is_some()
                || self.fs_group.is_some();
            if set && self.enabled.is_none() {
                return Err(
                    "secureDefaults: set enabled: true to default anything (or enabled: false to keep \
                     the section switched off)"
                        .to_string(),
                );
            }
            return Ok(None);
        }
        if self.run_as_user == Some(0) {
            return Err(
                "secureDefaults.runAsUser: 0 is root, which restricted forbids".to_string(),
            );
        }
        let on = SecureDefaults::all_on();
        Ok(Some(SecureDefaults {
            seccomp_profile: self.seccomp_profile.unwrap_or(on.seccomp_profile),
            allow_privilege_escalation: self
                .allow_privilege_escalation
                .unwrap_or(on.allow_privilege_escalation),
            drop_all_capabilities: self
                .drop_all_capabilities
                .unwrap_or(on.drop_all_capabilities),
            run_as_non_root: self.run_as_non_root.unwrap_or(on.run_as_non_root),
            run_as_user: self.run_as_user,
            run_as_group: self.run_as_group,
            fs_group: self.fs_group,
        }))
    }
}
