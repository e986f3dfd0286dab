import * as path from "node:path"
import { defineConfig } from "vitest/config"

const src = (file: string) => path.resolve(import.meta.dirname, "src", file)

export default defineConfig({
  resolve: {
    alias: [
      { find: /^effect-camunda$/, replacement: src("index.ts") },
      { find: /^effect-camunda\/operations$/, replacement: src("generated/operations.ts") },
      { find: /^effect-camunda\/testkit$/, replacement: src("TestEngine.ts") },
      { find: /^effect-camunda\/(Keys|Models)$/, replacement: src("generated/schemas/$1.ts") },
      { find: /^effect-camunda\/(CamundaClient|CamundaConfig|CamundaError|Auth|Operation|Retry|Backpressure|JobWorker|Search|Eventually|Deployment|Node|UndiciHttpClient)$/, replacement: src("$1.ts") },
      { find: /^effect-camunda\/(.*)$/, replacement: src("generated/$1.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" }
  }
})
