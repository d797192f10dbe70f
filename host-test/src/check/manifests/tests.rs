#[test]
fn folders_are_walked_recursively_and_loops_reported() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    std::fs::create_dir_all(dir.join("b/c")).unwrap();
    std::fs::write(dir.join("a.yaml"), "").unwrap();
    std::fs::write(dir.join("b/c/d.yml"), "").unwrap();
    std::fs::write(dir.join("b/e.json"), "").unwrap();
    std::fs::write(dir.join("b/notes.txt"), "").unwrap();
    std::os::unix::fs::symlink(dir, dir.join("b/c/loop")).unwrap();
    let (inputs, problems) = super::inputs(&[dir.to_path_buf()], "-");
    let names: Vec<String> = inputs
        .iter()
        .map(|input| {
            input
                .name()
                .strip_prefix(&dir.display().to_string())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["/a.yaml", "/b/c/d.yml", "/b/e.json"]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.starts_with("symlink loop"),
        "{problems:?}"
    );
}
