//! The clipboard through the terminal: OSC 52 reaches the user's own terminal even over SSH
//! and inside tmux with `set -g set-clipboard on`, where no local clipboard tool would.

use base64::Engine as _;

/// Largest text sent; terminals drop longer OSC 52 payloads anyway.
pub const LIMIT: usize = 64 * 1024;

/// The escape sequence that sets the clipboard to `text` (cut at [`LIMIT`] bytes on a
/// character boundary).
pub fn osc52(text: &str) -> String {
    let mut end = text.len().min(LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(&text.as_bytes()[..end]);
    format!("\x1b]52;c;{b64}\x07")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_carries_the_text_in_base64() {
        assert_eq!(
            osc52("kubectl get pods"),
            "\x1b]52;c;a3ViZWN0bCBnZXQgcG9kcw==\x07"
        );
        let long = "é".repeat(LIMIT);
        let s = osc52(&long);
        assert!(s.len() < LIMIT * 2);
    }
}
