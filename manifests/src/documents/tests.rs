use super::*;

fn items(text: &str) -> Vec<Item> {
    let mut items = Vec::new();
    split_stream("f.yaml", text.as_bytes(), &mut |document| match document {
        Ok(document) => read_document("f.yaml", &document, &mut |item| items.push(item)),
        Err(problem) => items.push(Item::Problem(problem)),
    });
    items
}

fn object_lines(items: &[Item]) -> Vec<(u64, String)> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Object(object) => Some((
                object.location.line,
                object.object["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )),
            Item::Problem(_) => None,
        })
        .collect()
}

#[test]
fn documents_split_at_markers_and_keep_their_lines() {
    let mut splitter =
        DocumentSplitter::new("---\na: 1\n---\n\nb: 2\n...\n--- {c: 3}\n".as_bytes());
    let mut documents = Vec::new();
    while let Some(document) = splitter.next_document().unwrap() {
        documents.push((document.first_line, document.text));
    }
    assert_eq!(
        documents,
        [
            (2, "a: 1\n".to_string()),
            (4, "\nb: 2\n".to_string()),
            (7, "    {c: 3}\n".to_string()),
        ]
    );
}

#[test]
fn helm_output_gives_each_object_its_line_and_template() {
    let text = "---\n# Source: web/templates/empty.yaml\n---\n# Source: web/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\n# Source: web/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n";
    let items = items(text);
    assert_eq!(
        object_lines(&items),
        [(5, "a".to_string()), (11, "b".to_string())]
    );
    let Item::Object(object) = &items[1] else {
        panic!("{items:?}")
    };
    assert_eq!(
        object.helm_source.as_deref(),
        Some("web/templates/deploy.yaml")
    );
}

#[test]
fn lists_are_flattened_and_typed_lists_lend_their_kind() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: b}\n---\napiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: c}\n";
    let items = items(text);
    assert_eq!(
        object_lines(&items),
        [(4, "a".into()), (7, "b".into()), (14, "c".into())]
    );
    let Item::Object(typed) = &items[2] else {
        panic!()
    };
    assert_eq!(typed.object["kind"], "Pod");
    assert_eq!(typed.object["apiVersion"], "v1");
}

#[test]
fn crlf_json_comments_and_empty_documents() {
    let text = "# just a comment\r\n---\r\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j\"}}\r\n---\r\n---\r\n~\r\n";
    assert_eq!(object_lines(&items(text)), [(3, "j".into())]);
}

#[test]
fn bad_yaml_is_reported_at_its_line_and_the_rest_is_read() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: [name\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\n";
    let items = items(text);
    assert_eq!(object_lines(&items), [(1, "a".into()), (9, "c".into())]);
    let problems: Vec<&Problem> = items
        .iter()
        .filter_map(|item| match item {
            Item::Problem(problem) => Some(problem),
            Item::Object(_) => None,
        })
        .collect();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, ProblemKind::Unreadable);
    assert!((5..=8).contains(&problems[0].location.line), "{problems:?}");
}

#[test]
fn documents_that_are_not_objects_are_reported() {
    let items = items("a: 1\n---\n- x\n---\napiVersion: v1\n");
    let kinds: Vec<_> = items
        .iter()
        .map(|item| match item {
            Item::Problem(problem) => (problem.kind, problem.location.line),
            Item::Object(_) => panic!("{item:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (ProblemKind::NotAnObject, 1),
            (ProblemKind::NotAnObject, 3),
            (ProblemKind::NotAnObject, 5)
        ]
    );
}
