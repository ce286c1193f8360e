//! The filter language of the Clusters pane and `clusters --filter`.

use regex::Regex;

use super::*;

/// A field a filter term can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Display,
    Phase,
    Version,
    Type,
    Step,
    /// `is:failed`: the cluster's step, its health check or a node being added is failing.
    Is,
}

#[derive(Debug, Clone)]
enum Term {
    /// Substring of name or display name, case-insensitive.
    Text(String),
    Regex(Regex),
    Field(Field, String),
}

/// A `/` filter: space-separated terms, all of which must match.
///
/// A term is a substring of the name or display name, a regex as `/.../` or `re:...`, or a
/// qualifier `phase:Running`, `version:1.28`, `type:` (prefixes), `name:`, `display:`, `step:`,
/// or `is:failed` / `is:creating`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    terms: Vec<Term>,
    source: String,
}

impl Filter {
    pub fn parse(query: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for tok in query.split_whitespace() {
            let regex_src = if let Some(r) = tok.strip_prefix("re:") {
                Some(r)
            } else if tok.len() >= 2 && tok.starts_with('/') && tok.ends_with('/') {
                Some(&tok[1..tok.len() - 1])
            } else {
                None
            };
            if let Some(r) = regex_src {
                let re = regex::RegexBuilder::new(r)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        format!(
                            "invalid regex {r:?}: {}",
                            e.to_string().lines().last().unwrap_or("")
                        )
                    })?;
                terms.push(Term::Regex(re));
                continue;
            }
            if let Some((k, v)) = tok.split_once(':') {
                let field = match k.to_ascii_lowercase().as_str() {
                    "name" => Some(Field::Name),
                    "display" => Some(Field::Display),
                    "phase" => Some(Field::Phase),
                    "version" | "v" => Some(Field::Version),
                    "type" => Some(Field::Type),
                    "step" => Some(Field::Step),
                    "is" => Some(Field::Is),
                    _ => None,
                };
                match field {
                    Some(f) => {
                        terms.push(Term::Field(f, v.to_lowercase()));
                        continue;
                    }
                    None => {
                        return Err(format!(
                            "unknown qualifier {k:?}: use name:, display:, phase:, version:, type:, step: or is:failed"
                        ));
                    }
                }
            }
            terms.push(Term::Text(tok.to_lowercase()));
        }
        Ok(Filter {
            terms,
            source: query.to_string(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, row: &ClusterRow) -> bool {
        self.terms.iter().all(|t| term_matches(t, row))
    }
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if hay.is_ascii() && needle_lower.is_ascii() {
        hay.as_bytes()
            .windows(needle_lower.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(needle_lower.as_bytes()))
            || needle_lower.is_empty()
    } else {
        hay.to_lowercase().contains(needle_lower)
    }
}

fn term_matches(t: &Term, row: &ClusterRow) -> bool {
    match t {
        Term::Text(s) => contains_ci(&row.name, s) || contains_ci(&row.display_name, s),
        Term::Regex(re) => re.is_match(&row.name) || re.is_match(&row.display_name),
        Term::Field(f, v) => match f {
            Field::Name => contains_ci(&row.name, v),
            Field::Display => contains_ci(&row.display_name, v),
            // Prefixes, like version:, so `phase:init` and `type:bare` work.
            Field::Phase => row.phase.to_lowercase().starts_with(v.as_str()),
            Field::Version => row.version.to_lowercase().starts_with(v.as_str()),
            Field::Type => row.type_.to_lowercase().starts_with(v.as_str()),
            Field::Is => match v.as_str() {
                "failed" | "failing" => row.failed,
                "creating" => row.current_step.is_some() && !row.cluster_failed(),
                _ => false,
            },
            Field::Step => row
                .current_step
                .iter()
                .chain(row.failing_node.as_ref().map(|n| &n.step))
                .any(|s| contains_ci(s, v)),
        },
    }
}
