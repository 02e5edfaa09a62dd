//! Cron schedules: a run per data interval, created when the interval ends. With `catchup`, every
//! interval missed since the start date (or since the last one scheduled, e.g. while the server
//! was down) gets a run; without it, only the latest. The end of the last interval scheduled is
//! committed with the runs it created, so a crash can neither lose nor repeat one.

use chrono::Utc;
use weir_store::{RunMutation, ScheduleStateRecord};

use super::commands::scheduled_run_id;
use super::{Core, Timer};
use crate::time::{from_us, to_us};

/// Most runs one scheduling pass creates for a pipeline; the rest follow in the next pass.
const CATCHUP_BATCH: usize = 1000;

impl Core {
    pub(super) fn schedule_all(&mut self) {
        let names: Vec<String> = self.catalog.pipelines.keys().cloned().collect();
        for name in names {
            self.schedule_pipeline(&name);
        }
    }

    pub(super) fn schedule_pipeline(&mut self, name: &str) {
        let Some(version) = self.catalog.pipelines.get(name).cloned() else {
            return;
        };
        let pipeline = &version.pipeline;
        let Some(schedule) = pipeline.schedule.as_ref() else {
            return;
        };
        let state = self
            .schedule_state
            .entry(name.to_string())
            .or_insert_with(|| ScheduleStateRecord {
                pipeline: name.to_string(),
                last_interval_end: None,
                paused: false,
            })
            .clone();
        if state.paused {
            return;
        }
        let now = Utc::now();
        let tz = pipeline.timezone;
        let last_end = state.last_interval_end.map(from_us);
        // Without a start date, the schedule starts when weir first sees the pipeline.
        let start = pipeline.start_date.or(last_end).unwrap_or(now);
        let limit = if pipeline.catchup {
            CATCHUP_BATCH
        } else {
            1_000_000
        };
        let mut due = schedule.due_intervals(tz, start, last_end, now, limit);
        if let Some(end_date) = pipeline.end_date {
            due.retain(|i| i.start <= end_date);
        }
        let more = pipeline.catchup && due.len() == CATCHUP_BATCH;
        if !pipeline.catchup && due.len() > 1 {
            due.drain(..due.len() - 1);
        }
        let first_sight = last_end.is_none() && pipeline.start_date.is_none();
        let mut new_end = state.last_interval_end;
        for interval in due {
            let logical = to_us(interval.start);
            new_end = Some(new_end.unwrap_or(i64::MIN).max(to_us(interval.end)));
            if first_sight
                || self
                    .logical_dates
                    .get(name)
                    .is_some_and(|d| d.contains(&logical))
            {
                continue;
            }
            let id = scheduled_run_id(name, "scheduled", logical);
            let params = serde_json::Value::Object(pipeline.params.clone());
            self.create_run(
                &version,
                id,
                "scheduled",
                logical,
                logical,
                to_us(interval.end),
                params,
                None,
            );
        }
        if first_sight && new_end.is_none() {
            new_end = Some(to_us(now));
        }
        if new_end != state.last_interval_end {
            let record = ScheduleStateRecord {
                pipeline: name.to_string(),
                last_interval_end: new_end,
                paused: false,
            };
            self.schedule_state.insert(name.to_string(), record.clone());
            self.batch.push(RunMutation::PutScheduleState(record));
        }
        let next = if more {
            Some(now)
        } else {
            schedule.next_after(now, tz)
        };
        if let Some(next) = next {
            let within_end = pipeline
                .end_date
                .is_none_or(|end| next <= end + chrono::Duration::days(366));
            if within_end {
                self.timers
                    .retain(|_, t| !matches!(t, Timer::Schedule { pipeline } if pipeline == name));
                self.add_timer(
                    to_us(next),
                    Timer::Schedule {
                        pipeline: name.to_string(),
                    },
                );
            }
        }
    }
}

impl Core {
    /// Reads the project's definitions again, off the core: reading and parsing files must not
    /// hold up every run's transitions. A file that no longer parses keeps its last good
    /// version. The result comes back as `Msg::Reloaded`.
    pub(super) fn reload(
        &mut self,
        reply: Option<tokio::sync::oneshot::Sender<Vec<weir_model::Problem>>>,
    ) {
        let previous = self.catalog.clone();
        let shared = self.shared.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let mut catalog = crate::project::load_pipelines(&shared.project_dir, Some(&previous));
            catalog
                .problems
                .extend(crate::project::check_pools(&catalog, &shared.config));
            let _ = tx.send(super::Msg::Reloaded { catalog, reply });
        });
    }

    /// Puts a freshly loaded catalog in force and reschedules the pipelines that changed.
    pub(super) fn apply_catalog(&mut self, catalog: crate::project::Catalog) {
        for problem in catalog
            .problems
            .iter()
            .filter(|p| !self.catalog.problems.contains(p))
        {
            tracing::warn!("{problem}");
        }
        let changed: Vec<String> = catalog
            .pipelines
            .iter()
            .filter(|(name, v)| {
                self.catalog
                    .pipelines
                    .get(*name)
                    .is_none_or(|old| old.pipeline.version != v.pipeline.version)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in &changed {
            tracing::info!(pipeline = %name, "loaded a new version");
        }
        self.catalog = catalog;
        for name in changed {
            self.schedule_pipeline(&name);
        }
    }

    pub(super) fn pipeline_infos(&self) -> Vec<crate::handle::PipelineInfo> {
        let mut infos: Vec<_> = self
            .catalog
            .pipelines
            .values()
            .map(|v| {
                let p = &v.pipeline;
                let next_run_at = self
                    .timers
                    .iter()
                    .find(|(_, t)| matches!(t, Timer::Schedule { pipeline } if *pipeline == p.name))
                    .map(|((due, _), _)| crate::time::format_us(*due));
                crate::handle::PipelineInfo {
                    name: p.name.clone(),
                    file: p.file.clone(),
                    version: p.version.clone(),
                    description: p.description.clone(),
                    tags: p.tags.clone(),
                    schedule: p.schedule.as_ref().map(|s| s.expr.clone()),
                    timezone: p.timezone.name().to_string(),
                    catchup: p.catchup,
                    paused: self.schedule_state.get(&p.name).is_some_and(|s| s.paused),
                    max_active_runs: p.max_active_runs,
                    params: p.params.clone(),
                    next_run_at,
                    tasks: p
                        .tasks
                        .values()
                        .map(|t| crate::handle::TaskInfo {
                            id: t.id.clone(),
                            action: t.action.kind.clone(),
                            depends_on: t.depends_on.clone(),
                            trigger_rule: t.trigger_rule.name(),
                            retries: t.retry.retries,
                            pool: t.pool.clone(),
                            mapped: t.map_over.is_some(),
                        })
                        .collect(),
                }
            })
            .collect();
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        infos
    }
}
