//! JUnit XML, as GitLab (`artifacts:reports:junit`) and Jenkins read it: a test suite per file, a
//! test case per object. A denied object fails, an object the policy failed on or a document that
//! could not be read is an error, a kind the policy does not check is skipped. GitLab shows the
//! failure's text, not its `message` attribute, so the text carries the whole denial.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::ReportContext;
use crate::check::{Outcome, Verdict};

pub fn render(outcomes: &[Outcome], context: &ReportContext) -> String {
    // One suite per file, in the order files first appear.
    let mut suites: Vec<TestSuite> = Vec::new();
    for outcome in outcomes {
        let location = outcome.location();
        let suite = match suites
            .iter()
            .position(|suite| suite.name.as_str() == location.file)
        {
            Some(index) => &mut suites[index],
            None => {
                suites.push(TestSuite::new(location.file.as_str()));
                suites.last_mut().expect("just pushed")
            }
        };
        let (name, status) = match outcome {
            Outcome::Checked {
                object,
                verdict,
                message,
                warnings,
                findings,
                ..
            } => {
                let mut status = match verdict {
                    Verdict::Allowed | Verdict::Warned => TestCaseStatus::success(),
                    Verdict::Denied => TestCaseStatus::non_success(NonSuccessKind::Failure),
                    Verdict::Failed => TestCaseStatus::non_success(NonSuccessKind::Error),
                };
                if let Some(message) = message {
                    let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
                    status
                        .set_message(message.as_str())
                        .set_type(rules.join(", "))
                        .set_description(format!(
                            "{}:{}: {}: {message}",
                            location.file,
                            location.line,
                            object.display()
                        ));
                }
                let mut name = format!("{} (line {})", object.display(), location.line);
                if !warnings.is_empty() && *verdict == Verdict::Warned {
                    name.push_str(" [warned]");
                }
                (name, status)
            }
            Outcome::Skipped { object, .. } => (
                format!("{} (line {})", object.display(), location.line),
                TestCaseStatus::skipped(),
            ),
            Outcome::Error { message, .. } => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message(message.as_str())
                    .set_description(format!("{}:{}: {message}", location.file, location.line));
                (format!("document at line {}", location.line), status)
            }
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(location.file.as_str());
        case.extra
            .insert("file".into(), location.file.as_str().into());
        if let Outcome::Checked { warnings, .. } = outcome
            && !warnings.is_empty()
        {
            case.set_system_out(warnings.join("\n"));
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new(context.policy_name.as_str());
    report.add_test_suites(suites);
    report
        .to_string()
        .expect("a JUnit report of strings always serializes")
}
