/**
 * Deployment helpers: in-memory parts and files (Node FileSystem) on the embedded engine,
 * and the summary of decisions, forms and resources from a scripted answer.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { CamundaClient, Deployment, Keys, ProcessDefinition, ProcessInstance, Retry } from "effect-camunda"
import * as Node from "effect-camunda/Node"
import * as TestEngine from "effect-camunda/testkit"
import { processXml } from "./support/engine.js"
import { json, mockHttp } from "./support/mockHttp.js"

const processOf = (id: string) =>
  processXml(
    id,
    `<bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
    <bpmn:endEvent id="end" />`
  )

/** A client on a fresh engine, counting the requests it sends. */
const countingEngine = () => {
  const sent: Array<string> = []
  const http = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(TestEngine.TestEngine, (engine) =>
      HttpClient.tapRequest(engine.httpClient, (request) => Effect.sync(() => sent.push(`${request.method} ${request.url}`))))
  )
  return { sent, layer: CamundaClient.layer({ retry: Retry.none }).pipe(Layer.provide(http), Layer.provideMerge(TestEngine.layer())) }
}

describe("Deployment.deployResources", () => {
  it.effect("deploys strings, bytes and Files and lists the processes with their keys", () =>
    Effect.gen(function*() {
      const deployed = yield* Deployment.deployResources([
        { name: "text.bpmn", content: processOf("text") },
        { name: "bytes.bpmn", content: new TextEncoder().encode(processOf("bytes")) },
        { name: "blob.bpmn", content: new Blob([processOf("blob")]) },
        new File([processOf("file")], "file.bpmn")
      ])
      expect(deployed.tenantId).toBe("<default>")
      expect(deployed.processes.map(({ processDefinitionId, resourceName, version }) => ({ processDefinitionId, resourceName, version })))
        .toEqual([
          { processDefinitionId: "text", resourceName: "text.bpmn", version: 1 },
          { processDefinitionId: "bytes", resourceName: "bytes.bpmn", version: 1 },
          { processDefinitionId: "blob", resourceName: "blob.bpmn", version: 1 },
          { processDefinitionId: "file", resourceName: "file.bpmn", version: 1 }
        ])
      expect(deployed).toMatchObject({ decisions: [], decisionRequirements: [], forms: [], resources: [] })
      // the keys are the engine's: usable at once
      for (const { processDefinitionKey, processDefinitionId } of deployed.processes) {
        expect((yield* ProcessDefinition.getProcessDefinition({ processDefinitionKey })).processDefinitionId).toBe(processDefinitionId)
        yield* ProcessInstance.createProcessInstance({ processDefinitionKey })
      }
      const again = yield* Deployment.deployResources([{ name: "text.bpmn", content: processOf("text").replaceAll("\"end\"", "\"done\"") }])
      expect(again.processes[0]!.version).toBe(2)
      expect(again.deploymentKey).not.toBe(deployed.deploymentKey)
    }).pipe(Effect.provide(countingEngine().layer)))

  it.effect("deploys to a tenant; a refused resource is the operation's typed error", () =>
    Effect.gen(function*() {
      const acme = Keys.TenantId.make("acme")
      const deployed = yield* Deployment.deployResources([{ name: "a.bpmn", content: processOf("a") }], { tenantId: acme })
      expect(deployed.tenantId).toBe("acme")
      expect(deployed.processes[0]!.tenantId).toBe("acme")
      const refused = yield* Effect.flip(Deployment.deployResources([{ name: "broken.bpmn", content: "<nope" }]))
      expect(refused._tag).toBe("BadRequest")
    }).pipe(Effect.provide(countingEngine().layer)))
})

describe("Deployment.deployFiles", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-camunda-deploy-"))
  fs.mkdirSync(path.join(dir, "bpmn"))
  fs.writeFileSync(path.join(dir, "bpmn", "first.bpmn"), processOf("first"))
  fs.writeFileSync(path.join(dir, "second.bpmn"), processOf("second"))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it.effect("reads files through the Node FileSystem and names each part by its base name", () =>
    Effect.gen(function*() {
      const deployed = yield* Deployment.deployFiles([path.join(dir, "bpmn", "first.bpmn"), path.join(dir, "second.bpmn")])
      expect(deployed.processes.map(({ processDefinitionId, resourceName }) => [processDefinitionId, resourceName])).toEqual([
        ["first", "first.bpmn"],
        ["second", "second.bpmn"]
      ])
      const viaNode = yield* Node.deployFiles([path.join(dir, "second.bpmn")], { tenantId: Keys.TenantId.make("acme") })
      expect(viaNode.processes.map(({ resourceName, tenantId }) => [resourceName, tenantId])).toEqual([["second.bpmn", "acme"]])
    }).pipe(Effect.provide(Node.layer), Effect.provide(countingEngine().layer)))

  it.effect("a missing file fails with ResourceFileError and sends nothing", () => {
    const engine = countingEngine()
    return Effect.gen(function*() {
      const missing = path.join(dir, "missing.bpmn")
      const error = yield* Effect.flip(Deployment.deployFiles([path.join(dir, "second.bpmn"), missing]))
      expect(error._tag).toBe("ResourceFileError")
      if (error._tag !== "ResourceFileError") return
      expect(error.path).toBe(missing)
      expect(error.reason).toBe("NotFound")
      expect(error.message).toMatch(new RegExp(`^ResourceFileError: cannot read ${missing.replace(/[.\\]/g, "\\$&")}: NotFound`))
      // a directory is no file either
      const directory = yield* Effect.flip(Deployment.deployFiles([path.join(dir, "bpmn")]))
      expect(directory._tag).toBe("ResourceFileError")
      expect(engine.sent).toEqual([])
    }).pipe(Effect.provide(Node.layer), Effect.provide(engine.layer))
  })
})

describe("Deployment summary", () => {
  const answer = {
    deploymentKey: "2251799813685250",
    tenantId: "<default>",
    deployments: [
      {
        processDefinition: {
          processDefinitionId: "order",
          processDefinitionVersion: 3,
          resourceName: "order.bpmn",
          tenantId: "<default>",
          processDefinitionKey: "2251799813685251"
        },
        decisionDefinition: null,
        decisionRequirements: null,
        form: null,
        resource: null
      },
      {
        processDefinition: null,
        decisionDefinition: {
          decisionDefinitionId: "discount",
          version: 2,
          name: "Discount",
          tenantId: "<default>",
          decisionRequirementsId: "pricing",
          decisionDefinitionKey: "2251799813685252",
          decisionRequirementsKey: "2251799813685253"
        },
        decisionRequirements: null,
        form: null,
        resource: null
      },
      {
        processDefinition: null,
        decisionDefinition: null,
        decisionRequirements: {
          decisionRequirementsId: "pricing",
          decisionRequirementsName: "Pricing",
          version: 2,
          resourceName: "pricing.dmn",
          tenantId: "<default>",
          decisionRequirementsKey: "2251799813685253"
        },
        form: null,
        resource: null
      },
      {
        processDefinition: null,
        decisionDefinition: null,
        decisionRequirements: null,
        form: {
          formId: "review",
          version: 1,
          resourceName: "review.form",
          tenantId: "<default>",
          formKey: "2251799813685254"
        },
        resource: null
      },
      {
        processDefinition: null,
        decisionDefinition: null,
        decisionRequirements: null,
        form: null,
        resource: {
          resourceId: "script",
          resourceName: "script.rpa",
          version: 1,
          tenantId: "<default>",
          resourceKey: "2251799813685255"
        }
      }
    ]
  }

  it.effect("lists processes, decisions, decision requirements, forms and other resources, keys kept as strings", () => {
    const mock = mockHttp(() => json(200, answer))
    return Effect.gen(function*() {
      const deployed = yield* Deployment.deployResources(
        [
          { name: "order.bpmn", content: "<bpmn/>" },
          { name: "pricing.dmn", content: "<dmn/>" },
          { name: "review.form", content: "{}" },
          { name: "script.rpa", content: new Uint8Array([1, 2, 3]) }
        ],
        { tenantId: Keys.TenantId.make("<default>") }
      )
      expect(deployed).toEqual({
        deploymentKey: "2251799813685250",
        tenantId: "<default>",
        processes: [{
          processDefinitionId: "order",
          processDefinitionKey: "2251799813685251",
          version: 3,
          resourceName: "order.bpmn",
          tenantId: "<default>"
        }],
        decisions: [{
          decisionDefinitionId: "discount",
          decisionDefinitionKey: "2251799813685252",
          version: 2,
          name: "Discount",
          decisionRequirementsId: "pricing",
          decisionRequirementsKey: "2251799813685253",
          tenantId: "<default>"
        }],
        decisionRequirements: [{
          decisionRequirementsId: "pricing",
          decisionRequirementsKey: "2251799813685253",
          name: "Pricing",
          version: 2,
          resourceName: "pricing.dmn",
          tenantId: "<default>"
        }],
        forms: [{ formId: "review", formKey: "2251799813685254", version: 1, resourceName: "review.form", tenantId: "<default>" }],
        resources: [{
          resourceId: "script",
          resourceKey: "2251799813685255",
          version: 1,
          resourceName: "script.rpa",
          tenantId: "<default>"
        }]
      })
      // one multipart request: a `resources` part per resource, named, and the tenant
      expect(mock.requests).toHaveLength(1)
      const form = mock.requests[0]!.form!
      const parts = form.getAll("resources") as Array<File>
      expect(parts.map((part) => part.name)).toEqual(["order.bpmn", "pricing.dmn", "review.form", "script.rpa"])
      expect(yield* Effect.promise(() => parts[1]!.text())).toBe("<dmn/>")
      expect([...new Uint8Array(yield* Effect.promise(() => parts[3]!.arrayBuffer()))]).toEqual([1, 2, 3])
      expect(form.get("tenantId")).toBe("<default>")
    }).pipe(Effect.provide(mock.layer()))
  })

  it("summarize reads a createDeployment answer", () => {
    const summary = Deployment.summarize({
      deploymentKey: Keys.DeploymentKey.make("1"),
      tenantId: Keys.TenantId.make("<default>"),
      deployments: []
    })
    expect(summary).toEqual({
      deploymentKey: "1",
      tenantId: "<default>",
      processes: [],
      decisions: [],
      decisionRequirements: [],
      forms: [],
      resources: []
    })
  })
})
