//! The `:` prompt: commands from the pane specs and the shell, completion, and running them.

use super::*;

#[derive(Default)]
pub(super) struct Prompt {
    pub(super) input: String,
    /// Shown under the input after Tab found several candidates.
    pub(super) candidates: Vec<String>,
    pub(super) history_pos: Option<usize>,
}

/// The `:` commands: name, argument, help text. Each pane's comes from its spec; the shell adds
/// its own.
pub static COMMANDS: LazyLock<Vec<(&'static str, &'static str, &'static str)>> =
    LazyLock::new(|| {
        let mut v: Vec<_> = SPECS
            .iter()
            .map(|s| (s.key(), s.command.label(), s.command_help))
            .collect();
        v.extend([
            ("ctx", "<name>", "switch the kubeconfig context"),
            ("help", "", "all keys"),
            ("quit", "", "quit (also :q; :q! quits without asking)"),
        ]);
        v
    });

pub(super) fn command_list() -> String {
    COMMANDS
        .iter()
        .map(|(n, a, _)| {
            if a.is_empty() {
                format!(":{n}")
            } else {
                format!(":{n} {a}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn usage(name: &str) -> String {
    COMMANDS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, a, _)| format!(":{n} {a}").trim_end().to_string())
        .unwrap_or_default()
}

/// Completes the command word: a unique match is filled in (with a space when it takes an
/// argument), several matches are extended to their common prefix and returned as candidates.
/// After `ctx ` the argument is completed from `contexts` the same way.
pub fn complete(input: &str, contexts: &[String]) -> (String, Vec<String>) {
    complete_with(input, contexts, &[])
}

/// [`complete`], and after `timeline ` or `etcd ` the argument is completed from `clusters`.
pub fn complete_with(
    input: &str,
    contexts: &[String],
    clusters: &[String],
) -> (String, Vec<String>) {
    if let Some((word, arg)) = input.split_once(' ') {
        let takes_cluster = SPECS
            .iter()
            .any(|s| s.key() == word && matches!(s.command, CommandArg::Cluster(_)));
        let names = match word {
            "ctx" => contexts,
            _ if takes_cluster => clusters,
            _ => &[],
        };
        if arg.contains(' ') {
            return (input.to_string(), Vec::new());
        }
        let cands: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|c| c.starts_with(arg))
            .collect();
        return match cands.as_slice() {
            [] => (input.to_string(), Vec::new()),
            [one] => (format!("{word} {one}"), Vec::new()),
            many => (
                format!("{word} {}", common_prefix(many)),
                many.iter().map(|c| c.to_string()).collect(),
            ),
        };
    }
    let cands: Vec<(&'static str, &'static str)> = COMMANDS
        .iter()
        .filter(|(n, _, _)| n.starts_with(input))
        .map(|(n, a, _)| (*n, *a))
        .collect();
    match cands.as_slice() {
        [] => (input.to_string(), Vec::new()),
        [(n, a)] => (
            // An optional argument (`[...]`) is left for the user to start: Enter alone works.
            if a.is_empty() || a.starts_with('[') {
                n.to_string()
            } else {
                format!("{n} ")
            },
            Vec::new(),
        ),
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| *n).collect();
            (
                common_prefix(&names).to_string(),
                names.iter().map(|n| n.to_string()).collect(),
            )
        }
    }
}

/// The longest prefix shared by every word, cut on a character boundary.
pub(super) fn common_prefix<'a>(words: &[&'a str]) -> &'a str {
    let Some(first) = words.first() else {
        return "";
    };
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    &first[..end]
}

impl App {
    pub(super) fn prompt_key(&mut self, mut p: Prompt, key: KeyEvent, now: Instant) {
        match key.code {
            KeyCode::Esc => return,
            KeyCode::Enter => {
                let line = p.input.trim().to_string();
                if !line.is_empty() {
                    self.history.retain(|h| *h != line);
                    self.history.push_back(line.clone());
                    while self.history.len() > MAX_HISTORY {
                        self.history.pop_front();
                    }
                }
                self.run_command(&line, now);
                return;
            }
            KeyCode::Backspace => {
                if p.input.pop().is_none() {
                    // Backspace on an empty prompt closes it, as in vim and k9s.
                    return;
                }
                p.candidates.clear();
            }
            KeyCode::Tab => {
                let (completed, candidates) =
                    complete_with(&p.input, &self.contexts, &self.cluster_names());
                p.input = completed;
                p.candidates = candidates;
            }
            KeyCode::Up | KeyCode::Down if !self.history.is_empty() => {
                let n = self.history.len();
                let pos = match (key.code, p.history_pos) {
                    (KeyCode::Up, None) => Some(n - 1),
                    (KeyCode::Up, Some(i)) => Some(i.saturating_sub(1)),
                    (_, Some(i)) if i + 1 < n => Some(i + 1),
                    _ => None,
                };
                p.history_pos = pos;
                p.input = pos
                    .and_then(|i| self.history.get(i).cloned())
                    .unwrap_or_default();
            }
            KeyCode::Char(ch)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                p.input.push(ch);
                p.candidates.clear();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => p.input.clear(),
            _ => self.dirty = false,
        }
        self.mode = Mode::Prompt(p);
    }

    /// Runs one `:` command line (without the colon).
    pub fn run_command(&mut self, line: &str, now: Instant) {
        let mut words = line.split_whitespace();
        let Some(word) = words.next() else {
            return;
        };
        let arg = words.next().map(str::to_string);
        let extra = words.next().is_some();
        // Quitting on a mistyped line (`:q extra`) would surprise; a quit takes no argument.
        if matches!(word, "q!" | "quit!" | "qa!" | "q" | "quit" | "qa" | "exit") && arg.is_some() {
            self.push_toast(
                Toast::error(
                    format!("`:{word}` takes no argument; nothing was done"),
                    Some("`:q` quits (asking if input would be lost), `:q!` quits at once".into()),
                ),
                now,
            );
            return;
        }
        // As in vim: the plain forms ask when input would be lost, `!` quits regardless.
        if matches!(word, "q!" | "quit!" | "qa!") {
            self.quit = true;
            return;
        }
        if matches!(word, "q" | "quit" | "qa" | "exit") {
            self.request_quit();
            return;
        }
        let matches: Vec<&str> = COMMANDS
            .iter()
            .map(|(n, _, _)| *n)
            .filter(|n| n.starts_with(word))
            .collect();
        let name = match (
            COMMANDS.iter().find(|(n, _, _)| *n == word),
            matches.as_slice(),
        ) {
            (Some((n, _, _)), _) => *n,
            (None, [one]) => one,
            (None, []) => {
                self.push_toast(
                    Toast::error(
                        format!("unknown command `:{word}`"),
                        Some(format!("commands: {}; Tab completes", command_list())),
                    ),
                    now,
                );
                return;
            }
            (None, many) => {
                self.push_toast(
                    Toast::error(
                        format!("`:{word}` is ambiguous: {}", many.join(", ")),
                        Some("type more letters or press Tab".to_string()),
                    ),
                    now,
                );
                return;
            }
        };
        let usage_error = |app: &mut App, msg: String| {
            app.push_toast(
                Toast::error(msg, Some(format!("usage: {}", usage(name)))),
                now,
            );
        };
        if extra {
            usage_error(self, format!("`:{name}` takes at most one argument"));
            return;
        }
        match name {
            "help" => self.mode = Mode::Help { scroll: 0 },
            "quit" => self.request_quit(),
            "ctx" => match arg {
                None if self.contexts.is_empty() => {
                    usage_error(self, "`:ctx` needs a context name".to_string())
                }
                None => {
                    let current = self.header.context.as_deref().unwrap_or("none");
                    self.push_toast(
                        Toast {
                            level: ToastLevel::Info,
                            message: format!("contexts: {}", self.contexts.join(", ")),
                            hint: Some(format!(
                                "current: {current}; :ctx <name> switches, Tab completes"
                            )),
                        },
                        now,
                    );
                }
                Some(ctx) => self.shell_command(ShellCommand::SwitchContext(ctx), now),
            },
            pane => {
                let Some(id) = PaneId::all().find(|p| p.key() == pane) else {
                    return;
                };
                // `:create` passes a manifest path or `draft:<name>` on to the wizard.
                let takes_arg = id.spec().command != CommandArg::None;
                if arg.is_some() && !takes_arg {
                    usage_error(self, format!("`:{pane}` takes no argument"));
                    return;
                }
                // The wizard would ignore anything else without a word; say so here instead.
                if let (PaneId::Create, Some(a)) = (id, arg.as_deref())
                    && !a.starts_with("draft:")
                    && ![".yaml", ".yml", ".json"].iter().any(|e| a.ends_with(e))
                {
                    usage_error(
                        self,
                        format!("`:create {a}`: give a .yaml/.yml/.json manifest or draft:<name>"),
                    );
                    return;
                }
                self.switch_to(id, arg, now);
            }
        }
    }

    /// `:ctx <name>` goes to the kube engine (or the hook, when one is installed). The header
    /// changes only when the engine reports the new context current, so it never claims a
    /// switch that did not happen.
    pub(super) fn shell_command(&mut self, cmd: ShellCommand, now: Instant) {
        let ShellCommand::SwitchContext(ctx) = &cmd;
        // An empty list means the engine has not reported yet; it checks the name itself.
        if !self.contexts.is_empty() && !self.contexts.contains(ctx) {
            self.push_toast(
                Toast::error(
                    format!("no context named {ctx:?} in the kubeconfig"),
                    Some(format!("available: {}", self.contexts.join(", "))),
                ),
                now,
            );
            return;
        }
        if self.header.context.as_deref() == Some(ctx.as_str()) && self.switching_to.is_none() {
            self.push_toast(Toast::info(format!("already on context {ctx}")), now);
            return;
        }
        let commands = match self.shell_hook.as_mut() {
            Some(hook) => match hook(&cmd) {
                Ok(commands) => commands,
                Err(t) => return self.push_toast(t, now),
            },
            None => vec![Command::Kube(KubeCommand::SwitchContext {
                context: ctx.clone(),
            })],
        };
        self.outbox
            .extend(commands.into_iter().map(Outgoing::Engine));
        self.switching_to = Some(ctx.clone());
        self.push_toast(Toast::info(format!("switching to context {ctx}…")), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::test_support::*;

    #[test]
    fn quit_with_an_argument_does_not_quit() {
        let now = Instant::now();
        let mut a = app(false);
        a.run_command("q extra", now);
        assert!(!a.should_quit());
        assert!(a.toasts().any(|t| t.message.contains("takes no argument")));
        a.run_command("q!", now);
        assert!(a.should_quit());
    }

    #[test]
    fn command_prompt_opens_panes_and_reports_unknown_commands() {
        let now = Instant::now();
        let mut a = app(false);
        typed(&mut a, ":timeline demo", now);
        assert!(a.prompt_open());
        a.on_key(key(KeyCode::Enter), now);
        assert!(!a.prompt_open());
        assert_eq!(a.active(), PaneId::Timeline);
        assert_eq!(a.header.cluster.as_deref(), Some("demo"));
        typed(&mut a, ":reg", now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(a.active(), PaneId::Registry);
        typed(&mut a, ":frob", now);
        a.on_key(key(KeyCode::Enter), now);
        let t: Vec<_> = a.toasts().collect();
        assert!(t[0].message.contains("unknown command `:frob`"), "{t:?}");
        assert!(t[0].hint.as_deref().unwrap_or("").contains(":clusters"));
        typed(&mut a, ":ctx", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.toasts().any(|t| t.message.contains("needs a context")));
        typed(&mut a, ":q", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.should_quit());
    }

    #[test]
    fn completion_fills_unique_and_lists_many() {
        let none: Vec<String> = Vec::new();
        assert_eq!(complete("cl", &[]), ("clusters".to_string(), none.clone()));
        assert_eq!(complete("ti", &[]), ("timeline ".to_string(), none.clone()));
        assert_eq!(
            complete("c", &[]),
            ("c".to_string(), strings(&["clusters", "create", "ctx"]))
        );
        assert_eq!(complete("cr", &[]), ("create".to_string(), none.clone()));
        assert_eq!(complete("zz", &[]), ("zz".to_string(), none.clone()));
        let ctxs = strings(&["prod-east", "prod-west", "staging", "ünï"]);
        assert_eq!(
            complete("ctx p", &ctxs),
            (
                "ctx prod-".to_string(),
                strings(&["prod-east", "prod-west"])
            )
        );
        assert_eq!(
            complete("ctx s", &ctxs),
            ("ctx staging".to_string(), none.clone())
        );
        assert_eq!(
            complete("ctx ü", &ctxs),
            ("ctx ünï".to_string(), none.clone())
        );
        assert_eq!(
            complete("ctx x", &ctxs),
            ("ctx x".to_string(), none.clone())
        );
        assert_eq!(
            complete("timeline p", &ctxs),
            ("timeline p".to_string(), none)
        );
        assert_eq!(common_prefix(&["ünï", "üna"]), "ün");
        let now = Instant::now();
        let mut a = app(false);
        typed(&mut a, ":dr", now);
        a.on_key(key(KeyCode::Tab), now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(a.active(), PaneId::Drafts);
    }

    #[test]
    fn create_passes_a_manifest_or_draft_to_the_wizard() {
        let now = Instant::now();
        let opened: std::rc::Rc<std::cell::RefCell<Vec<Option<String>>>> = Default::default();
        let mut a = app_on(vec![Box::new(LivePane {
            id: PaneId::Create,
            every: None,
            opened: opened.clone(),
        })]);
        typed(&mut a, ":create ~/qa/good3.yaml", now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(a.active(), PaneId::Create);
        assert_eq!(a.toast_count(), 0, "{:?}", a.toasts().collect::<Vec<_>>());
        typed(&mut a, ":create draft:demo", now);
        a.on_key(key(KeyCode::Enter), now);
        typed(&mut a, ":create", now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(
            *opened.borrow(),
            vec![
                Some("~/qa/good3.yaml".to_string()),
                Some("draft:demo".to_string()),
                None
            ]
        );
        // A path is not a cluster: the header keeps naming none.
        assert_eq!(a.header.cluster, None);
        // Anything else would be ignored by the wizard, so the prompt says what it takes.
        typed(&mut a, ":create notes.txt", now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(opened.borrow().len(), 3);
        assert!(
            a.toasts().any(|t| t.message.contains("draft:<name>")),
            "{:?}",
            a.toasts().collect::<Vec<_>>()
        );
    }

    fn prompt_input(a: &App) -> (String, Vec<String>) {
        match &a.mode {
            Mode::Prompt(p) => (p.input.clone(), p.candidates.clone()),
            _ => panic!("the prompt is closed"),
        }
    }

    #[test]
    fn tab_completes_cluster_names_for_timeline_and_etcd() {
        use crate::fixtures::clusters as demo;
        let now = Instant::now();
        let mut a = app(false);
        for ev in demo::events() {
            a.on_engine_event(ev, now);
        }
        typed(&mut a, ":timeline ed", now);
        a.on_key(key(KeyCode::Tab), now);
        assert_eq!(prompt_input(&a).0, "timeline edge-lab-02");
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(a.active(), PaneId::Timeline);
        assert_eq!(a.header.cluster.as_deref(), Some("edge-lab-02"));

        typed(&mut a, ":etcd prod-", now);
        a.on_key(key(KeyCode::Tab), now);
        let (input, cands) = prompt_input(&a);
        assert_eq!(input, "etcd prod-");
        assert!(
            cands.len() > 1 && cands.iter().all(|c| c.starts_with("prod-")),
            "{cands:?}"
        );
        a.on_key(key(KeyCode::Esc), now);

        // A deleted cluster is no longer offered; another platform's are not mixed in.
        a.on_engine_event(
            Event::Kube(KubeEvent::ClustersChanged(Delta {
                platform: demo::CONTEXT.into(),
                reset: false,
                applied: Vec::new(),
                deleted: vec!["edge-lab-02".into()],
            })),
            now,
        );
        assert!(!a.cluster_names().contains(&"edge-lab-02".to_string()));
        assert!(a.cluster_names().contains(&"staging".to_string()));
        assert_eq!(
            complete_with("ctx ed", &[], &a.cluster_names()),
            ("ctx ed".to_string(), Vec::new()),
            "contexts and clusters stay apart"
        );
    }

    #[test]
    fn ctx_goes_through_the_hook() {
        let now = Instant::now();
        let mut a = app(false);
        a.shell_hook = Some(Box::new(|c: &ShellCommand| {
            assert_eq!(c, &ShellCommand::SwitchContext("prod".into()));
            Ok(vec![Command::Shutdown])
        }));
        typed(&mut a, ":ctx prod", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(matches!(
            a.take_outbox().as_slice(),
            [Outgoing::Engine(Command::Shutdown)]
        ));
        // Only the engine's report moves the header.
        assert_eq!(a.header.context.as_deref(), Some("global"));
    }

    #[test]
    fn ctx_sends_switch_context_and_the_header_follows_the_engine() {
        let now = Instant::now();
        let mut a = app(false);
        a.set_context_platforms([("prod".to_string(), "acp-prod.example.com".to_string())].into());
        a.header.cluster = Some("demo".into());
        a.on_engine_event(contexts("global", &["global", "prod"]), now);
        assert_eq!(a.contexts(), ["global", "prod"]);
        typed(&mut a, ":ctx pr", now);
        a.on_key(key(KeyCode::Tab), now);
        a.on_key(key(KeyCode::Enter), now);
        match sent(&mut a).as_slice() {
            [Command::Kube(KubeCommand::SwitchContext { context })] => assert_eq!(context, "prod"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(a.header.context.as_deref(), Some("global"));
        assert!(
            a.toasts()
                .any(|t| t.message.contains("switching to context prod"))
        );

        a.on_engine_event(contexts("prod", &["global", "prod"]), now);
        assert_eq!(a.header.context.as_deref(), Some("prod"));
        assert_eq!(a.header.platform, "acp-prod.example.com");
        assert_eq!(a.header.cluster, None);
        assert!(a.toasts().any(|t| t.message == "switched to context prod"));

        typed(&mut a, ":ctx prod", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(sent(&mut a).is_empty());
        assert!(
            a.toasts()
                .any(|t| t.message.contains("already on context prod"))
        );
    }

    #[test]
    fn unknown_ctx_lists_the_available_ones() {
        let now = Instant::now();
        let mut a = app(false);
        a.on_engine_event(contexts("global", &["global", "prod"]), now);
        typed(&mut a, ":ctx nope", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(sent(&mut a).is_empty());
        let t = a
            .toasts()
            .find(|t| t.message.contains("no context named \"nope\""))
            .expect("a toast about the unknown context");
        assert_eq!(t.level, ToastLevel::Error);
        assert_eq!(t.hint.as_deref(), Some("available: global, prod"));

        typed(&mut a, ":ctx", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.toasts().any(|t| t.message == "contexts: global, prod"));
    }

    #[test]
    fn ctx_before_the_engine_reported_contexts_is_left_to_the_engine() {
        let now = Instant::now();
        let mut a = app(false);
        typed(&mut a, ":ctx prod", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(matches!(
            sent(&mut a).as_slice(),
            [Command::Kube(KubeCommand::SwitchContext { .. })]
        ));
    }
}
