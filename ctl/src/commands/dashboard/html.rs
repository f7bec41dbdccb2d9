//! HTML building blocks: escaping and the page layout.

/// `text` escaped for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// The pages, in navigation order: (path, title).
pub const PAGES: [(&str, &str); 4] = [
    ("/", "Fleet"),
    ("/rollout", "Rollout"),
    ("/revisions", "Revisions"),
    ("/audit", "Audit"),
];

/// A whole page around `main` (already HTML). `stream` is the SSE path that
/// keeps `main` current; `csrf` goes into a meta tag for the scripts.
pub fn layout(title: &str, current: &str, main: &str, stream: &str, csrf: &str) -> String {
    let navigation: String = PAGES
        .iter()
        .map(|(path, name)| {
            let current = if *path == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<a href=\"{path}\"{current}>{name}</a>")
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"color-scheme\" content=\"light dark\">\
<meta name=\"csrf-token\" content=\"{csrf}\">\
<title>{title} · fleet</title><link rel=\"stylesheet\" href=\"/assets/app.css\"></head>\
<body><a class=\"skip\" href=\"#main\">Skip to content</a>\
<header><strong>fleet</strong><nav aria-label=\"Pages\">{navigation}</nav>\
<span id=\"live\" role=\"status\" aria-live=\"polite\">connecting…</span></header>\
<main id=\"main\" data-stream=\"{stream}\" tabindex=\"-1\">{main}</main>\
<script src=\"/assets/app.js\"></script></body></html>\n",
        title = escape(title),
        csrf = escape(csrf),
        stream = escape(stream),
    )
}

/// A health or state word as a badge.
pub fn badge(word: &str) -> String {
    let class = match word {
        "Healthy" | "Succeeded" | "yes" => "good",
        "Degraded" | "Failed" | "RolledBack" | "no" => "bad",
        "Progressing" | "Baking" | "WaitingApproval" | "Paused" => "busy",
        _ => "quiet",
    };
    format!("<span class=\"badge {class}\">{}</span>", escape(word))
}

/// Unix milliseconds as `2026-12-05 21:00:00 UTC` (empty for 0).
pub fn when(at_ms: u64) -> String {
    if at_ms == 0 {
        return String::new();
    }
    let time = fleet_hub::clock::UtcTime::from_unix_ms(at_ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        time.year, time.month, time.day, time.hour, time.minute, time.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_hub_cannot_inject_markup() {
        assert_eq!(
            escape("<script>\"x\"&'y'</script>"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(when(1_700_000_000_000), "2023-11-14 22:13:20 UTC");
    }
}
