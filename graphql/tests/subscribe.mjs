// Subscribes to motcua's dossierChanged with the graphql-ws client:
// `node subscribe.mjs WS_URL TOKEN COUNT SECONDS [UNIT]`. Prints
// "connected" once the server accepted the connection, then each event's
// data as a JSON line; exits after COUNT events ("done"), after SECONDS
// ("timeout"), or when the server closes the connection ("closed CODE").
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, count, seconds, unit] = process.argv.slice(2);
let received = 0;
const finish = (line) => {
  console.log(line);
  process.exit(0);
};
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 0,
  connectionParams: { Authorization: `Bearer ${token}` },
  on: {
    connected: () => console.log("connected"),
    closed: (event) => finish(`closed ${event.code}`),
  },
});
setTimeout(() => finish("timeout"), Number(seconds) * 1000);
client.subscribe(
  {
    query: "subscription($unit: String) { dossierChanged(unit: $unit) { code status holderUnit identityNumber } }",
    variables: { unit: unit ?? null },
  },
  {
    next: (value) => {
      console.log(JSON.stringify(value));
      received += 1;
      if (received >= Number(count)) finish("done");
    },
    error: (error) => finish(`error ${JSON.stringify(error)}`),
    complete: () => finish("complete"),
  },
);
