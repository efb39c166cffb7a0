//! Which events to print: `--key`, `--action`, `--since`, `--until`.

use auparse::Event;

/// Event filter built from the command line. Empty lists match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exact match against any of the event's keys.
    pub keys: Vec<String>,
    /// Exact match against the normalized action (or a filesystem change's action).
    pub actions: Vec<String>,
    /// Events at or after this second.
    pub since: Option<i64>,
    /// Events at or before this second.
    pub until: Option<i64>,
}

impl Filter {
    /// True when the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.actions.is_empty()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// Keys and time only (what can be decided before filesystem changes are known).
    pub fn matches_event(&self, ev: &Event) -> bool {
        if let Some(s) = self.since {
            if ev.timestamp.sec < s {
                return false;
            }
        }
        if let Some(u) = self.until {
            if ev.timestamp.sec > u {
                return false;
            }
        }
        if !self.keys.is_empty()
            && !ev
                .keys
                .iter()
                .any(|k| self.keys.iter().any(|want| k[..] == *want.as_bytes()))
        {
            return false;
        }
        true
    }

    /// The action filter, against the normalized action and the change actions.
    pub fn matches_action(&self, ev: &Event, change_actions: &[&str]) -> bool {
        if self.actions.is_empty() {
            return true;
        }
        let norm = ev.action().map(|a| a.to_str_escaped().into_owned());
        self.actions.iter().any(|want| {
            norm.as_deref() == Some(want.as_str()) || change_actions.contains(&want.as_str())
        })
    }
}
