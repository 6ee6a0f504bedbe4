//! Lists that fit the strictest host. Codex cuts a tool result at about 10 KiB or 256 lines,
//! mid-JSON (openai/codex#6544, #14466), so every list answers a page: as many items as fit
//! [`ITEMS_BUDGET`] bytes of compact JSON (the whole structured content stays under 8 KiB) and
//! [`MAX_ITEMS`] lines, with the total, an opaque cursor and the next call spelled out.

use crate::errors::ToolError;
use serde::Serialize;

/// The bytes of compact JSON a page's items may take (the envelope takes the rest of 8 KiB).
pub const ITEMS_BUDGET: usize = 6 * 1024;
/// The most items a page lists (each is one line of the text; the text stays under 200 lines).
pub const MAX_ITEMS: usize = 50;

/// One page of a list.
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    /// Where the next page starts, when there is one.
    pub next_cursor: Option<String>,
}

/// The offset a cursor names (`None`: the first page). A cursor is what this server handed out:
/// anything else is refused with the fix.
pub fn offset_of(cursor: Option<&str>, tool: &str) -> Result<usize, ToolError> {
    let Some(c) = cursor.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    c.strip_prefix("p")
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(|| {
            ToolError::invalid(format!(
                "cursor {:?} is not one {tool} handed out",
                c.chars().take(40).collect::<String>()
            ))
            .next(format!("call {tool} without a cursor for the first page"))
        })
}

/// The page of `all` that starts at `offset`, at most `max` items, cut where the items'
/// compact JSON would pass [`ITEMS_BUDGET`] (always at least one item, which is itself
/// bounded by the caller).
pub fn page<T: Serialize>(all: Vec<T>, offset: usize, max: usize) -> Page<T> {
    let total = all.len();
    let mut items = Vec::new();
    let mut bytes = 2; // []
    for item in all.into_iter().skip(offset).take(max.min(MAX_ITEMS)) {
        let size = serde_json::to_vec(&item).map_or(0, |v| v.len()) + 1;
        if !items.is_empty() && bytes + size > ITEMS_BUDGET {
            break;
        }
        bytes += size;
        items.push(item);
    }
    let end = offset.saturating_add(items.len());
    Page {
        next_cursor: (end < total).then(|| format!("p{end}")),
        items,
        total,
    }
}

/// What a view says beside its page of items (flattened into it): the total, and when there is
/// more, the cursor and the next call spelled out for the model.
#[derive(Debug, Serialize)]
pub struct PageInfo {
    pub total: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
}

impl PageInfo {
    /// The text's last line, when there is more to list.
    pub fn push_next_line(&self, text: &mut String) {
        if let Some(n) = &self.next_step {
            text.push_str(&format!("Next: {n}\n"));
        }
    }
}

impl<T> Page<T> {
    /// The items, and what the view says beside them (`what` names them: "jobs").
    pub fn split(self, tool: &str, what: &str) -> (Vec<T>, PageInfo) {
        let next_step = self.next_cursor.as_ref().map(|c| {
            format!(
                "{} of {} {what} shown: call {tool} with cursor \"{c}\" for the next ones",
                self.items.len(),
                self.total
            )
        });
        let info = PageInfo {
            total: self.total,
            next_cursor: self.next_cursor,
            next_step,
        };
        (self.items, info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_list_once_and_stay_in_budget() {
        let all: Vec<String> = (0..1000)
            .map(|i| format!("item {i} {}", "x".repeat(i % 300)))
            .collect();
        let (mut offset, mut seen) = (0, 0);
        loop {
            let p = page(all.clone(), offset, MAX_ITEMS);
            assert!(serde_json::to_vec(&p.items).unwrap().len() <= ITEMS_BUDGET);
            assert!(!p.items.is_empty() && p.items.len() <= MAX_ITEMS);
            assert_eq!(p.total, 1000);
            seen += p.items.len();
            match p.next_cursor {
                Some(c) => offset = offset_of(Some(&c), "list_jobs").unwrap(),
                None => break,
            }
        }
        assert_eq!(seen, 1000);
        assert!(offset_of(Some("garbage"), "list_jobs").is_err());
        assert_eq!(offset_of(None, "list_jobs").unwrap(), 0);
    }
}
