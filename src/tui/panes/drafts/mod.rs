//! The Drafts pane: saved node and whole-form drafts with preview, restore, rename, delete, import and export.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use tui_input::InputRequest;

use super::{CommandArg, Effect, Pane, PaneId, PaneSpec, RenderCtx, pane_actions};
use crate::config::theme::{Role, Theme};
use crate::domain::draft::{
    DRAFT_FORMAT, Draft, FormDraft, NodeDraft, NodeType, ProxyDraft, SshAuth,
};
use crate::engine::files::expand_home;
use crate::engine::store::{DraftCommand, DraftEvent, Problem, UnreadableDraft};
use crate::engine::{Command, Event};
use crate::tui::widgets::form_field as field;

pane_actions! {
    /// What this pane does with its keymap layer.
    pub enum DraftsAction {
        SelectNext = new("select_next", "next draft"),
        SelectPrev = new("select_prev", "previous draft"),
        Open = new("open", "open in the Create wizard"),
        Rename = new("rename", "rename"),
        Delete = destructive("delete", "delete (asks to confirm)"),
        Restore = new("restore", "restore from backup"),
        Import = new("import", "import a YAML file"),
        Export = new("export", "export to a YAML file"),
        Refresh = new("refresh", "read the drafts folder again"),
    }
}

pub static SPEC: PaneSpec = PaneSpec {
    id: PaneId::Drafts,
    title: "Drafts",
    command: CommandArg::None,
    command_help: "saved node drafts",
    actions: DraftsAction::SPECS,
    build: |_| Box::new(DraftsPane::new()),
    demo: || Box::new(DraftsPane::demo()),
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Prompt {
    Rename { from: String },
    Import,
    Export { name: String },
    ConfirmDelete { name: String },
    ConfirmOverwrite { name: String, to: PathBuf },
}

impl Prompt {
    fn label(&self) -> String {
        match self {
            Prompt::Rename { from } => format!("Rename '{from}' to: "),
            Prompt::Import => "Import draft file: ".to_string(),
            Prompt::Export { name } => format!("Export '{name}' to file: "),
            Prompt::ConfirmDelete { name } => {
                format!("Delete draft '{name}'? Type y then Enter to delete, Esc to cancel: ")
            }
            Prompt::ConfirmOverwrite { to, .. } => format!(
                "{} exists. Type y then Enter to replace it, Esc to keep it: ",
                to.display()
            ),
        }
    }
}

pub struct DraftsPane {
    drafts: Vec<Draft>,
    /// Files the last listing could not open; the listing leaves them where they are.
    unreadable: Vec<UnreadableDraft>,
    selected: usize,
    loaded: bool,
    prompt: Option<Prompt>,
    input: String,
    cursor: usize,
    status: Option<(Role, String)>,
    /// The draft an export without overwrite was sent for: if its file exists, the pane asks.
    pending_export: Option<String>,
}

impl Default for DraftsPane {
    fn default() -> Self {
        Self::new()
    }
}

impl DraftsPane {
    pub fn new() -> Self {
        DraftsPane {
            drafts: Vec::new(),
            unreadable: Vec::new(),
            selected: 0,
            loaded: false,
            prompt: None,
            input: String::new(),
            cursor: 0,
            status: None,
            pending_export: None,
        }
    }

    /// Fixed data for screenshots and snapshot tests.
    pub fn demo() -> Self {
        let at = |m: u32| {
            Utc.with_ymd_and_hms(2026, 1, 15, 9, m, 0)
                .single()
                .unwrap_or_default()
        };
        let mk = |name: &str, min: u32, node: NodeDraft| Draft {
            format: DRAFT_FORMAT,
            name: name.to_string(),
            revision: 1,
            saved_at: at(min),
            node,
            form: None,
        };
        let mut p = DraftsPane::new();
        p.loaded = true;
        p.drafts = vec![
            mk(
                "worker-3",
                40,
                NodeDraft {
                    node_type: NodeType::Worker,
                    ipv4: "192.168.10.23".into(),
                    display_name: "worker-3".into(),
                    ssh_ip: "203.0.113.23".into(),
                    auth: SshAuth::Key,
                    key_path: "~/.ssh/acp_ed25519".into(),
                    proxy: ProxyDraft {
                        enabled: true,
                        address: "192.168.1.1:1080".into(),
                        username: "ops".into(),
                    },
                    ..NodeDraft::new()
                },
            ),
            mk(
                "master-2",
                25,
                NodeDraft {
                    ipv4: "192.168.10.12".into(),
                    app_deployable: true,
                    nic: "eth1".into(),
                    ..NodeDraft::new()
                },
            ),
            mk(
                "192.168.10.31",
                5,
                NodeDraft {
                    node_type: NodeType::Worker,
                    ipv4: "192.168.10.31".into(),
                    ssh_port: 2222,
                    ..NodeDraft::new()
                },
            ),
        ];
        p.unreadable = vec![
            UnreadableDraft {
                file: PathBuf::from("drafts/old.json"),
                problem: Problem::Corrupt,
                reason: "EOF while parsing an object at line 3 column 0".into(),
            },
            UnreadableDraft {
                file: PathBuf::from("drafts/gpu-1.json"),
                problem: Problem::Newer {
                    format: DRAFT_FORMAT + 1,
                },
                reason: format!(
                    "written by a newer acp-cockpit; upgrade to open it (draft format {}, \
                     this build reads format {DRAFT_FORMAT})",
                    DRAFT_FORMAT + 1
                ),
            },
        ];
        p
    }

    pub fn drafts(&self) -> &[Draft] {
        &self.drafts
    }

    /// Lines above the list for the files that cannot be opened: a heading and up to two.
    fn banner_height(&self) -> u16 {
        if self.unreadable.is_empty() {
            0
        } else {
            (self.unreadable.len() as u16 + 1).min(3)
        }
    }

    fn current(&self) -> Option<&Draft> {
        self.drafts.get(self.selected)
    }

    fn clamp(&mut self) {
        if self.selected >= self.drafts.len() {
            self.selected = self.drafts.len().saturating_sub(1);
        }
    }

    fn engine(cmd: DraftCommand) -> Effect {
        Effect::Engine(Command::drafts(cmd))
    }

    fn start_prompt(&mut self, p: Prompt, initial: String) {
        self.cursor = initial.chars().count();
        self.input = initial;
        self.prompt = Some(p);
    }

    fn finish_prompt(&mut self) -> Vec<Effect> {
        let Some(p) = self.prompt.take() else {
            return Vec::new();
        };
        let text = std::mem::take(&mut self.input).trim().to_string();
        match p {
            Prompt::Rename { from } if !text.is_empty() && text != from => {
                vec![Self::engine(DraftCommand::Rename { from, to: text })]
            }
            Prompt::Import if !text.is_empty() => vec![Self::engine(DraftCommand::Import {
                from: expand_home(&text),
                name: None,
            })],
            Prompt::Export { name } if !text.is_empty() => {
                self.pending_export = Some(name.clone());
                vec![Self::engine(DraftCommand::Export {
                    name,
                    to: expand_home(&text),
                    overwrite: false,
                })]
            }
            Prompt::ConfirmOverwrite { name, to } if text.eq_ignore_ascii_case("y") => {
                vec![Self::engine(DraftCommand::Export {
                    name,
                    to,
                    overwrite: true,
                })]
            }
            Prompt::ConfirmOverwrite { to, .. } => {
                self.status = Some((Role::Muted, format!("Kept {}", to.display())));
                Vec::new()
            }
            Prompt::ConfirmDelete { name } if text.eq_ignore_ascii_case("y") => {
                vec![Self::engine(DraftCommand::Delete { name })]
            }
            Prompt::ConfirmDelete { .. } => {
                self.status = Some((Role::Muted, "Delete cancelled".into()));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn upsert(&mut self, d: Draft) {
        self.drafts.retain(|x| x.name != d.name);
        let name = d.name.clone();
        self.drafts.push(d);
        self.drafts.sort_by(|a, b| {
            b.saved_at
                .cmp(&a.saved_at)
                .then_with(|| a.name.cmp(&b.name))
        });
        self.selected = self.drafts.iter().position(|x| x.name == name).unwrap_or(0);
    }
}

/// "5m ago"-style age against the render clock, so snapshots stay fixed.
pub fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let s = (now - then).num_seconds().max(0);
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86400),
    }
}

impl Pane for DraftsPane {
    fn id(&self) -> PaneId {
        PaneId::Drafts
    }

    fn on_open(&mut self, _target: Option<&str>) -> Vec<Effect> {
        vec![Self::engine(DraftCommand::List)]
    }

    fn wants_text_input(&self) -> bool {
        self.prompt.is_some()
    }

    fn on_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        self.prompt.as_ref()?;
        if key.kind == KeyEventKind::Release {
            return Some(Vec::new());
        }
        match key.code {
            KeyCode::Esc => {
                self.prompt = None;
                self.input.clear();
                Some(Vec::new())
            }
            KeyCode::Enter => Some(self.finish_prompt()),
            // Typing a path: Tab must not switch panes under the open prompt.
            KeyCode::Tab | KeyCode::BackTab => Some(Vec::new()),
            _ => {
                let ev = crossterm::event::Event::Key(key);
                let req = tui_input::backend::crossterm::to_input_request(&ev)?;
                self.cursor = field::edit_text(&mut self.input, self.cursor, req);
                Some(Vec::new())
            }
        }
    }

    fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        if self.prompt.is_some() {
            for c in text.chars().filter(|c| !c.is_control()) {
                self.cursor =
                    field::edit_text(&mut self.input, self.cursor, InputRequest::InsertChar(c));
            }
        }
        Vec::new()
    }

    fn on_action(&mut self, action: &str) -> Vec<Effect> {
        let Some(action) = DraftsAction::parse(action) else {
            return Vec::new();
        };
        match action {
            DraftsAction::SelectNext => {
                if self.selected + 1 < self.drafts.len() {
                    self.selected += 1;
                }
                Vec::new()
            }
            DraftsAction::SelectPrev => {
                self.selected = self.selected.saturating_sub(1);
                Vec::new()
            }
            // The preview always shows the selected draft, so opening means restoring it
            // into the Create wizard's add-node dialog.
            DraftsAction::Open | DraftsAction::Restore => match self.current() {
                Some(d) => vec![
                    Self::engine(DraftCommand::Load {
                        name: d.name.clone(),
                        restore: true,
                    }),
                    Effect::Open(PaneId::Create, None),
                ],
                None => Vec::new(),
            },
            DraftsAction::Rename => {
                if let Some(d) = self.current() {
                    let from = d.name.clone();
                    self.start_prompt(Prompt::Rename { from: from.clone() }, from);
                }
                Vec::new()
            }
            DraftsAction::Delete => {
                if let Some(d) = self.current() {
                    let name = d.name.clone();
                    self.start_prompt(Prompt::ConfirmDelete { name }, String::new());
                }
                Vec::new()
            }
            DraftsAction::Import => {
                self.start_prompt(Prompt::Import, String::new());
                Vec::new()
            }
            DraftsAction::Export => {
                if let Some(d) = self.current() {
                    let name = d.name.clone();
                    let initial = format!("{name}.draft.json");
                    self.start_prompt(Prompt::Export { name }, initial);
                }
                Vec::new()
            }
            DraftsAction::Refresh => vec![Self::engine(DraftCommand::List)],
        }
    }

    fn on_event(&mut self, event: &Event) -> bool {
        let Event::Drafts { event: ev, .. } = event else {
            return false;
        };
        match ev {
            DraftEvent::Listed(l) => {
                self.drafts = l.drafts.clone();
                // Each listing sees the directory as it is now: a file repaired or upgraded
                // since drops out, so replace rather than accumulate.
                self.unreadable = l.unreadable.clone();
                self.loaded = true;
                self.clamp();
            }
            DraftEvent::Loaded {
                draft,
                restore: false,
            } => self.upsert(draft.clone()),
            DraftEvent::Loaded { restore: true, .. } | DraftEvent::NothingToRestore => {
                return false;
            }
            DraftEvent::Saved(d) => {
                self.upsert(d.clone());
                self.status = Some((Role::Ok, format!("Saved draft '{}'", d.name)));
            }
            DraftEvent::Imported(d) => {
                self.upsert(d.clone());
                self.status = Some((Role::Ok, format!("Imported draft '{}'", d.name)));
            }
            DraftEvent::Renamed { from, draft } => {
                self.drafts.retain(|x| &x.name != from);
                self.upsert(draft.clone());
                self.status = Some((Role::Ok, format!("Renamed '{from}' to '{}'", draft.name)));
            }
            DraftEvent::Deleted { name } => {
                self.drafts.retain(|x| &x.name != name);
                self.clamp();
                self.status = Some((Role::Ok, format!("Deleted draft '{name}'")));
            }
            DraftEvent::Exported { name, to } => {
                self.status = Some((Role::Ok, format!("Exported '{name}' to {}", to.display())));
            }
            DraftEvent::Unreadable(u) => {
                for bad in u {
                    if !self.unreadable.contains(bad) {
                        self.unreadable.push(bad.clone());
                    }
                }
            }
            // The file is there: ask before replacing it rather than fail or overwrite.
            DraftEvent::Failed {
                error: crate::engine::store::StoreError::FileExists(to),
                ..
            } if self.pending_export.is_some() => {
                let name = self.pending_export.take().unwrap_or_default();
                self.start_prompt(
                    Prompt::ConfirmOverwrite {
                        name,
                        to: to.clone(),
                    },
                    String::new(),
                );
            }
            DraftEvent::Failed { action, error } => {
                // An import reads the user's file, not the data directory, so a read error
                // is about the path typed.
                let hint = match (action.as_str(), error) {
                    ("import draft", crate::engine::store::StoreError::Io { .. }) => {
                        Some("check the file's path and that it is readable".to_string())
                    }
                    _ => error.hint(),
                };
                let hint = hint.map(|h| format!(" ({h})")).unwrap_or_default();
                self.status = Some((Role::Fail, format!("Could not {action}: {error}{hint}")));
            }
        }
        true
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let theme = ctx.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(
                format!(" Drafts: nodes and clusters ({}) ", self.drafts.len()),
                theme.style(Role::Title),
            ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height < 3 || inner.width < 20 {
            return;
        }
        let corrupt_h = self.banner_height();
        // A failure's message ends with its fix, so the status line takes as many lines as
        // the message needs (up to 3) instead of cutting it at the pane's width.
        let footer_h = match (&self.prompt, &self.status) {
            (None, Some((_, msg))) => {
                (msg.chars()
                    .count()
                    .div_ceil(usize::from(inner.width.max(1))) as u16)
                    .clamp(1, 3)
            }
            _ => 1,
        };
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(corrupt_h),
                Constraint::Min(1),
                Constraint::Length(footer_h),
            ])
            .split(inner);
        if corrupt_h > 0 {
            let n = self.unreadable.len();
            let mut lines = vec![Line::from(Span::styled(
                format!(
                    "{n} draft file{} cannot be opened here (left as {}):",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "it is" } else { "they are" }
                ),
                theme.style(Role::Warn),
            ))];
            for u in self.unreadable.iter().take(corrupt_h as usize - 1) {
                // A newer cockpit's draft is fine, just not for this build: no warning colour.
                let role = match u.problem {
                    Problem::Newer { .. } => Role::Muted,
                    Problem::Corrupt => Role::Warn,
                };
                lines.push(Line::from(Span::styled(
                    format!("  {}: {}", u.file.display(), u.reason),
                    theme.style(role),
                )));
            }
            frame.render_widget(Paragraph::new(lines), rows[0]);
        }
        let [list, preview] = split_list_preview(rows[1]);
        self.render_list(frame, list, ctx);
        self.render_preview(frame, preview, ctx);
        let footer = if let Some(p) = &self.prompt {
            let label = p.label();
            let lw = label.chars().count() as u16;
            let line = Line::from(vec![
                Span::styled(label, theme.style(Role::Accent)),
                Span::styled(self.input.clone(), theme.style(Role::Text)),
            ]);
            let x = rows[2].x + lw + self.input[..].chars().take(self.cursor).count() as u16;
            if x < rows[2].x + rows[2].width {
                frame.set_cursor_position((x, rows[2].y));
            }
            line
        } else if let Some((role, msg)) = &self.status {
            Line::from(Span::styled(msg.clone(), theme.style(*role)))
        } else {
            Line::from(Span::styled(
                "Enter/u restore into Create  r rename  D delete  i import  x export",
                theme.style(Role::Muted),
            ))
        };
        frame.render_widget(Paragraph::new(footer).wrap(Wrap { trim: false }), rows[2]);
    }
}

/// The list and the preview side by side (wide) or stacked, with a blank gap between them so
/// that the list's text never runs into the preview's border and title.
fn split_list_preview(area: Rect) -> [Rect; 2] {
    let wide = area.width >= 100;
    let parts = Layout::default()
        .direction(if wide {
            Direction::Horizontal
        } else {
            Direction::Vertical
        })
        .constraints(if wide {
            [Constraint::Percentage(55), Constraint::Percentage(45)]
        } else {
            [Constraint::Min(3), Constraint::Length(9)]
        })
        .spacing(if wide { 2 } else { 1 })
        .split(area);
    [parts[0], parts[1]]
}

impl DraftsPane {
    fn render_list(&self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let theme = ctx.theme;
        if self.drafts.is_empty() {
            let msg = if self.loaded {
                "No drafts yet. In Create, w saves the whole form, and Save Draft in Add Node one node; \
                 or press i to import a draft file."
            } else {
                "Loading drafts..."
            };
            frame.render_widget(
                Paragraph::new(Span::styled(msg, theme.style(Role::Muted)))
                    .wrap(Wrap { trim: true }),
                area,
            );
            return;
        }
        let name_w = self
            .drafts
            .iter()
            .map(|d| d.name.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 24);
        let mut lines = vec![Line::from(Span::styled(
            format!(
                "  {:<name_w$}  {:<7}  {:<15}  {}",
                "NAME", "TYPE", "IPV4 / NODES", "SAVED"
            ),
            theme.style(Role::Muted),
        ))];
        let visible = area.height.saturating_sub(1) as usize;
        let top = self.selected.saturating_sub(visible.saturating_sub(1));
        for (i, d) in self.drafts.iter().enumerate().skip(top).take(visible) {
            let (kind, what) = match (&d.form, d.node.node_type) {
                (Some(f), _) => ("cluster", format!("{} node(s)", f.nodes)),
                (None, NodeType::ControlPlane) => ("control", d.node.ipv4.clone()),
                (None, NodeType::Worker) => ("worker", d.node.ipv4.clone()),
            };
            let text = format!(
                "{} {:<name_w$}  {:<7}  {:<15}  {}",
                if i == self.selected { ">" } else { " " },
                field::truncate(&d.name, name_w),
                kind,
                field::truncate(&what, 15),
                age(ctx.now, d.saved_at)
            );
            let st = if i == self.selected {
                theme.style(Role::Selection)
            } else {
                theme.style(Role::Text)
            };
            lines.push(Line::from(Span::styled(
                field::truncate(&text, area.width as usize),
                st,
            )));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }

    fn render_preview(&self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let theme = ctx.theme;
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(" Preview ", theme.style(Role::Title)));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let Some(d) = self.current() else {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    "Select a draft to see it here.",
                    theme.style(Role::Muted),
                ))
                .wrap(Wrap { trim: true }),
                inner,
            );
            return;
        };
        if let Some(f) = &d.form {
            self.render_form_preview(frame, inner, ctx, f);
            return;
        }
        let n = &d.node;
        let dash = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
            }
        };
        let proxy = if n.proxy.enabled {
            format!(
                "SOCKS5 {} user {}",
                dash(&n.proxy.address),
                dash(&n.proxy.username)
            )
        } else {
            "off".into()
        };
        let auth = match n.auth {
            SshAuth::Password => "Password".to_string(),
            SshAuth::Key => format!("Key {}", dash(&n.key_path)),
        };
        let asks: Vec<&str> = n.secrets_to_ask().iter().map(|s| s.label()).collect();
        let mut pairs: Vec<(&str, String)> = vec![
            ("Type", n.node_type.label().to_string()),
            (
                "IPv4 / IPv6",
                format!("{} / {}", dash(&n.ipv4), dash(&n.ipv6)),
            ),
            ("Display Name", dash(&n.display_name)),
        ];
        if n.node_type == NodeType::ControlPlane {
            pairs.push((
                "App Deployable",
                if n.app_deployable { "yes" } else { "no" }.into(),
            ));
        }
        pairs.extend([
            (
                "SSH",
                format!(
                    "{}@{}:{}",
                    dash(&n.ssh_user),
                    dash(if n.ssh_ip.is_empty() {
                        &n.ipv4
                    } else {
                        &n.ssh_ip
                    }),
                    n.ssh_port
                ),
            ),
            ("NIC", dash(&n.nic)),
            ("Proxy", proxy),
            ("Auth", auth),
            ("Asks on restore", asks.join(", ")),
        ]);
        frame.render_widget(preview(pairs, theme), inner);
    }

    /// A whole-form draft: what it creates, and that every secret is asked for again.
    fn render_form_preview(&self, frame: &mut Frame, area: Rect, ctx: &RenderCtx, f: &FormDraft) {
        let cluster = if f.cluster.is_empty() {
            "-"
        } else {
            &f.cluster
        };
        let pairs = [
            ("Kind", "the whole Create form".to_string()),
            ("Cluster", cluster.to_string()),
            ("Nodes", f.nodes.to_string()),
            (
                "Asks on restore",
                "every node's SSH password or key passphrase, and proxy passwords".into(),
            ),
        ];
        frame.render_widget(preview(pairs, ctx.theme), area);
    }
}

/// A preview's label-value lines, wrapped so that the last ones (which secrets a restore asks
/// for) are never cut.
fn preview<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>, theme: &Theme) -> Paragraph<'a> {
    let lines: Vec<Line> = pairs
        .into_iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:<16}"), theme.style(Role::Muted)),
                Span::styled(v, theme.style(Role::Text)),
            ])
        })
        .collect();
    Paragraph::new(lines).wrap(Wrap { trim: false })
}

#[cfg(test)]
mod tests;
