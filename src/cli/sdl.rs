//! `motcua sdl`: prints the GraphQL schema the server serves, in SDL.

pub fn run() {
    print!("{}", motcua_graphql::sdl());
}
