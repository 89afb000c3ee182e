//! The committed SDL (`graphql/schema.graphql`) is the schema the server
//! serves: a change to the schema must change the file in the same commit
//! (`cargo run -- sdl > graphql/schema.graphql`), where reviewers and the
//! frontend teams see it.

#[test]
fn the_committed_sdl_is_the_served_schema() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../graphql/schema.graphql"
    ))
    .expect("graphql/schema.graphql is committed");
    let served = motcua_graphql::sdl();
    assert!(
        committed == served,
        "graphql/schema.graphql differs from the served schema; regenerate it with \
         `cargo run -- sdl > graphql/schema.graphql` and review the difference"
    );
}
