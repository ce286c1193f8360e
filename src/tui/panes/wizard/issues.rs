//! Findings as the pane shows them, and where each one sits: beside the row whose resource
//! path matches it most closely, in any section, or only in the summary.

use super::Section;
use super::rows::{Spec, rows_of};
use crate::domain::form::ClusterForm;
use crate::domain::rules;
use crate::tui::widgets::form_field::Level;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: String,
    pub level: Level,
    pub message: String,
    pub hint: Option<String>,
}

/// Runs the creation rules over the form, with what is known of a platform by default.
pub fn issues_of(form: &ClusterForm) -> Vec<Issue> {
    issues_with(form, &rules::RuleContext::default())
}

pub(super) fn level_of(s: rules::Severity) -> Level {
    match s {
        rules::Severity::Error => Level::Error,
        rules::Severity::Warning => Level::Warning,
        rules::Severity::Info => Level::Info,
    }
}

/// Runs the creation rules over the form with what is known of the platform.
pub fn issues_with(form: &ClusterForm, ctx: &rules::RuleContext) -> Vec<Issue> {
    let mut out: Vec<Issue> = rules::check(form, ctx)
        .into_iter()
        .filter(|f| !said_by_a_note(f))
        .map(|f| Issue {
            path: f.field,
            level: level_of(f.severity),
            message: f.message,
            hint: (!f.hint.is_empty()).then_some(f.hint),
        })
        .collect();
    out.sort_by_key(|i| i.level);
    out
}

/// Findings the rows' notes already state plainly (the page's choices the platform does not
/// apply), so the pane says it once instead of in notes and findings that contradict each
/// other ("no monitoring nodes are selected" beside "the monitoring nodes are not applied").
/// Errors (a malformed value) still show.
fn said_by_a_note(f: &rules::Finding) -> bool {
    let advice = f.severity != rules::Severity::Error;
    advice
        && matches!(
            f.field.as_str(),
            "form.externalAccess"
                | "form.imageRegistry"
                | "form.monitoring.kind"
                | "form.monitoring.nodes"
        )
}

/// Maps a rule's node-relative field name onto the dialog's field keys.
pub(super) fn dialog_key(rest: &str) -> &str {
    match rest {
        "ip" => "ipv4",
        "username" => "sshUser",
        "port" => "sshPort",
        "publicIP" => "sshIp",
        "networkDevice" => "nic",
        "privateKey" => "keyPath",
        "passPhrase" => "passphrase",
        "role" => "type",
        "proxy.type" => "proxy",
        other => other,
    }
}

/// Rules name a node's form-only fields `form.nodes[i]`; rows use the resource path.
fn normalize(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("form.nodes[") {
        Some(rest) => format!("spec.machines[{rest}").into(),
        None => path.into(),
    }
}

fn path_matches(issue: &str, row: &str) -> bool {
    !row.is_empty()
        && (issue == row
            || (issue.starts_with(row)
                && matches!(issue.as_bytes().get(row.len()), Some(b'.') | Some(b'['))))
}

/// Puts each issue on the row whose path matches it most closely, in any section.
pub(super) fn place(
    form: &ClusterForm,
    ctx: &rules::RuleContext,
    issues: &[Issue],
) -> Vec<(Section, Option<usize>)> {
    let sections: Vec<(Section, Vec<Spec>)> = Section::ALL
        .iter()
        .filter(|s| **s != Section::Review)
        .map(|s| (*s, rows_of(form, ctx, *s)))
        .collect();
    issues
        .iter()
        .map(|i| {
            let p = normalize(&i.path);
            let mut best: Option<(usize, Section, usize)> = None;
            for (s, rows) in &sections {
                for (r, spec) in rows.iter().enumerate() {
                    if path_matches(&p, &spec.path)
                        && best.is_none_or(|(len, _, _)| spec.path.len() > len)
                    {
                        best = Some((spec.path.len(), *s, r));
                    }
                }
            }
            match best {
                Some((_, s, r)) => (s, Some(r)),
                None => (Section::Review, None),
            }
        })
        .collect()
}
