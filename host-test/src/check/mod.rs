//! `host-test check`: the gate before the cluster. It reads manifests as teams have them, sends
//! every object through the policy module as the API server would on CREATE, and reports in the
//! formats CI systems read. One worker per core, each with its own instance of the module; the
//! input is read document by document while the workers evaluate.

pub mod catalogue;
pub mod findings;
pub mod fixes;
pub mod manifests;
pub mod namespaces;
pub mod report;
pub use pod_security_manifests::request;

use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::run::evaluator::{AdmissionResponse, PolicyEvaluator};
use findings::{Finding, findings};
use manifests::{Input, Item, Location, ManifestObject, Problem, ProblemKind, RawDocument};
use request::{ObjectRef, RequestContext, Target};

/// What happened to one object or document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum Outcome {
    /// Evaluated by the policy.
    Checked {
        location: Location,
        object: ObjectRef,
        #[serde(skip_serializing_if = "Option::is_none")]
        helm_source: Option<String>,
        verdict: Verdict,
        /// The denial message, as `kubectl apply` would print it.
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        warnings: Vec<String>,
        findings: Vec<Finding>,
        /// For a denied object the policy's `secureDefaults` would make pass: the JSON patch that
        /// adds what it lacks (RFC 6902, as policy-server sends a mutation).
        #[serde(skip_serializing_if = "Option::is_none")]
        fix: Option<serde_json::Value>,
    },
    /// A kind the policy is not sent.
    Skipped {
        location: Location,
        object: ObjectRef,
    },
    /// A document or file that could not be checked.
    Error {
        location: Location,
        kind: ProblemKind,
        message: String,
    },
}

/// The verdict on one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Allowed,
    /// Allowed, but warned about or recorded by the audit level.
    Warned,
    Denied,
    /// The policy failed on it (code 500): a gate must not let it through either.
    Failed,
}

impl Outcome {
    pub fn location(&self) -> &Location {
        match self {
            Outcome::Checked { location, .. }
            | Outcome::Skipped { location, .. }
            | Outcome::Error { location, .. } => location,
        }
    }

    fn checked(
        object: &ManifestObject,
        object_ref: ObjectRef,
        response: AdmissionResponse,
    ) -> Self {
        let findings = findings(&response);
        let verdict = if response.allowed {
            if findings.is_empty() {
                Verdict::Allowed
            } else {
                Verdict::Warned
            }
        } else if response.status.as_ref().and_then(|status| status.code) == Some(500) {
            Verdict::Failed
        } else {
            Verdict::Denied
        };
        let message =
            (!response.allowed).then(|| response.message().unwrap_or_default().to_string());
        Outcome::Checked {
            location: object.location.clone(),
            object: object_ref,
            helm_source: object.helm_source.clone(),
            verdict,
            message,
            warnings: response.warnings.unwrap_or_default(),
            findings,
            fix: None,
        }
    }
}

impl From<Problem> for Outcome {
    fn from(problem: Problem) -> Self {
        Outcome::Error {
            location: problem.location,
            kind: problem.kind,
            message: problem.message,
        }
    }
}

/// The counts a summary gives.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub checked: usize,
    pub allowed: usize,
    pub denied: usize,
    pub warned: usize,
    pub skipped: usize,
    pub errors: usize,
}

impl Summary {
    pub fn of(outcomes: &[Outcome]) -> Self {
        let mut summary = Summary::default();
        for outcome in outcomes {
            match outcome {
                Outcome::Checked { verdict, .. } => {
                    summary.checked += 1;
                    match verdict {
                        Verdict::Allowed => summary.allowed += 1,
                        Verdict::Warned => summary.warned += 1,
                        Verdict::Denied | Verdict::Failed => summary.denied += 1,
                    }
                }
                Outcome::Skipped { .. } => summary.skipped += 1,
                Outcome::Error { .. } => summary.errors += 1,
            }
        }
        summary
    }
}

/// When the gate fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// An object denied at the enforce level (or one the policy failed on).
    Deny,
    /// Also an object warned about or recorded by the audit level.
    Warn,
}

/// The exit code: 2 when something could not be read, else 1 when the gate fails, else 0.
pub fn exit_code(outcomes: &[Outcome], fail_on: FailOn) -> u8 {
    let summary = Summary::of(outcomes);
    if summary.errors > 0 {
        2
    } else if summary.denied > 0 || (fail_on == FailOn::Warn && summary.warned > 0) {
        1
    } else {
        0
    }
}

/// How to check.
pub struct CheckOptions {
    pub context: RequestContext,
    /// Workers, each with its own instance of the module.
    pub jobs: usize,
    /// The policy with `secureDefaults` enabled, to find the fix for a denied object; `None` when
    /// the module does not take that setting.
    pub fixer: Option<PolicyEvaluator>,
}

/// Documents handed to a worker at a time: fewer hand-overs, and each worker parses its own.
const BATCH: usize = 32;

/// A batch of documents, each with its place in the input and its file.
type Batch = Vec<(usize, Arc<str>, RawDocument)>;

/// Outcomes keyed by their place: the document's, then the item's within it (a `List` has many).
type Placed = Vec<((usize, usize), Outcome)>;

/// Checks every object of `inputs`, in input order. Problems found while listing the inputs come
/// first. This thread splits the input into documents; the workers parse and evaluate them.
pub fn check(
    evaluator: &PolicyEvaluator,
    inputs: &[Input],
    listing_problems: Vec<Problem>,
    options: &CheckOptions,
) -> Vec<Outcome> {
    let jobs = options.jobs.max(1);
    // Bounded: the reader waits for the workers, so memory holds a few batches at a time.
    let (work_sender, work) = sync_channel::<Batch>(jobs * 2);
    let work = Arc::new(Mutex::new(work));
    let (result_sender, results) = std::sync::mpsc::channel::<Placed>();
    let mut placed: Placed = Vec::new();
    let mut index = 0;
    for problem in listing_problems {
        placed.push(((index, 0), problem.into()));
        index += 1;
    }
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let work = Arc::clone(&work);
            let results = result_sender.clone();
            scope.spawn(move || worker(evaluator, &work, &results, options));
        }
        drop(result_sender);
        let mut batch: Batch = Vec::with_capacity(BATCH);
        for input in inputs {
            let file: Arc<str> = input.name().into();
            manifests::split_input(input, &mut |document| {
                match document {
                    Ok(document) => batch.push((index, Arc::clone(&file), document)),
                    Err(problem) => placed.push(((index, 0), problem.into())),
                }
                index += 1;
                if batch.len() == BATCH {
                    // A send fails only when every worker is gone, which ends the scope anyway.
                    let _ =
                        work_sender.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
            });
        }
        if !batch.is_empty() {
            let _ = work_sender.send(batch);
        }
        drop(work_sender);
        placed.extend(results.into_iter().flatten());
    });
    placed.sort_by_key(|(place, _)| *place);
    placed.into_iter().map(|(_, outcome)| outcome).collect()
}

fn worker(
    evaluator: &PolicyEvaluator,
    work: &Mutex<Receiver<Batch>>,
    results: &std::sync::mpsc::Sender<Placed>,
    options: &CheckOptions,
) {
    let mut instance = None;
    loop {
        let next = work.lock().map(|work| work.recv());
        let Ok(Ok(batch)) = next else {
            return;
        };
        let mut outcomes = Vec::new();
        for (index, file, document) in batch {
            let mut item_index = 0;
            manifests::read_document(&file, &document, &mut |item| {
                let outcome = match item {
                    Item::Object(object) => {
                        evaluate(evaluator, &mut instance, object, options, index, item_index)
                    }
                    Item::Problem(problem) => problem.into(),
                };
                outcomes.push(((index, item_index), outcome));
                item_index += 1;
            });
        }
        if results.send(outcomes).is_err() {
            return;
        }
    }
}

/// One object through the module: in the worker's instance, made anew when there is none or an
/// earlier call broke it (a trap or timeout is that object's failure only, as in policy-server).
fn evaluate(
    evaluator: &PolicyEvaluator,
    instance: &mut Option<crate::WarmInstance>,
    mut object: ManifestObject,
    options: &CheckOptions,
    index: usize,
    item_index: usize,
) -> Outcome {
    let uid = format!("check-{index}-{item_index}");
    let (object_ref, request) = match request::target(object.object.take(), &options.context, &uid)
    {
        Target::Evaluated(object_ref, request) => (object_ref, request),
        Target::Skipped(object_ref) => {
            return Outcome::Skipped {
                location: object.location.clone(),
                object: object_ref,
            };
        }
    };
    if instance
        .as_ref()
        .is_none_or(|instance| instance.is_broken())
    {
        *instance = evaluator.module().instantiate_warm().ok();
    }
    let run =
        |evaluator: &PolicyEvaluator, instance: &mut Option<crate::WarmInstance>| match instance {
            Some(instance) => evaluator.validate_in(instance, &request),
            // An instance that cannot even start: the fresh path says why, as policy-server would.
            None => evaluator.validate(&request),
        };
    let response = run(evaluator, instance);
    let denied = !response.allowed;
    let mut outcome = Outcome::checked(&object, object_ref, response);
    if let (true, Some(fixer), Outcome::Checked { fix, .. }) =
        (denied, &options.fixer, &mut outcome)
    {
        let fixed = run(fixer, instance);
        if fixed.allowed {
            *fix = fixed.decoded_patch();
        }
    }
    outcome
}
