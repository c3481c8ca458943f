//! The mutation score: the suite run against every fault generated from the document
//! ([`crate::faults`]), one reference server per fault and seed, as many at once as asked. A fault
//! is killed when the suite fails under every seed; a survivor is named with why it survived
//! (the suite never sent what fires it, or sent it and no check failed).

use crate::faults::Generated;
use crate::meta::Schema;
use crate::server;
use crate::{Mode, Settings};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the faults come from and the suite runs against.
#[derive(Debug, Clone)]
pub enum Subject {
    /// spec/: its reference server, and the stateful suite.
    Spec,
    /// Any document: its stateful mock ([`crate::mock`]), and the probe of every operation.
    Document {
        /// How the score names it (its path).
        label: String,
        /// The document.
        schema: Arc<Schema>,
    },
}

impl Subject {
    /// How the score names it.
    pub fn label(&self) -> String {
        match self {
            Subject::Spec => "spec/phala-cloud.yaml".into(),
            Subject::Document { label, .. } => label.clone(),
        }
    }

    /// Every fault generated from it.
    pub fn faults(&self) -> Vec<Generated> {
        match self {
            Subject::Spec => crate::spec::generated_faults().to_vec(),
            Subject::Document { schema, .. } => crate::faults::of_document(schema),
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the faults come from.
    pub subject: Subject,
    /// Seeds per fault (0, 1, ... N-1): a fault is killed when every one kills it.
    pub seeds: u64,
    /// Cases per run (per operation for a document).
    pub cases: u32,
    /// Runs at once.
    pub jobs: usize,
    /// Only the faults whose name contains one of these (all when empty).
    pub only: Vec<String>,
}

/// One fault's fate.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Its `--fault` name.
    pub name: String,
    /// What the mutant does.
    pub description: String,
    /// Seeds whose run failed.
    pub killed_by_seeds: Vec<u64>,
    /// Seeds whose run passed.
    pub survived_seeds: Vec<u64>,
    /// The checks that failed, over all seeds.
    pub checks: BTreeSet<String>,
    /// Requests the fault changed, over all seeds.
    pub fired: u64,
    /// Why a run could not happen, if one could not.
    pub error: Option<String>,
}

impl Outcome {
    /// Killed under every seed.
    pub fn killed(&self) -> bool {
        self.survived_seeds.is_empty() && self.error.is_none()
    }

    /// Why it survived, in a sentence; empty when killed.
    pub fn reason(&self) -> String {
        if let Some(e) = &self.error {
            return format!("the suite could not run: {e}");
        }
        if self.killed() {
            return String::new();
        }
        let seeds: Vec<String> = self.survived_seeds.iter().map(u64::to_string).collect();
        if self.fired == 0 {
            format!(
                "never fired: no request the suite sent triggers it ({}); seed(s) {}",
                self.description,
                seeds.join(", ")
            )
        } else {
            format!(
                "fired on {} request(s), and no check failed under seed(s) {} ({})",
                self.fired,
                seeds.join(", "),
                self.description
            )
        }
    }
}

/// The score of a run.
#[derive(Debug, Clone)]
pub struct Score {
    /// The document the faults come from.
    pub document: String,
    /// Every fault's outcome, by name.
    pub outcomes: Vec<Outcome>,
    /// Seeds per fault.
    pub seeds: u64,
    /// Cases per run.
    pub cases: u32,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
    /// What the suite finds against the target with no fault, per seed (`check on field`): a
    /// mutant is killed only by a finding that is not among these.
    pub baseline: Vec<(u64, Vec<String>)>,
}

impl Score {
    /// Faults killed under every seed.
    pub fn killed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.killed()).count()
    }

    /// The faults that survived.
    pub fn survivors(&self) -> Vec<&Outcome> {
        self.outcomes.iter().filter(|o| !o.killed()).collect()
    }

    /// `total`, `killed`, `survivors` (name and reason), and every outcome.
    pub fn json(&self) -> serde_json::Value {
        json!({
            "document": self.document,
            "total": self.outcomes.len(),
            "killed": self.killed(),
            "seeds": self.seeds,
            "cases": self.cases,
            "elapsed_secs": (self.elapsed.as_secs_f64() * 100.0).round() / 100.0,
            "baseline": self.baseline.iter().map(|(seed, found)| json!({
                "seed": seed, "findings": found,
            })).collect::<Vec<_>>(),
            "survivors": self.survivors().iter().map(|o| json!({
                "name": o.name, "reason": o.reason(),
            })).collect::<Vec<_>>(),
            "faults": self.outcomes.iter().map(|o| json!({
                "name": o.name,
                "description": o.description,
                "killed": o.killed(),
                "checks": o.checks,
                "fired": o.fired,
                "killed_by_seeds": o.killed_by_seeds,
                "survived_seeds": o.survived_seeds,
            })).collect::<Vec<_>>(),
        })
    }

    /// The summary people read.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for o in &self.outcomes {
            let fate = if o.killed() { "killed  " } else { "SURVIVED" };
            let by = if o.killed() {
                o.checks.iter().cloned().collect::<Vec<_>>().join(", ")
            } else {
                o.reason()
            };
            let _ = writeln!(s, "{fate} {}  {by}", o.name);
        }
        let total = self.outcomes.len();
        let killed = self.killed();
        let pct = if total == 0 {
            100.0
        } else {
            100.0 * killed as f64 / total as f64
        };
        let _ = writeln!(
            s,
            "\nmutation score on {}: {killed}/{total} killed ({pct:.1}%), {} seed(s) of {} case(s) each, in {:.1} s",
            self.document,
            self.seeds,
            self.cases,
            self.elapsed.as_secs_f64()
        );
        for o in self.survivors() {
            let _ = writeln!(s, "  survivor {}: {}", o.name, o.reason());
        }
        for (seed, found) in &self.baseline {
            if !found.is_empty() {
                let _ = writeln!(
                    s,
                    "  with no fault, seed {seed} finds {} already ({}): a mutant is killed only by a finding beyond these",
                    found.len(),
                    found.join("; ")
                );
            }
        }
        s
    }
}

/// The faults of the subject whose name contains one of `only` (all when empty).
pub fn selected(subject: &Subject, only: &[String]) -> Vec<Generated> {
    subject
        .faults()
        .into_iter()
        .filter(|g| only.is_empty() || only.iter().any(|o| g.name().contains(o.as_str())))
        .collect()
}

/// What one run found: each finding as `check on field (status)`, and the requests the fault
/// changed. The status tells a 404 the clean target gives from a 422 only the mutant does.
type Found = (BTreeSet<String>, u64);

/// A run's findings, or why it could not run.
type Findings = Result<BTreeSet<String>, String>;

/// A mutant's run: the fault's index, the seed, what it found.
type MutantRun = (usize, u64, Result<Found, String>);

/// One run of the suite against the subject's target with `fault` switched on (none: clean).
fn one(
    subject: &Subject,
    fault: Option<&Generated>,
    seed: u64,
    cases: u32,
) -> Result<Found, String> {
    let faults: Vec<Generated> = fault.into_iter().cloned().collect();
    let (report, fired) = match subject {
        Subject::Spec => {
            let srv = server::spawn_mutant(
                0,
                server::DEFAULT_API_KEY,
                &[],
                &faults,
                server::Timing::default(),
            )
            .map_err(|e| format!("cannot start the reference server: {e}"))?;
            let mut s = Settings::new(
                &srv.url,
                Some(server::DEFAULT_API_KEY.into()),
                server::CVM_ID,
            );
            s.onchain_cvm_id = Some(server::ONCHAIN_CVM_ID.into());
            s.cases = cases;
            s.seed = seed;
            s.mode = Mode::Full;
            s.max_response_time = Some(crate::faults::SLOW_LIMIT);
            s.concurrency = 1;
            // The clean reference server passes: the first finding is the fault's.
            s.fail_fast = true;
            // The reference server applies at once: a value that has not shown by then never will.
            s.readback_timeout = Duration::from_millis(300);
            let r = crate::run(&s);
            (r, srv.fired())
        }
        Subject::Document { schema, .. } => {
            let opts = crate::mock::Options {
                faults,
                ..Default::default()
            };
            let srv = crate::mock::spawn(schema.clone(), 0, opts)
                .map_err(|e| format!("cannot start the mock: {e}"))?;
            let mut s = Settings::new(&srv.url, Some(server::DEFAULT_API_KEY.into()), "");
            s.other_api_key = Some(crate::mock::OTHER_API_KEY.into());
            s.cases = cases;
            s.seed = seed;
            s.mode = Mode::Full;
            s.max_response_time = Some(crate::faults::SLOW_LIMIT);
            s.concurrency = 1;
            // The mock applies at once: a read-back that does not show an update will not.
            s.readback_timeout = Duration::from_millis(300);
            let r = crate::probe::run(&s, schema.clone(), &[]);
            (r, srv.fired())
        }
    };
    if let Some(why) = &report.could_not_run {
        return Err(why.clone());
    }
    let found = report
        .violations
        .iter()
        .chain(report.flaky.iter().filter(|v| v.fails_when_flaky()))
        .map(|v| {
            let status = v
                .exchange
                .status()
                .map_or_else(|| "no answer".into(), |s| s.to_string());
            format!("{} on {} ({status})", v.check.name, v.field)
        })
        .collect();
    Ok((found, fired))
}

/// Runs the suite against every selected fault under every seed.
pub fn run(opts: &Options) -> Score {
    let started = Instant::now();
    let faults = selected(&opts.subject, &opts.only);
    // First each seed with no fault, then every fault under every seed.
    let jobs: Vec<(Option<usize>, u64)> = (0..opts.seeds)
        .map(|s| (None, s))
        .chain((0..faults.len()).flat_map(|i| (0..opts.seeds).map(move |s| (Some(i), s))))
        .collect();
    let baseline: Vec<Mutex<Option<Findings>>> =
        (0..opts.seeds).map(|_| Mutex::new(None)).collect();
    let outcomes: Vec<Mutex<Outcome>> = faults
        .iter()
        .map(|g| {
            Mutex::new(Outcome {
                name: g.name(),
                description: g.describe(),
                killed_by_seeds: Vec::new(),
                survived_seeds: Vec::new(),
                checks: BTreeSet::new(),
                fired: 0,
                error: None,
            })
        })
        .collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<MutantRun>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1) {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(i, seed)) = jobs.get(n) else {
                    break;
                };
                let result = one(&opts.subject, i.map(|i| &faults[i]), seed, opts.cases);
                match i {
                    None => {
                        *baseline[seed as usize].lock().expect("baseline lock") =
                            Some(result.map(|(found, _)| found));
                    }
                    Some(i) => results
                        .lock()
                        .expect("results lock")
                        .push((i, seed, result)),
                }
            });
        }
    });
    let baseline: Vec<Findings> = baseline
        .into_iter()
        .map(|b| {
            b.into_inner()
                .expect("baseline lock")
                .unwrap_or_else(|| Err("not run".into()))
        })
        .collect();
    for (i, seed, result) in results.into_inner().expect("results lock") {
        let mut o = outcomes[i].lock().expect("outcome lock");
        let clean = match &baseline[seed as usize] {
            Ok(b) => b,
            Err(e) => {
                o.error = Some(format!("the run with no fault could not run: {e}"));
                continue;
            }
        };
        match result {
            Ok((found, fired)) => {
                o.fired += fired;
                let new: Vec<String> = found.difference(clean).cloned().collect();
                if new.is_empty() {
                    o.survived_seeds.push(seed);
                } else {
                    o.killed_by_seeds.push(seed);
                    o.checks.extend(
                        new.iter()
                            .map(|k| k.split(" on ").next().unwrap_or(k).to_string()),
                    );
                }
            }
            Err(e) => o.error = Some(e),
        }
    }
    let mut outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|o| o.into_inner().expect("outcome lock"))
        .collect();
    for o in &mut outcomes {
        o.killed_by_seeds.sort_unstable();
        o.survived_seeds.sort_unstable();
    }
    Score {
        document: opts.subject.label(),
        outcomes,
        seeds: opts.seeds,
        cases: opts.cases,
        elapsed: started.elapsed(),
        baseline: baseline
            .into_iter()
            .enumerate()
            .map(|(s, b)| (s as u64, b.unwrap_or_default().into_iter().collect()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(killed: &[u64], survived: &[u64], fired: u64) -> Outcome {
        Outcome {
            name: "k:op:f".into(),
            description: "f: does a thing".into(),
            killed_by_seeds: killed.to_vec(),
            survived_seeds: survived.to_vec(),
            checks: BTreeSet::new(),
            fired,
            error: None,
        }
    }

    #[test]
    fn a_survivor_says_why() {
        assert!(outcome(&[0, 1], &[], 3).killed());
        assert_eq!(outcome(&[0, 1], &[], 3).reason(), "");
        let never = outcome(&[], &[0, 1], 0);
        assert!(!never.killed());
        assert!(
            never.reason().starts_with("never fired"),
            "{}",
            never.reason()
        );
        // Killed under one seed and not another is a survivor: the claim is for every seed.
        let some = outcome(&[0], &[1], 5);
        assert!(!some.killed());
        assert!(
            some.reason().contains("fired on 5 request(s)") && some.reason().contains("seed(s) 1"),
            "{}",
            some.reason()
        );
        let broken = Outcome {
            error: Some("no port".into()),
            ..outcome(&[0], &[], 1)
        };
        assert!(!broken.killed() && broken.reason().contains("could not run"));
    }
}
