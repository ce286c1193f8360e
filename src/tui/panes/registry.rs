//! The Registry pane: the built-in registry's access and troubleshooting checklist. Until its
//! checks are wired to the engine it shows what it will check (the placeholder), honestly.

use super::placeholder::PlaceholderPane;
use super::{CommandArg, PaneId, PaneSpec, pane_actions};

pane_actions! {
    /// What this pane does with its keymap layer.
    pub enum RegistryAction {
        SelectNext = new("select_next", "next check"),
        SelectPrev = new("select_prev", "previous check"),
        Open = new("open", "show the check's details"),
        Refresh = new("refresh", "run the checks again"),
    }
}

pub static SPEC: PaneSpec = PaneSpec {
    id: PaneId::Registry,
    title: "Registry",
    command: CommandArg::None,
    command_help: "built-in registry checks",
    actions: RegistryAction::SPECS,
    build: |_| Box::new(PlaceholderPane::new(PaneId::Registry)),
    demo: || Box::new(PlaceholderPane::new(PaneId::Registry)),
};
