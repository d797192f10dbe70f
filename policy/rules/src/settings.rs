use std::fmt;

#[derive(Debug, Clone, Default)]
pub struct Settings {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub String);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

impl Settings {
    pub fn from_json(bytes: &[u8]) -> Result<Self, SettingsError> {
        let _ = bytes;
        Ok(Settings {})
    }
}
