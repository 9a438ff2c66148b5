#[test]
fn opens() {}
