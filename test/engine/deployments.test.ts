/**
 * Test engine: deployments and process definitions.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Keys, ProcessDefinition, Resource } from "effect-camunda"
import { bpmn, engineLayer, processXml, testBpmn } from "../support/engine.js"

const straight = (name?: string) =>
  bpmn("straight.bpmn", processXml("straight", `<bpmn:startEvent id="start" ${name === undefined ? "" : `name="${name}"`} />`))

describe("deployments", () => {
  it.effect("createDeployment gives process definitions keys and versions", () =>
    Effect.gen(function*() {
      const deployment = yield* Resource.createDeployment({ resources: [testBpmn("service-task.bpmn"), testBpmn("timer.bpmn")] })
      expect(deployment.tenantId).toBe("<default>")
      expect(deployment.deployments).toHaveLength(2)
      const [first, second] = deployment.deployments.map((d) => d.processDefinition!)
      expect(first).toMatchObject({ processDefinitionId: "service-task", processDefinitionVersion: 1, resourceName: "service-task.bpmn" })
      expect(second).toMatchObject({ processDefinitionId: "timer", processDefinitionVersion: 1, resourceName: "timer.bpmn" })
      expect(first!.processDefinitionKey).not.toBe(second!.processDefinitionKey)
      const definition = yield* ProcessDefinition.getProcessDefinition({ processDefinitionKey: first!.processDefinitionKey })
      expect(definition).toMatchObject({ processDefinitionId: "service-task", name: "Service task", version: 1, tenantId: "<default>" })
      const xml = yield* ProcessDefinition.getProcessDefinitionXML({ processDefinitionKey: first!.processDefinitionKey })
      expect(xml).toContain(`<bpmn:process id="service-task"`)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("redeploying changed XML bumps the version, identical XML does not", () =>
    Effect.gen(function*() {
      const v1 = (yield* Resource.createDeployment({ resources: [straight()] })).deployments[0]!.processDefinition!
      const same = (yield* Resource.createDeployment({ resources: [straight()] })).deployments[0]!.processDefinition!
      expect(same.processDefinitionVersion).toBe(1)
      expect(same.processDefinitionKey).toBe(v1.processDefinitionKey)
      const v2 = (yield* Resource.createDeployment({ resources: [straight("changed")] })).deployments[0]!.processDefinition!
      expect(v2.processDefinitionVersion).toBe(2)
      expect(v2.processDefinitionKey).not.toBe(v1.processDefinitionKey)
      const v3 = (yield* Resource.createDeployment({ resources: [straight()] })).deployments[0]!.processDefinition!
      expect(v3.processDefinitionVersion).toBe(3)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("searchProcessDefinitions filters and sorts", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [straight(), testBpmn("service-task.bpmn"), testBpmn("timer.bpmn")] })
      yield* Resource.createDeployment({ resources: [straight("v2")] })
      const all = yield* ProcessDefinition.searchProcessDefinitions({ sort: [{ field: "processDefinitionId", order: "DESC" }] })
      expect(all.page.totalItems).toBe(4)
      expect(all.items.map((d) => d.processDefinitionId)).toEqual(["timer", "straight", "straight", "service-task"])
      const straights = yield* ProcessDefinition.searchProcessDefinitions({
        filter: { processDefinitionId: Keys.ProcessDefinitionId.make("straight") },
        sort: [{ field: "version", order: "DESC" }]
      })
      expect(straights.items.map((d) => d.version)).toEqual([2, 1])
      const latest = yield* ProcessDefinition.searchProcessDefinitions({
        filter: { processDefinitionId: Keys.ProcessDefinitionId.make("straight"), isLatestVersion: true }
      })
      expect(latest.items.map((d) => d.version)).toEqual([2])
      const byName = yield* ProcessDefinition.searchProcessDefinitions({ filter: { name: { $like: "Serv*" } } })
      expect(byName.items.map((d) => d.processDefinitionId)).toEqual(["service-task"])
      const first = yield* ProcessDefinition.searchProcessDefinitions({ sort: [{ field: "processDefinitionId" }], page: { limit: 1 } })
      expect(first.items.map((d) => d.processDefinitionId)).toEqual(["service-task"])
      expect(first.page.totalItems).toBe(4)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("getProcessDefinition answers 404 for an unknown key", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ProcessDefinition.getProcessDefinition({ processDefinitionKey: Keys.ProcessDefinitionKey.make("123") }))
      expect(error._tag).toBe("NotFound")
      if (error._tag === "NotFound") expect(error.status).toBe(404)
      const xml = yield* Effect.flip(ProcessDefinition.getProcessDefinitionXML({ processDefinitionKey: Keys.ProcessDefinitionKey.make("123") }))
      expect(xml._tag).toBe("NotFound")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("an unsupported element is refused with 400 and a readable detail", () =>
    Effect.gen(function*() {
      const signal = bpmn("signal.bpmn", processXml("signal", `
        <bpmn:startEvent id="start" />
        <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="throw" />
        <bpmn:intermediateThrowEvent id="throw"><bpmn:signalEventDefinition signalRef="Signal_1" /></bpmn:intermediateThrowEvent>`,
        `<bpmn:signal id="Signal_1" name="go" />`))
      const error = yield* Effect.flip(Resource.createDeployment({ resources: [signal] }))
      expect(error._tag).toBe("BadRequest")
      if (error._tag !== "BadRequest") return
      expect(error.status).toBe(400)
      expect(error.detail).toContain("signal.bpmn")
      expect(error.detail).toContain("throw")
      expect(error.detail).toContain("not supported by the test engine")
      const subProcess = bpmn("sub.bpmn", processXml("sub", `<bpmn:startEvent id="start" /><bpmn:subProcess id="inner" />`))
      const sub = yield* Effect.flip(Resource.createDeployment({ resources: [subProcess] }))
      expect(sub._tag === "BadRequest" && sub.detail).toContain("inner (bpmn:SubProcess) is not supported")
      // atomic: nothing of a refused deployment is deployed
      const good = testBpmn("service-task.bpmn")
      yield* Effect.flip(Resource.createDeployment({ resources: [good, subProcess] }))
      const definitions = yield* ProcessDefinition.searchProcessDefinitions({})
      expect(definitions.items).toHaveLength(0)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("models Zeebe would refuse are refused with 400: bad static timer, gateway flow without condition, no correlation key", () =>
    Effect.gen(function*() {
      const refuse = (name: string, body: string, preamble = "") =>
        Effect.map(Effect.flip(Resource.createDeployment({ resources: [bpmn(`${name}.bpmn`, processXml(name, body, preamble))] })), (error) =>
          error._tag === "BadRequest" ? error.detail : error._tag)
      expect(yield* refuse("timer", `
        <bpmn:startEvent id="s" />
        <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t" />
        <bpmn:intermediateCatchEvent id="t">
          <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT10X</bpmn:timeDuration></bpmn:timerEventDefinition>
        </bpmn:intermediateCatchEvent>`)).toBe("timer.bpmn: timer t: 'PT10X' is not an ISO-8601 duration")
      expect(yield* refuse("cycle", `
        <bpmn:startEvent id="s" />
        <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t" />
        <bpmn:intermediateCatchEvent id="t">
          <bpmn:timerEventDefinition><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R3/PT1M</bpmn:timeCycle></bpmn:timerEventDefinition>
        </bpmn:intermediateCatchEvent>`)).toContain("cycles are not supported")
      expect(yield* refuse("gateway", `
        <bpmn:startEvent id="s" />
        <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g" />
        <bpmn:exclusiveGateway id="g" />
        <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="a"><bpmn:conditionExpression>=x</bpmn:conditionExpression></bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="b" />
        <bpmn:endEvent id="a" /><bpmn:endEvent id="b" />`))
        .toBe("gateway.bpmn: sequence flow f2 leaves exclusive gateway g without a condition and is not its default flow")
      expect(yield* refuse("message", `
        <bpmn:startEvent id="s" />
        <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="m" />
        <bpmn:intermediateCatchEvent id="m"><bpmn:messageEventDefinition messageRef="Msg" /></bpmn:intermediateCatchEvent>`,
        `<bpmn:message id="Msg" name="hello" />`)).toBe("message.bpmn: message catch event m: message hello has no zeebe:subscription correlationKey")
      expect(yield* refuse("job", `<bpmn:startEvent id="s" /><bpmn:serviceTask id="t" />`))
        .toBe("job.bpmn: service task t has no zeebe:taskDefinition type")
      expect(yield* refuse("worker", `<bpmn:startEvent id="s" /><bpmn:userTask id="u" />`)).toContain("job-worker user task")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("invalid XML is refused with 400 and a readable detail", () =>
    Effect.gen(function*() {
      const garbage = yield* Effect.flip(Resource.createDeployment({ resources: [bpmn("broken.bpmn", "this is not XML")] }))
      expect(garbage._tag).toBe("BadRequest")
      expect(garbage._tag === "BadRequest" && garbage.detail).toMatch(/^broken\.bpmn: the resource is not valid BPMN: /)
      const unclosed = yield* Effect.flip(Resource.createDeployment({ resources: [bpmn("unclosed.bpmn", processXml("p", "<bpmn:startEvent id=\"s\">"))] }))
      expect(unclosed._tag === "BadRequest" && unclosed.detail).toMatch(/^unclosed\.bpmn: the resource is not valid BPMN: /)
      const noProcess = yield* Effect.flip(Resource.createDeployment({
        resources: [bpmn("empty.bpmn", `<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" />`)]
      }))
      expect(noProcess._tag === "BadRequest" && noProcess.detail).toBe("empty.bpmn: the resource defines no process")
      const notBpmn = yield* Effect.flip(Resource.createDeployment({ resources: [new File(["{}"], "form.form")] }))
      expect(notBpmn._tag === "BadRequest" && notBpmn.detail).toContain("form.form")
    }).pipe(Effect.provide(engineLayer())))
})
