// The event contract checked from outside Go, with the published files only:
// node --test test/ (scripts/test.sh runs it in make test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { loadSchemas, ContractError } from "../contract.mjs";
import { Totals } from "../totals.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const live = join(root, "pkg", "events", "schemas");
const baseline = join(live, "baseline");

// Every golden event the vendors' tests pin (each line one envelope, as sent).
function goldenEvents() {
  const out = [];
  const vendors = join(root, "pkg", "vendors");
  for (const v of readdirSync(vendors)) {
    let files;
    try {
      files = readdirSync(join(vendors, v, "testdata")).filter((f) => f.endsWith(".golden.jsonl"));
    } catch {
      continue;
    }
    for (const f of files) {
      for (const line of readFileSync(join(vendors, v, "testdata", f), "utf8").split("\n")) {
        if (line.trim() !== "") out.push(line);
      }
    }
  }
  return out;
}

const events = goldenEvents();

test("golden events cover every type", () => {
  const types = new Set(events.map((l) => JSON.parse(l).type));
  assert.deepEqual([...types].sort(), ["commission.v1", "commission_plan.v1", "creator_experience.v1", "order.v1"]);
});

for (const [name, dir] of [["published", live], ["baseline", baseline]]) {
  const validate = loadSchemas(dir);

  test(`${name} schemas accept every golden event`, () => {
    for (const l of events) validate(l);
  });

  test(`${name} schemas accept events that gained an additive field (point 1)`, () => {
    for (const l of events) {
      const e = JSON.parse(l);
      e.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"; // an extension attribute
      e.data.coupon_fen = 150; // a later v1 field
      validate(JSON.stringify(e));
    }
  });

  test(`${name} envelope schema validates data through the type binding (point 2)`, () => {
    const line = JSON.parse(events.find((l) => JSON.parse(l).type === "commission.v1"));
    line.data.role = "buyer";
    assert.throws(() => validate(JSON.stringify(line)), (err) => err instanceof ContractError && /role/.test(err.message));
    const order = JSON.parse(events.find((l) => JSON.parse(l).type === "order.v1"));
    order.dataschema = "https://yongjin.dev/schemas/commission.v1.json";
    assert.throws(() => validate(JSON.stringify(order)), ContractError);
    order.dataschema = "https://yongjin.dev/schemas/order.v1.json";
    order.data.paid_at = "2026-10-03 21:15:07"; // not a date-time
    assert.throws(() => validate(JSON.stringify(order)), ContractError);
    order.data.paid_at = "2026-10-03T25:15:07Z"; // matches the pattern; only format: date-time rejects it (point 3)
    assert.throws(() => validate(JSON.stringify(order)), (err) => err instanceof ContractError && /date-time/.test(err.message));
  });
}

test("the schemas folder loads whole, baseline/ included, into one validator without an $id twice (point 2)", () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  const ids = [];
  for (const dir of [live, baseline]) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
      const schema = JSON.parse(readFileSync(join(dir, name), "utf8"));
      ajv.addSchema(schema); // throws on an $id already added
      ids.push(schema.$id);
    }
  }
  assert.equal(new Set(ids).size, ids.length);
  const line = JSON.parse(events.find((l) => JSON.parse(l).type === "commission.v1"));
  for (const prefix of ["https://yongjin.dev/schemas/", "https://yongjin.dev/schemas/baseline/"]) {
    const envelope = ajv.getSchema(`${prefix}envelope.v1.json`);
    assert.ok(envelope(line), `${prefix}envelope.v1.json: ${ajv.errorsText(envelope.errors)}`);
    assert.equal(envelope({ ...line, data: { ...line.data, role: "buyer" } }), false, `${prefix}envelope.v1.json validates data`);
  }
});

test("no golden event carries a number beyond 2^53-1; such a number is refused (point 4)", () => {
  const validate = loadSchemas(live);
  const snap = events.find((l) => /"latest_order"/.test(l));
  assert.ok(snap, "a creator_experience event with latest_order");
  assert.match(snap, /"order_id":"\d{19}"/, "latest_order.order_id travels as a string");
  validate(snap);
  const rounded = snap.replace(/"order_id":"(\d{19})"/, '"order_id":$1');
  assert.throws(() => validate(rounded), (err) => err instanceof ContractError && /2\^53/.test(err.message));
});

test("every golden event ID recomputes from the documented recipe (point 5)", () => {
  for (const l of events) {
    const e = JSON.parse(l);
    const input = [e.type, e.data.platform, e.data.account, e.subject, String(e.data.version)].join("\0");
    const id = createHash("sha256").update(input, "utf8").digest("hex").slice(0, 32);
    assert.equal(id, e.id, `event ${e.subject}`);
  }
});

test("totals: the latest version wins, duplicates and stale versions change nothing", () => {
  const t = new Totals();
  const order = (id, version, author) => ({ id, type: "order.v1", data: { platform: "p", order_id: "o1", author_id: author, version } });
  const line = (id, version, est, settled) => ({ id, type: "commission.v1", data: { platform: "p", order_id: "o1", role: "creator", currency: "CNY", estimated_fen: est, settled_fen: settled, version } });
  assert.equal(t.apply(line("l1", 1, 100, 0)), true); // before its order: unattributed
  assert.equal(t.unattributed(), 1);
  t.apply(order("a", 1, "au-1"));
  t.apply(line("l2", 2, 120, 120));
  assert.equal(t.apply(line("l2", 2, 120, 120)), false); // duplicate
  assert.equal(t.apply(line("l1", 1, 100, 0)), false); // stale
  t.apply(order("b", 2, "au-2")); // the order moved to another creator
  assert.deepEqual(t.rows(), [{ platform: "p", author_id: "au-2", role: "creator", currency: "CNY", lines: 1, estimated_fen: 120, settled_fen: 120 }]);
  assert.deepEqual(t.stats, { applied: 4, superseded: 2, duplicates: 1, stale: 1, ignored: 0 });
});
