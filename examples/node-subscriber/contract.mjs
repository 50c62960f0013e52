// The yongjin event contract as a subscriber outside Go applies it, with only
// docs/EVENTS.md and the published schema files: preload every schema of a
// folder (their https://yongjin.dev/... $ids are identifiers, never fetched),
// validate each whole event with the envelope schema (its type binding
// validates data too), and refuse any number a JavaScript parser may have
// rounded (none beyond 2^53-1 is ever sent).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/** Thrown for an event that breaks the contract; .reason says how. */
export class ContractError extends Error {}

/**
 * loadSchemas compiles the schema files of dir (not its subfolders) and
 * returns validate(text) → the parsed event, which throws a ContractError for
 * an event the schemas or the number rule reject. dir is the published
 * folder (pkg/events/schemas) or the baseline copies (…/schemas/baseline).
 */
export function loadSchemas(dir) {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  let envelopeId = "";
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
    const schema = JSON.parse(readFileSync(join(dir, name), "utf8"));
    ajv.addSchema(schema);
    if (name === "envelope.v1.json") envelopeId = schema.$id;
  }
  if (!envelopeId) throw new Error(`no envelope.v1.json in ${dir}`);
  const envelope = ajv.getSchema(envelopeId);
  return function validate(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch (err) {
      throw new ContractError(`not JSON: ${err.message}`);
    }
    const unsafe = unsafeNumbers(event, "");
    if (unsafe.length > 0) {
      throw new ContractError(`numbers beyond 2^53-1 (rounded by JSON.parse): ${unsafe.slice(0, 3).join(", ")}`);
    }
    if (!envelope(event)) {
      throw new ContractError(`${event.type} ${event.id}: ${ajv.errorsText(envelope.errors, { dataVar: "event" })}`);
    }
    return event;
  };
}

/**
 * unsafeNumbers lists the paths of the integers in v that lie beyond
 * Number.MAX_SAFE_INTEGER in magnitude: JSON.parse has already rounded them.
 */
export function unsafeNumbers(v, path) {
  if (typeof v === "number") {
    return Number.isInteger(v) && !Number.isSafeInteger(v) ? [`${path || "/"} = ${v}`] : [];
  }
  if (v === null || typeof v !== "object") return [];
  const out = [];
  for (const [k, x] of Object.entries(v)) out.push(...unsafeNumbers(x, `${path}/${k}`));
  return out;
}
