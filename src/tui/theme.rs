//! Semantic style roles. Panes ask for a role, never for a color.

use ratatui::style::{Color, Modifier, Style};

/// What a piece of text means; the theme decides how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Text,
    Ok,
    Warn,
    Fail,
    Info,
    Muted,
    Accent,
    Selection,
    Border,
    Title,
    Key,
    ReadonlyBadge,
    SandboxBadge,
}

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            name: "dark".into(),
        }
    }
}

impl Theme {
    pub fn style(&self, role: Role) -> Style {
        match role {
            Role::Text => Style::default(),
            Role::Ok => Style::default().fg(Color::Green),
            Role::Warn => Style::default().fg(Color::Yellow),
            Role::Fail => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            Role::Info => Style::default().fg(Color::Cyan),
            Role::Muted => Style::default().fg(Color::DarkGray),
            Role::Accent => Style::default().fg(Color::Magenta),
            Role::Selection => Style::default().add_modifier(Modifier::REVERSED),
            Role::Border => Style::default().fg(Color::DarkGray),
            Role::Title => Style::default().add_modifier(Modifier::BOLD),
            Role::Key => Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            Role::ReadonlyBadge => Style::default().fg(Color::Black).bg(Color::Yellow),
            Role::SandboxBadge => Style::default().fg(Color::Black).bg(Color::Cyan),
        }
    }
}
