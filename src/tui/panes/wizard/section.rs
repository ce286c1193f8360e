//! The wizard's steps, in the order the page shows them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Basic,
    Network,
    Nodes,
    Extended,
    Preflight,
    Review,
}

impl Section {
    pub const ALL: [Section; 6] = [
        Section::Basic,
        Section::Network,
        Section::Nodes,
        Section::Extended,
        Section::Preflight,
        Section::Review,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::Basic => "Basic Info",
            Section::Network => "Container Network",
            Section::Nodes => "Node Settings",
            Section::Extended => "Extended Parameters",
            Section::Preflight => "Preflight",
            Section::Review => "Review",
        }
    }

    /// For narrow terminals.
    pub fn short_title(self) -> &'static str {
        match self {
            Section::Basic => "Basic",
            Section::Network => "Network",
            Section::Nodes => "Nodes",
            Section::Extended => "Extended",
            Section::Preflight => "Preflight",
            Section::Review => "Review",
        }
    }

    pub(super) fn index(self) -> usize {
        Section::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}
