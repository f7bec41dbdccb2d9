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
    let seconds = at_ms / 1000;
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
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
