#!/usr/bin/env node
// yongjin-node-subscriber: an example downstream subscriber in Node. It reads
// yongjin's YONGJIN_EVENTS stream through a durable JetStream consumer of its
// own, validates every event (every type) with the published JSON Schemas,
// and keeps commission totals per creator (estimated and settled fen of the
// latest version of each line, attributed to its order's creator), the same
// totals as the Go example in examples/subscriber.
//
//   node subscriber.mjs --nats-url nats://127.0.0.1:4222 --once
//
// Flags: --nats-url (default nats://127.0.0.1:4222), --durable (default
// commission-totals-node), --schemas (the schema folder, default
// ../../pkg/events/schemas), --once (stop when caught up; otherwise follow
// the stream until SIGINT/SIGTERM), --json (print the totals as JSON).
// Exit status: 0 on success; 1 when an event breaks the contract (it is
// terminated, never retried, and reported) or on a connection error.
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { connect, AckPolicy, DeliverPolicy } from "nats";
import { loadSchemas, ContractError } from "./contract.mjs";
import { Totals } from "./totals.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    "nats-url": { type: "string", default: "nats://127.0.0.1:4222" },
    durable: { type: "string", default: "commission-totals-node" },
    schemas: { type: "string", default: join(here, "..", "..", "pkg", "events", "schemas") },
    once: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

const STREAM = "YONGJIN_EVENTS";
const validate = loadSchemas(flags.schemas);
const totals = new Totals();
const perType = {};
let events = 0;
const violations = [];

const nc = await connect({ servers: flags["nats-url"] });
const jsm = await nc.jetstreamManager();
try {
  await jsm.consumers.info(STREAM, flags.durable);
} catch {
  await jsm.consumers.add(STREAM, {
    durable_name: flags.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: "yongjin.events.>",
    ack_wait: 30_000_000_000, // ns
    max_ack_pending: 1000,
  });
}
const consumer = await nc.jetstream().consumers.get(STREAM, flags.durable);

let stop = false;
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { stop = true; });

while (!stop) {
  const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
  let got = 0;
  let pending = -1;
  for await (const m of batch) {
    got++;
    pending = m.info.pending;
    let event;
    try {
      event = validate(m.string());
    } catch (err) {
      if (!(err instanceof ContractError)) throw err;
      violations.push(`${m.subject} #${m.info.streamSequence}: ${err.message}`);
      m.term();
      continue;
    }
    perType[event.type] = (perType[event.type] ?? 0) + 1;
    events++;
    totals.apply(event);
    m.ack();
  }
  if (flags.once && (got === 0 || pending === 0)) {
    const info = await consumer.info();
    if (info.num_pending === 0) break;
  }
}
await nc.drain();

const rows = totals.rows();
if (flags.json) {
  process.stdout.write(JSON.stringify({ events, per_type: perType, stats: totals.stats, unattributed: totals.unattributed(), violations, totals: rows }) + "\n");
} else {
  for (const r of rows) {
    process.stdout.write(`${r.platform}\t${r.author_id}\t${r.role}\t${r.currency}\t${r.lines}\t${(r.estimated_fen / 100).toFixed(2)}\t${(r.settled_fen / 100).toFixed(2)}\n`);
  }
  process.stderr.write(`${events} events validated (${JSON.stringify(perType)}), ${violations.length} broke the contract; stats ${JSON.stringify(totals.stats)}\n`);
}
for (const v of violations) process.stderr.write(`contract violation: ${v}\n`);
process.exit(violations.length > 0 ? 1 : 0);
