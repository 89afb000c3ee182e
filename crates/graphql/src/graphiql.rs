//! The GraphiQL page, with its scripts and styles served from the binary
//! (`assets/graphiql/`, see its README): no CDN, so it works on a network
//! without internet.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

/// (name, media type, gzipped bytes).
const ASSETS: [(&str, &str, &[u8]); 4] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js.gz"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css.gz"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js.gz"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js.gz"),
    ),
];

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>motcua — GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql.min.css">
<style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/react.production.min.js"></script>
<script src="/graphiql/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql.min.js"></script>
<script>
  // Paste a token from `motcua token --unit … --role …` after "Bearer ".
  const headers = JSON.stringify({ Authorization: "Bearer " }, null, 2);
  const query = `# motcua: paste a token (motcua token --unit 000.00.00.H56 --role supervisor)
# after "Bearer " in the Headers tab below, then run.
query MyQueue {
  me { unit roles visibleUnits }
  dossiers(first: 10, filter: { openOnly: true }) {
    edges { node { code procedureCode holderUnit status step dueAt } }
    pageInfo { hasNextPage endCursor }
  }
}
`;
  const fetcher = GraphiQL.createFetcher({ url: "/graphql" });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: query,
      headers,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: true,
    }),
  );
</script>
</body>
</html>
"#;

/// `/graphiql` and its assets.
pub fn routes() -> Router {
    Router::new()
        .route("/graphiql", get(page))
        .route("/graphiql/{asset}", get(asset))
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some((_, media_type, bytes)) = ASSETS.iter().find(|(asset, ..)| *asset == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
            (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        *bytes,
    )
        .into_response()
}
