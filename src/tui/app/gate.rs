//! The safety gate: `--readonly`, then RBAC (a SelfSubjectAccessReview), then a confirmation
//! that defaults to Cancel, before any action that writes.

use super::*;

/// The result of an RBAC check for a guarded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessVerdict {
    /// The check was sent and has not answered yet.
    Pending,
    Allowed,
    /// The platform said no; the authorizer's reason (may be empty).
    Denied(String),
    /// The check itself failed (unreachable, timed out...). The API server still enforces RBAC
    /// on the action, so the user may go ahead.
    Unknown(String),
}

/// What the safety gate does with a guarded action at a given point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateDecision {
    Refuse(Toast),
    AskToConfirm,
}

/// The safety gate's rule, in one place: read-only refuses everything, a denied RBAC check
/// refuses and names the missing permission, anything else is asked.
pub fn gate(
    readonly: bool,
    action: &str,
    access: Option<&Access>,
    verdict: &AccessVerdict,
) -> GateDecision {
    if readonly {
        return GateDecision::Refuse(Toast::error(
            format!("read-only: refused to {action}"),
            Some("restart without --readonly to make changes".to_string()),
        ));
    }
    match verdict {
        AccessVerdict::Denied(reason) => {
            let missing = access.map_or_else(|| "the permission".to_string(), access_label);
            let mut message = format!("not allowed to {action}: missing {missing}");
            if !reason.is_empty() {
                message.push_str(&format!(" ({reason})"));
            }
            GateDecision::Refuse(Toast::error(message, Some(grant_hint(access))))
        }
        AccessVerdict::Pending | AccessVerdict::Allowed | AccessVerdict::Unknown(_) => {
            GateDecision::AskToConfirm
        }
    }
}

/// "create on clusters.platform.tkestack.io", the way RBAC rules are read aloud.
pub(super) fn access_label(a: &Access) -> String {
    let mut s = format!("{} on {}", a.verb, a.resource);
    if !a.group.is_empty() {
        s.push('.');
        s.push_str(&a.group);
    }
    if let Some(n) = &a.name {
        s.push('/');
        s.push_str(n);
    }
    if let Some(ns) = &a.namespace {
        s.push_str(&format!(" in {ns}"));
    }
    s
}

/// How to get a missing permission. A cluster-scoped resource can only be granted by a
/// ClusterRoleBinding; a RoleBinding is enough inside a namespace.
pub(super) fn grant_hint(access: Option<&Access>) -> String {
    match access {
        Some(a) => {
            let binding = match &a.namespace {
                Some(ns) => format!("a RoleBinding in {ns}"),
                None => "a ClusterRoleBinding".to_string(),
            };
            let mut what = format!("{} on {}", a.verb, a.resource);
            if !a.group.is_empty() {
                what.push('.');
                what.push_str(&a.group);
            }
            format!("ask a platform administrator for {binding} granting {what}")
        }
        None => "ask a platform administrator for the RBAC permission".to_string(),
    }
}

pub(super) struct Confirm {
    pub(super) guarded: Guarded,
    pub(super) confirm_focused: bool,
    pub(super) verdict: AccessVerdict,
    /// The RBAC check this dialog waits for (its request id) and when it stops waiting. An
    /// answer with another id is stale (a dialog since closed asked it) and is dropped.
    pub(super) check: Option<(RequestId, Instant)>,
    /// Confirmed while the check was still out: the command goes once the check allows it.
    pub(super) confirmed_early: bool,
}

impl App {
    /// An engine answer counts only when it answers the check the open confirmation waits for.
    pub(super) fn on_access_answer(
        &mut self,
        id: RequestId,
        access: &Access,
        result: &Result<AccessDecision, KubeFailure>,
        now: Instant,
    ) {
        let waiting = matches!(&self.mode, Mode::Confirm(c) if c.check.is_some_and(|(w, at)| w == id && at > now));
        if !waiting {
            tracing::debug!(access = %access_label(access), "stale RBAC answer ignored");
            return;
        }
        let verdict = match result {
            Ok(d) if d.allowed => AccessVerdict::Allowed,
            Ok(d) => AccessVerdict::Denied(d.reason.clone()),
            Err(f) => AccessVerdict::Unknown(f.to_string()),
        };
        self.on_access_verdict(verdict, now);
    }

    /// The answer to an RBAC check for the action waiting for confirmation.
    pub fn on_access_verdict(&mut self, verdict: AccessVerdict, now: Instant) {
        let Mode::Confirm(c) = std::mem::replace(&mut self.mode, Mode::Normal) else {
            return;
        };
        let mut c = *c;
        c.check = None;
        c.verdict = verdict.clone();
        self.dirty = true;
        let decision = gate(
            self.readonly,
            &c.guarded.title,
            c.guarded.access.as_ref(),
            &verdict,
        );
        match (decision, &verdict) {
            (GateDecision::Refuse(t), _) => {
                tracing::info!(action = %c.guarded.title, "guarded action refused by RBAC");
                self.push_toast(t, now);
            }
            (GateDecision::AskToConfirm, AccessVerdict::Allowed) if c.confirmed_early => {
                self.send_guarded(c, now);
            }
            (GateDecision::AskToConfirm, _) => {
                // An early confirmation was given before the user could read this outcome (a
                // failed check); they confirm again having seen it.
                c.confirmed_early = false;
                self.mode = Mode::Confirm(Box::new(c));
            }
        }
    }

    pub(super) fn send_guarded(&mut self, c: Confirm, now: Instant) {
        tracing::info!(action = %c.guarded.title, "guarded action confirmed");
        self.push_toast(Toast::info(format!("sent: {}", c.guarded.title)), now);
        self.outbox.push(Outgoing::Engine(c.guarded.command));
    }

    pub(super) fn confirm_key(&mut self, mut c: Confirm, key: KeyEvent, now: Instant) {
        match dialog_key(&mut c.confirm_focused, &key) {
            DialogKey::Cancel => {
                self.push_toast(Toast::info(format!("cancelled: {}", c.guarded.title)), now);
            }
            // Typed ahead of the RBAC answer: remembered, and sent only if the check allows it.
            DialogKey::Confirm if c.check.is_some() => {
                c.confirmed_early = true;
                self.mode = Mode::Confirm(Box::new(c));
            }
            DialogKey::Confirm => self.send_guarded(c, now),
            DialogKey::Moved => {
                c.confirmed_early &= c.confirm_focused;
                self.mode = Mode::Confirm(Box::new(c));
            }
            DialogKey::Ignored => {
                self.dirty = false;
                self.mode = Mode::Confirm(Box::new(c));
            }
        }
    }

    /// The safety gate: read-only refuses at once; otherwise the RBAC check goes out and the
    /// confirmation opens, saying it is checking, and `on_access_answer` settles it.
    pub(super) fn guard(&mut self, guarded: Guarded, now: Instant) {
        let access = guarded.access.clone();
        if let GateDecision::Refuse(t) = gate(
            self.readonly,
            &guarded.title,
            access.as_ref(),
            &AccessVerdict::Pending,
        ) {
            self.push_toast(t, now);
            return;
        }
        let (verdict, check) = match access {
            None => (AccessVerdict::Allowed, None),
            Some(access) => {
                let id = RequestId::next();
                let expires = now + ACCESS_CHECK_TIMEOUT;
                self.outbox
                    .push(Outgoing::Engine(Command::Kube(KubeCommand::CheckAccess {
                        id,
                        access,
                    })));
                (AccessVerdict::Pending, Some((id, expires)))
            }
        };
        self.mode = Mode::Confirm(Box::new(Confirm {
            guarded,
            confirm_focused: false,
            verdict,
            check,
            confirmed_early: false,
        }));
    }

    pub(super) fn render_confirm(&self, frame: &mut Frame, body: Rect, c: &Confirm) {
        let (rbac_text, rbac_role) = match (&c.guarded.access, &c.verdict) {
            (None, _) => ("permission: no RBAC check needed".to_string(), Role::Muted),
            (Some(a), AccessVerdict::Allowed) => (
                format!("permission: allowed to {}", access_label(a)),
                Role::Ok,
            ),
            (Some(a), AccessVerdict::Pending) if c.confirmed_early => (
                format!(
                    "checking permission… ({}); confirmed, goes ahead once allowed",
                    access_label(a)
                ),
                Role::Info,
            ),
            (Some(a), AccessVerdict::Pending) => (
                format!("checking permission… ({})", access_label(a)),
                Role::Info,
            ),
            (Some(a), AccessVerdict::Denied(r)) => (
                format!("permission: {} denied: {r}", access_label(a)),
                Role::Fail,
            ),
            (Some(a), AccessVerdict::Unknown(e)) => (
                format!(
                    "permission: could not check {}: {e}. The platform still enforces RBAC; \
                     you may confirm anyway.",
                    access_label(a)
                ),
                Role::Warn,
            ),
        };
        let paragraphs = [
            (c.guarded.title.clone(), Role::Title),
            (c.guarded.detail.clone(), Role::Text),
            (rbac_text, rbac_role),
        ];
        self.render_dialog(frame, body, &paragraphs, "Confirm", c.confirm_focused);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::test_support::*;

    fn create_access() -> Access {
        Access {
            verb: "create".into(),
            group: "platform.tkestack.io".into(),
            resource: "clusters".into(),
            namespace: None,
            name: None,
        }
    }

    fn guarded_with(access: Option<Access>) -> Effect {
        Effect::Guarded(Guarded {
            title: "create cluster demo".into(),
            detail: "3 control-plane nodes".into(),
            access,
            command: Command::Shutdown,
        })
    }

    fn guarded() -> Effect {
        guarded_with(Some(create_access()))
    }

    fn answer(id: RequestId, result: Result<AccessDecision, KubeFailure>) -> Event {
        Event::Kube(KubeEvent::Access {
            id,
            access: create_access(),
            result,
        })
    }

    fn allowed(id: RequestId) -> Event {
        answer(
            id,
            Ok(AccessDecision {
                allowed: true,
                reason: String::new(),
            }),
        )
    }

    fn denied(id: RequestId) -> Event {
        answer(
            id,
            Ok(AccessDecision {
                allowed: false,
                reason: "no RBAC policy matched".into(),
            }),
        )
    }

    /// Opens the gate on `guarded()`, checks that it asked the engine first, and returns the
    /// id the answer must carry.
    fn open_gate(a: &mut App, now: Instant) -> RequestId {
        a.apply_effects(PaneId::Create, vec![guarded()], now);
        assert!(a.confirm_open());
        match sent(a).as_slice() {
            [Command::Kube(KubeCommand::CheckAccess { id, access })] => {
                assert_eq!(access, &create_access());
                *id
            }
            other => panic!("expected an access check, got {other:?}"),
        }
    }

    #[test]
    fn guarded_actions_are_refused_in_readonly_without_a_check() {
        let now = Instant::now();
        let mut a = app(true);
        a.apply_effects(PaneId::Create, vec![guarded()], now);
        assert!(!a.confirm_open());
        assert!(a.take_outbox().is_empty());
        assert!(a.toasts().any(|t| t.message.starts_with("read-only")));
    }

    #[test]
    fn denied_check_refuses_and_names_the_missing_permission() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        assert!(screen(&mut a).contains("checking permission…"));
        // Confirming ahead of the answer must not get past a denial.
        a.on_key(key(KeyCode::Char('y')), now);
        a.on_key(key(KeyCode::Enter), now);
        a.on_engine_event(denied(check), now);
        assert!(!a.confirm_open());
        assert!(sent(&mut a).is_empty());
        let t = a
            .toasts()
            .find(|t| t.message.contains("not allowed"))
            .expect("a refusal toast");
        assert!(
            t.message
                .contains("missing create on clusters.platform.tkestack.io"),
            "{t:?}"
        );
        assert!(t.message.contains("no RBAC policy matched"), "{t:?}");
        assert_eq!(
            t.hint.as_deref(),
            Some(
                "ask a platform administrator for a ClusterRoleBinding granting create on \
                 clusters.platform.tkestack.io"
            )
        );
    }

    #[test]
    fn allowed_check_enables_confirm() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        a.on_engine_event(allowed(check), now);
        assert!(a.confirm_open());
        assert!(sent(&mut a).is_empty());
        assert!(screen(&mut a).contains("permission: allowed to create on clusters"));
        a.on_key(key(KeyCode::Char('y')), now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(!a.confirm_open());
        assert!(matches!(sent(&mut a).as_slice(), [Command::Shutdown]));
    }

    #[test]
    fn confirm_typed_ahead_goes_once_allowed() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        a.on_key(key(KeyCode::Char('y')), now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.confirm_open());
        assert!(sent(&mut a).is_empty());
        assert!(screen(&mut a).contains("goes ahead once allowed"));
        a.on_engine_event(allowed(check), now);
        assert!(!a.confirm_open());
        assert!(matches!(sent(&mut a).as_slice(), [Command::Shutdown]));
    }

    #[test]
    fn failed_check_lets_the_user_decide() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        a.on_key(key(KeyCode::Char('y')), now);
        a.on_key(key(KeyCode::Enter), now);
        a.on_engine_event(
            answer(
                check,
                Err(KubeFailure::new(
                    crate::engine::kube::FailureKind::Unreachable,
                    "connection refused",
                    None,
                )),
            ),
            now,
        );
        // The early confirmation was given before the failure was visible: ask again.
        assert!(a.confirm_open());
        assert!(sent(&mut a).is_empty());
        let s = screen(&mut a);
        assert!(s.contains("could not check"), "{s}");
        assert!(s.contains("connection refused"), "{s}");
        a.on_key(key(KeyCode::Enter), now);
        assert!(matches!(sent(&mut a).as_slice(), [Command::Shutdown]));
    }

    #[test]
    fn unanswered_check_times_out_into_a_decision() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        let deadline = a.next_deadline().expect("the check has a deadline");
        assert_eq!(deadline, now + ACCESS_CHECK_TIMEOUT);
        a.tick(deadline);
        assert!(a.confirm_open());
        assert!(screen(&mut a).contains("no answer from the platform"));
        assert_eq!(a.next_deadline(), None);
        // The late answer finds nothing waiting for it.
        a.on_engine_event(denied(check), now);
        assert!(a.confirm_open());
    }

    #[test]
    fn stale_and_unrelated_access_answers_are_ignored() {
        let now = Instant::now();
        let mut a = app(false);
        // No dialog: nothing to do.
        a.on_engine_event(denied(RequestId::next()), now);
        assert!(a.toasts().next().is_none());

        let first = open_gate(&mut a, now);
        a.on_key(key(KeyCode::Esc), now);
        let second = open_gate(&mut a, now);
        // Another question entirely.
        a.on_engine_event(
            Event::Kube(KubeEvent::Access {
                id: RequestId::next(),
                access: Access {
                    verb: "delete".into(),
                    ..create_access()
                },
                result: Ok(AccessDecision {
                    allowed: false,
                    reason: String::new(),
                }),
            }),
            now,
        );
        assert!(a.confirm_open());
        // The answer to the cancelled dialog's check comes first and is dropped.
        a.on_engine_event(denied(first), now);
        assert!(a.confirm_open());
        assert!(screen(&mut a).contains("checking permission…"));
        a.on_engine_event(allowed(second), now);
        assert!(a.confirm_open());
        assert!(screen(&mut a).contains("permission: allowed"));
    }

    #[test]
    fn confirmation_defaults_to_cancel() {
        let now = Instant::now();
        let mut a = app(false);
        let unchecked = || guarded_with(None);
        a.apply_effects(PaneId::Create, vec![unchecked()], now);
        assert!(a.confirm_open());
        a.on_key(key(KeyCode::Enter), now);
        assert!(!a.confirm_open());
        assert!(a.take_outbox().is_empty());

        a.apply_effects(PaneId::Create, vec![unchecked()], now);
        a.on_key(key(KeyCode::Char('y')), now);
        assert!(a.confirm_open());
        a.on_key(key(KeyCode::Enter), now);
        assert!(matches!(
            a.take_outbox().as_slice(),
            [Outgoing::Engine(Command::Shutdown)]
        ));

        a.apply_effects(PaneId::Create, vec![unchecked()], now);
        a.on_key(key(KeyCode::Tab), now);
        a.on_key(key(KeyCode::Esc), now);
        assert!(a.take_outbox().is_empty());
    }

    #[test]
    fn denied_access_closes_the_dialog() {
        let now = Instant::now();
        let mut a = app(false);
        a.apply_effects(PaneId::Create, vec![guarded()], now);
        a.on_access_verdict(AccessVerdict::Denied("no create on clusters".into()), now);
        assert!(!a.confirm_open());
        assert!(a.toasts().any(|t| t.message.contains("not allowed")));
    }
}
