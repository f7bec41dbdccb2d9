//! Caps on what an agent's reports put into the replicated state.
//!
//! Agent reports are hostile input that ends up in Raft entries and in the
//! state every node keeps, encoded as JSON, where one control character
//! grows to six bytes. So every text is cleaned (control characters other
//! than newline and tab become U+FFFD, which JSON does not escape) and cut
//! to [`MAX_TEXT_BYTES`] with a marker, and a whole status to about
//! [`MAX_STATUS_BYTES`]: apps past the budget are left out and the message
//! says how many. The status batcher keeps each Raft entry under
//! [`MAX_ENTRY_BYTES`] (see [`super::status_batcher`]).

/// Longest text field (a message, an app name, a digest) kept from a
/// report, in bytes, marker included.
pub const MAX_TEXT_BYTES: usize = 4 * 1024;
/// Largest status kept from one report (the sum of its texts plus a fixed
/// allowance per app), in bytes.
pub const MAX_STATUS_BYTES: usize = 64 * 1024;
/// Largest batch of status updates written as one Raft entry, in bytes of
/// its JSON encoding.
pub const MAX_ENTRY_BYTES: usize = 1024 * 1024;
/// Drift events logged from one drift report (the rest are counted).
pub const MAX_DRIFT_EVENTS_LOGGED: usize = 20;
/// Longest name (app, kind, namespace, object) logged from a drift event.
pub const MAX_LOGGED_NAME_BYTES: usize = 256;
/// Longest name (app, group, kind, namespace, object) kept in a cluster's
/// drift history; a drift report adds at most `dashboard.driftHistory`
/// events (its last ones), so a history entry stays a few KiB per event.
pub const MAX_DRIFT_NAME_BYTES: usize = 256;
/// What an app's fields besides its texts cost in the JSON encoding.
pub const APP_OVERHEAD_BYTES: usize = 96;

/// `text` with control characters (other than `\n` and `\t`) replaced by
/// U+FFFD and cut at a character boundary to at most `limit` bytes, with a
/// marker saying how many bytes were dropped.
pub fn capped_text(text: &str, limit: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|character| {
            if character.is_control() && character != '\n' && character != '\t' {
                char::REPLACEMENT_CHARACTER
            } else {
                character
            }
        })
        .collect();
    if cleaned.len() <= limit {
        return cleaned;
    }
    let marker = format!("… [{} bytes cut]", cleaned.len());
    let mut end = limit.saturating_sub(marker.len());
    while end > 0 && !cleaned.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{marker}", &cleaned[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced_and_long_text_is_cut_with_a_marker() {
        assert_eq!(capped_text("ok\nfine\t", 100), "ok\nfine\t");
        assert_eq!(capped_text("a\u{1}b\u{1b}", 100), "a\u{fffd}b\u{fffd}");
        let long = "é".repeat(10_000);
        let capped = capped_text(&long, MAX_TEXT_BYTES);
        assert!(capped.len() <= MAX_TEXT_BYTES, "{}", capped.len());
        assert!(capped.ends_with("… [20000 bytes cut]"), "{capped}");
        // JSON does not grow it: no escapes.
        let json = serde_json::to_string(&capped_text(&"\u{1}".repeat(100_000), 4096)).unwrap();
        assert!(json.len() <= 4096 + 2, "{}", json.len());
    }
}
