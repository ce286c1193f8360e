//! Toasts: short messages in the corner of the screen, what happened and how to fix it.

use crate::engine::Failure;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Warn,
    Error,
}

/// A message for the user: what happened and, when known, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub level: ToastLevel,
    pub message: String,
    pub hint: Option<String>,
}

impl Toast {
    pub fn error(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Toast {
            level: ToastLevel::Error,
            message: message.into(),
            hint: hint.into(),
        }
    }
    pub fn info(message: impl Into<String>) -> Self {
        Toast {
            level: ToastLevel::Info,
            message: message.into(),
            hint: None,
        }
    }
}

impl From<Failure> for Toast {
    fn from(f: Failure) -> Toast {
        Toast::error(f.message, f.hint)
    }
}
