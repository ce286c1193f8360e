//! Where each pane is constructed. A pane's owner plugs its constructor in here; until then the
//! placeholder stands in, so the shell always has all six panes.

use std::path::PathBuf;

use crate::tui::panes::clusters::ClustersPane;
use crate::tui::panes::drafts::DraftsPane;
use crate::tui::panes::etcd::EtcdPane;
use crate::tui::panes::placeholder::PlaceholderPane;
use crate::tui::panes::timeline::TimelinePane;
use crate::tui::panes::wizard::WizardPane;
use crate::tui::panes::{Pane, PaneId};

/// What pane constructors may need from the shell.
#[derive(Debug, Clone, Default)]
pub struct PaneDeps {
    pub readonly: bool,
    pub sandbox: bool,
    /// The data directory (drafts live under it).
    pub data_dir: PathBuf,
}

/// The panes of a running cockpit.
pub fn build_panes(_deps: &PaneDeps) -> Vec<Box<dyn Pane>> {
    PaneId::ALL
        .iter()
        .map(|id| -> Box<dyn Pane> {
            match id {
                PaneId::Clusters => Box::new(ClustersPane::new()),
                PaneId::Create => Box::new(WizardPane::new()),
                PaneId::Drafts => Box::new(DraftsPane::new()),
                PaneId::Timeline => Box::new(TimelinePane::new()),
                PaneId::Etcd => Box::new(EtcdPane::new()),
                other => Box::new(PlaceholderPane::new(*other)),
            }
        })
        .collect()
}

/// The panes with demo data and no engine behind them, for screenshots and snapshot tests.
pub fn demo_panes() -> Vec<Box<dyn Pane>> {
    PaneId::ALL
        .iter()
        .map(|id| -> Box<dyn Pane> {
            match id {
                PaneId::Clusters => Box::new(ClustersPane::demo()),
                PaneId::Create => Box::new(WizardPane::demo()),
                PaneId::Drafts => Box::new(DraftsPane::demo()),
                PaneId::Timeline => Box::new(TimelinePane::demo()),
                PaneId::Etcd => Box::new(EtcdPane::demo()),
                other => Box::new(PlaceholderPane::new(*other)),
            }
        })
        .collect()
}
