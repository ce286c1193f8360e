use super::*;
use crossterm::event::KeyModifiers;

/// The pane drawn on a `w`x`h` test terminal at the fixed test clock.
fn draw(p: &mut DraftsPane, w: u16, h: u16) -> ratatui::buffer::Buffer {
    let theme = crate::config::theme::Theme::default();
    let mut t =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| {
        let ctx = RenderCtx {
            theme: &theme,
            now: Utc.with_ymd_and_hms(2026, 1, 15, 10, 0, 0).unwrap(),
            readonly: false,
            sandbox: false,
        };
        p.render(f, f.area(), &ctx);
    })
    .expect("draw");
    t.backend().buffer().clone()
}

#[test]
fn a_listing_shows_unreadable_files_with_path_and_reason() {
    let mut p = DraftsPane::new();
    let future = UnreadableDraft {
        file: PathBuf::from("/data/drafts/gpu-1.json"),
        problem: Problem::Newer {
            format: DRAFT_FORMAT + 1,
        },
        reason: "written by a newer acp-cockpit; upgrade to open it".into(),
    };
    let listed = |unreadable: Vec<UnreadableDraft>| Event::Drafts {
        id: crate::engine::RequestId(0),
        event: DraftEvent::Listed(crate::engine::store::Listing {
            drafts: Vec::new(),
            unreadable,
        }),
    };
    p.on_event(&listed(vec![future.clone()]));
    let buf = draw(&mut p, 120, 20);
    let text: String = (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains(
            "/data/drafts/gpu-1.json: written by a newer acp-cockpit; upgrade to open it"
        ),
        "{text}"
    );
    assert!(text.contains("left as it is"), "{text}");
    // The next listing is the directory as it is now; a file gone since is not kept.
    p.on_event(&listed(Vec::new()));
    assert_eq!(p.banner_height(), 0);
}

#[test]
fn tab_in_a_prompt_stays_in_the_prompt() {
    let mut p = DraftsPane::demo();
    p.on_action("import");
    assert!(p.wants_text_input());
    let fx = p.on_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(fx.map(|v| v.len()), Some(0), "the pane keeps Tab");
    assert!(p.wants_text_input());
}

#[test]
fn delete_needs_an_explicit_yes() {
    let mut p = DraftsPane::demo();
    assert!(p.on_action("delete").is_empty());
    assert!(p.wants_text_input());
    let fx = p
        .on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
        .unwrap();
    assert!(fx.is_empty(), "Enter alone must cancel");
    p.on_action("delete");
    p.on_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE));
    let fx = p
        .on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
        .unwrap();
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Drafts { cmd: DraftCommand::Delete { name }, .. })] if name == "worker-3"
    ));
}

#[test]
fn export_asks_before_replacing_a_file() {
    let mut p = DraftsPane::demo();
    p.on_action("export");
    let fx = p
        .on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
        .unwrap();
    let (name, to) = match fx.as_slice() {
        [
            Effect::Engine(Command::Drafts {
                cmd:
                    DraftCommand::Export {
                        name,
                        to,
                        overwrite: false,
                    },
                ..
            }),
        ] => (name.clone(), to.clone()),
        other => panic!("expected an export, got {other:?}"),
    };
    // The engine found the file there: the pane asks, Enter alone keeps it.
    p.on_event(&Event::Drafts {
        id: crate::engine::RequestId(0),
        event: DraftEvent::Failed {
            action: "export draft".into(),
            error: crate::engine::store::StoreError::FileExists(to.clone()),
        },
    });
    assert!(p.wants_text_input());
    p.on_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE));
    let fx = p
        .on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
        .unwrap();
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Drafts {
            cmd: DraftCommand::Export { name: n, to: t, overwrite: true },
            ..
        })] if *n == name && *t == to
    ));
}

#[test]
fn restore_loads_and_opens_create() {
    let mut p = DraftsPane::demo();
    p.on_action("select_next");
    let fx = p.on_action("restore");
    assert!(matches!(
        fx.as_slice(),
        [
            Effect::Engine(Command::Drafts { cmd: DraftCommand::Load { name, restore: true }, .. }),
            Effect::Open(PaneId::Create, None)
        ] if name == "master-2"
    ));
}

#[test]
fn list_and_preview_never_touch() {
    for (w, h) in [(80, 24), (120, 36), (160, 45), (200, 50)] {
        let mut empty = DraftsPane::new();
        empty.on_event(&Event::Drafts {
            id: crate::engine::RequestId(0),
            event: DraftEvent::Listed(crate::engine::store::Listing {
                drafts: Vec::new(),
                unreadable: Vec::new(),
            }),
        });
        for mut p in [DraftsPane::demo(), empty] {
            let buf = draw(&mut p, w, h);
            // The pane's body, as render() lays it out: inside the border, below the
            // corrupt-file lines, above the footer.
            let top = p.banner_height();
            let body = Rect::new(1, 1 + top, w - 2, h - 3 - top);
            let [list, preview] = split_list_preview(body);
            let (gap, cells): (Rect, Vec<(u16, u16)>) = if list.y == preview.y {
                let g = Rect::new(list.right(), list.y, preview.x - list.right(), list.height);
                (
                    g,
                    (g.y..g.bottom())
                        .flat_map(|y| (g.x..g.right()).map(move |x| (x, y)))
                        .collect(),
                )
            } else {
                let g = Rect::new(list.x, list.bottom(), list.width, preview.y - list.bottom());
                (
                    g,
                    (g.y..g.bottom())
                        .flat_map(|y| (g.x..g.right()).map(move |x| (x, y)))
                        .collect(),
                )
            };
            assert!(
                !cells.is_empty(),
                "{w}x{h}: no gap between {list:?} and {preview:?}"
            );
            for (x, y) in cells {
                assert_eq!(
                    buf[(x, y)].symbol(),
                    " ",
                    "{w}x{h}: something is drawn in the gap {gap:?} at ({x},{y})"
                );
            }
        }
    }
}

#[test]
fn the_preview_wraps_instead_of_cutting() {
    let mut p = DraftsPane::demo();
    let i = p
        .drafts()
        .iter()
        .position(|d| d.node.secrets_to_ask().len() > 1)
        .expect("a demo draft asks for several secrets");
    p.selected = i;
    let asks: Vec<&str> = p.drafts()[i]
        .node
        .secrets_to_ask()
        .iter()
        .map(|s| s.label())
        .collect();
    let last = asks.last().copied().unwrap_or_default().to_string();
    let buf = draw(&mut p, 120, 36);
    let top = p.banner_height();
    let [_, preview] = split_list_preview(Rect::new(1, 1 + top, 118, 33 - top));
    let text: String = (preview.y..preview.bottom())
        .map(|y| {
            (preview.x..preview.right())
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&last), "{last:?} not in {flat}");
}

#[test]
fn paths_are_absolute_and_import_errors_are_shown_whole() {
    assert!(expand_home("cp-1.draft.json").is_absolute());
    let mut p = DraftsPane::demo();
    p.on_event(&Event::Drafts {
        id: crate::engine::RequestId(0),
        event: DraftEvent::Failed {
            action: "import draft".into(),
            error: crate::engine::store::StoreError::Io {
                context: "cannot read /tmp/qa/missing.json".into(),
                message: "No such file or directory (os error 2)".into(),
            },
        },
    });
    let Some((_, msg)) = &p.status else {
        panic!("no status")
    };
    assert!(
        msg.ends_with("(check the file's path and that it is readable)"),
        "{msg}"
    );
    assert!(!msg.contains("data directory"), "{msg}");
    let buf = draw(&mut p, 80, 24);
    let text: String = (0..buf.area.height)
        .map(|y| {
            (1..buf.area.width - 1)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("that it is readable)"), "{flat}");
}

#[test]
fn events_fold_into_the_list() {
    let mut p = DraftsPane::demo();
    let ev = Event::Drafts {
        id: crate::engine::RequestId(0),
        event: DraftEvent::Deleted {
            name: "worker-3".into(),
        },
    };
    assert!(p.on_event(&ev));
    assert_eq!(p.drafts().len(), 2);
    assert_eq!(p.drafts()[0].name, "master-2");
}
