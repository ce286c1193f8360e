//! Drafts and other state on disk: atomic writes, locking, backups.

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::Event;

#[derive(Debug)]
pub enum DraftCommand {}

#[derive(Debug, Clone)]
pub enum DraftEvent {}

pub struct DraftEngine {
    #[allow(dead_code)]
    dir: PathBuf,
    #[allow(dead_code)]
    events: mpsc::Sender<Event>,
}

impl DraftEngine {
    pub fn new(dir: PathBuf, events: mpsc::Sender<Event>) -> Self {
        DraftEngine { dir, events }
    }
    pub async fn handle(&mut self, cmd: DraftCommand) {
        match cmd {}
    }
}
