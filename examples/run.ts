/**
 * `npm run example -- <name>`: runs one example on the embedded engine (or on the cluster
 * at `CAMUNDA_REST_ADDRESS`).
 */
import type * as Effect from "effect/Effect"
import type { CamundaClient } from "effect-camunda"
import * as backpressure from "./backpressure.js"
import * as inbox from "./inbox.js"
import * as jobWorker from "./job-worker.js"
import * as jobs from "./jobs.js"
import * as messages from "./messages.js"
import * as pagination from "./pagination.js"
import * as quickstart from "./quickstart.js"
import { run } from "./runtime.js"

/** Every example by name. */
export const examples: Readonly<Record<string, Effect.Effect<unknown, unknown, CamundaClient.CamundaClient>>> = {
  inbox: inbox.program,
  jobs: jobs.program,
  "job-worker": jobWorker.program,
  messages: messages.program,
  backpressure: backpressure.program,
  pagination: pagination.program,
  quickstart: quickstart.program
}

const name = process.argv[2]
const example = name === undefined ? undefined : examples[name]
if (example === undefined) {
  console.error(`usage: npm run example -- <${Object.keys(examples).join(" | ")}>`)
  process.exitCode = 2
} else {
  await run(example)
}
