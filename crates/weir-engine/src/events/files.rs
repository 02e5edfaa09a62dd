//! Rules managed by weir: `rules/*.yaml` (name = file stem), read at start and by
//! [`Events::reload`], and any other set of definitions' rules (pipelines' and state machines'
//! triggers) through [`Events::set_managed_rules`]. They live in memory only (the files are
//! their truth) and the API reads them but changes none.

use std::sync::Arc;

use weir_model::{Pos, Problem};

use super::model::{Pattern, RuleSpec, parse_rule};
use super::names::DEFAULT_BUS;
use super::rules::check_rule_name;
use super::state::{Managed, Rule};
use super::{Events, now_ms};

/// The set of `rules/*.yaml`.
const RULE_FILES: &str = "rules";

impl Events {
    /// Reads `rules/*.yaml` again and makes the bus's managed rules of that set what the files
    /// say. Returns the problems of files that do not check; such a file's rule stays as it was
    /// last read well (as pipelines' files do), or is left out if it never was.
    pub fn reload(&self) -> Vec<Problem> {
        let dir = self.inner.project_dir.join("rules");
        let mut paths: Vec<std::path::PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        paths.sort();
        let mut problems = Vec::new();
        let mut rules = Vec::new();
        // Files that do not check: their rules as last read stay.
        let mut kept: Vec<String> = Vec::new();
        for path in paths {
            let file = format!(
                "rules/{}",
                path.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            );
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(error) => {
                    problems.push(problem(&file, format!("cannot read the file: {error}")));
                    continue;
                }
            };
            match parse_rule(&file, &name, &text, &self.inner.arns) {
                Ok(spec) => rules.push((file, spec)),
                Err(found) => {
                    problems.extend(found);
                    kept.push(file);
                }
            }
        }
        problems.extend(self.replace_managed(RULE_FILES, rules, &kept));
        problems
    }

    /// Makes the managed rules of `origin` (`rules`, `pipelines`, `machines`, …) exactly
    /// `rules` (each with the file that defines it). A rule whose name an API rule of its bus
    /// already has, or whose bus does not exist, is left out with a problem.
    pub fn set_managed_rules(&self, origin: &str, rules: Vec<(String, RuleSpec)>) -> Vec<Problem> {
        self.replace_managed(origin, rules, &[])
    }

    /// [`Events::set_managed_rules`], keeping the rules `origin` has from the files `kept`.
    fn replace_managed(
        &self,
        origin: &str,
        rules: Vec<(String, RuleSpec)>,
        kept: &[String],
    ) -> Vec<Problem> {
        let mut problems = Vec::new();
        let now = now_ms();
        let mut state = self.lock();
        let mut touched: Vec<String> = Vec::new();
        for bus in state.buses.values_mut() {
            let before = bus.rules.len();
            bus.rules.retain(|_, r| {
                r.managed
                    .as_ref()
                    .is_none_or(|m| m.origin != origin || kept.contains(&m.file))
            });
            if bus.rules.len() != before {
                touched.push(bus.record.name.clone());
            }
        }
        for (file, spec) in rules {
            let bus_name = if spec.bus.is_empty() {
                DEFAULT_BUS.to_string()
            } else {
                spec.bus.clone()
            };
            if let Err(error) = check_rule_name(&spec.name) {
                problems.push(problem(&file, error.to_string()));
                continue;
            }
            if spec.schedule.is_some() && bus_name != DEFAULT_BUS {
                problems.push(problem(
                    &file,
                    "ScheduleExpression is supported only on the default event bus.".into(),
                ));
                continue;
            }
            let pattern = match spec.pattern.as_ref().map(Pattern::from_value).transpose() {
                Ok(pattern) => pattern,
                Err(error) => {
                    problems.push(problem(&file, error.message));
                    continue;
                }
            };
            let arn = self.inner.arns.rule(&bus_name, &spec.name);
            let Some(bus) = state.buses.get_mut(&bus_name) else {
                problems.push(problem(
                    &file,
                    format!("Event bus {bus_name} does not exist."),
                ));
                continue;
            };
            if let Some(existing) = bus.rules.get(&spec.name) {
                let owner = existing
                    .managed
                    .as_ref()
                    .map_or("the API".to_string(), |m| m.file.clone());
                problems.push(problem(&file, format!(
                        "rule {} already exists on event bus {bus_name} (made by {owner}); this one is left out",
                        spec.name
                    ),
                ));
                continue;
            }
            let rule = Rule {
                bus: bus_name.clone(),
                name: spec.name.clone(),
                arn,
                description: spec.description.clone(),
                pattern_text: spec.pattern.as_ref().map(|p| p.to_string()),
                pattern,
                schedule_text: spec.schedule.as_ref().map(|s| s.to_string()),
                schedule: spec.schedule.clone(),
                enabled: spec.enabled,
                role_arn: None,
                targets: spec.targets.clone(),
                tags: Vec::new(),
                managed: Some(Managed {
                    origin: origin.to_string(),
                    file: file.clone(),
                }),
                created_ms: now,
                updated_ms: now,
            };
            bus.rules.insert(spec.name.clone(), Arc::new(rule));
            touched.push(bus_name);
        }
        touched.sort();
        touched.dedup();
        for bus in touched {
            state.refresh(&bus, &self.inner.arns.bus(&bus));
        }
        drop(state);
        self.inner.schedules.wake();
        problems
    }
}

fn problem(file: &str, message: String) -> Problem {
    Problem::new(file, Pos::new(1, 1), message)
}
