/**
 * Test engine: the BPMN elements it runs.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { ElementInstance, Incident, Job, Keys, Message, ProcessInstance, Resource, UserTask } from "effect-camunda"
import { activate, activateOne, bpmn, completeOne, engineLayer, openTaskOf, processXml, start, stateOf, testBpmn } from "../support/engine.js"

const deploy = (...names: ReadonlyArray<string>) => Resource.createDeployment({ resources: names.map(testBpmn) })

const elementsOf = (processInstanceKey: Keys.ProcessInstanceKey) =>
  Effect.map(
    ElementInstance.searchElementInstances({ filter: { processInstanceKey }, sort: [{ field: "elementInstanceKey" }] }),
    (result) => result.items.map((e) => `${e.elementId}:${e.type}:${e.state}`)
  )

describe("elements", () => {
  it.effect("none start event and none end event", () =>
    Effect.gen(function*() {
      yield* deploy("straight-through.bpmn")
      const created = yield* start("straight-through")
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
      expect(yield* elementsOf(created.processInstanceKey)).toEqual([
        "start:START_EVENT:COMPLETED",
        "end:END_EVENT:COMPLETED"
      ])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("undefined tasks, manual tasks and none intermediate throw events pass the token on", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({
        resources: [bpmn("pass.bpmn", processXml("pass", `
          <bpmn:startEvent id="start" />
          <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
          <bpmn:task id="task" />
          <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="manual" />
          <bpmn:manualTask id="manual" />
          <bpmn:sequenceFlow id="f3" sourceRef="manual" targetRef="milestone" />
          <bpmn:intermediateThrowEvent id="milestone" />
          <bpmn:sequenceFlow id="f4" sourceRef="milestone" targetRef="end" />
          <bpmn:endEvent id="end" />`))]
      })
      const created = yield* start("pass")
      expect(yield* elementsOf(created.processInstanceKey)).toEqual([
        "start:START_EVENT:COMPLETED",
        "task:TASK:COMPLETED",
        "manual:MANUAL_TASK:COMPLETED",
        "milestone:INTERMEDIATE_THROW_EVENT:COMPLETED",
        "end:END_EVENT:COMPLETED"
      ])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("service task: a job with its type, retries and custom headers", () =>
    Effect.gen(function*() {
      yield* deploy("service-task.bpmn")
      const created = yield* start("service-task", { orderId: "o-1" })
      const job = yield* activateOne("work")
      expect(job).toMatchObject({
        type: "work",
        retries: 5,
        customHeaders: { region: "eu", mode: "fast" },
        elementId: "work",
        processDefinitionId: "service-task",
        processInstanceKey: created.processInstanceKey,
        worker: "test-worker",
        variables: { orderId: "o-1" },
        kind: "BPMN_ELEMENT"
      })
      const searched = yield* Job.searchJobs({ filter: { processInstanceKey: created.processInstanceKey } })
      expect(searched.items).toHaveLength(1)
      expect(searched.items[0]).toMatchObject({ state: "CREATED", type: "work", retries: 5, worker: "test-worker" })
      yield* Job.completeJob({ jobKey: job.jobKey })
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
      const done = yield* Job.searchJobs({ filter: { jobKey: job.jobKey } })
      expect(done.items[0]!.state).toBe("COMPLETED")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("user task (zeebe:userTask): assignee, candidate groups and users, due date, priority (FEEL expressions too)", () =>
    Effect.gen(function*() {
      yield* deploy("user-task.bpmn")
      const created = yield* start("user-task", { owner: "alice", urgency: 80 })
      const task = yield* openTaskOf(created.processInstanceKey)
      expect(task).toMatchObject({
        name: "Approve",
        elementId: "approve",
        state: "CREATED",
        assignee: "alice",
        candidateGroups: ["managers", "auditors"],
        candidateUsers: ["carol"],
        dueDate: "2030-01-31T12:00:00.000Z",
        followUpDate: "2030-01-15T12:00:00.000Z",
        priority: 80,
        customHeaders: { form: "approval" },
        processDefinitionId: "user-task",
        processInstanceKey: created.processInstanceKey
      })
      yield* UserTask.completeUserTask({ userTaskKey: task.userTaskKey })
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("an attribute expression that cannot be evaluated is an incident EXTRACT_VALUE_ERROR until its variables exist", () =>
    Effect.gen(function*() {
      yield* deploy("user-task.bpmn")
      const created = yield* start("user-task", { urgency: 20 })
      const incidents = yield* Incident.searchIncidents({ filter: { processInstanceKey: created.processInstanceKey } })
      expect(incidents.items.map((i) => [i.errorType, i.elementId])).toEqual([["EXTRACT_VALUE_ERROR", "approve"]])
      expect(incidents.items[0]!.errorMessage).toContain("owner")
      yield* ElementInstance.createElementInstanceVariables({
        elementInstanceKey: Keys.ElementInstanceKey.make(created.processInstanceKey),
        variables: { owner: "olga" }
      })
      yield* Incident.resolveIncident({ incidentKey: incidents.items[0]!.incidentKey })
      expect(yield* openTaskOf(created.processInstanceKey)).toMatchObject({ assignee: "olga", priority: 20 })
    }).pipe(Effect.provide(engineLayer())))

  it.effect("timer durations and dates may be FEEL expressions", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({
        resources: [bpmn("timers.bpmn", processXml("timers", `
          <bpmn:startEvent id="start" />
          <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pause" />
          <bpmn:intermediateCatchEvent id="pause">
            <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">=pause</bpmn:timeDuration></bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="until" />
          <bpmn:intermediateCatchEvent id="until">
            <bpmn:timerEventDefinition><bpmn:timeDate xsi:type="bpmn:tFormalExpression">=date and time(wakeUp)</bpmn:timeDate></bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="f3" sourceRef="until" targetRef="end" />
          <bpmn:endEvent id="end" />`))]
      })
      const created = yield* start("timers", { pause: "PT1M", wakeUp: "1970-01-01T01:00:00Z" })
      yield* TestClock.adjust("1 minute")
      expect((yield* elementsOf(created.processInstanceKey)).at(-1)).toBe("until:INTERMEDIATE_CATCH_EVENT:ACTIVE")
      yield* TestClock.adjust("59 minutes")
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("exclusive gateway: the first flow whose FEEL condition holds, else the default flow", () =>
    Effect.gen(function*() {
      yield* deploy("exclusive-gateway.bpmn")
      const ends = yield* Effect.forEach([5000, 3, 500], (amount) =>
        Effect.gen(function*() {
          const created = yield* start("exclusive-gateway", { amount })
          expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
          const elements = yield* elementsOf(created.processInstanceKey)
          return elements.at(-1)
        }))
      expect(ends).toEqual(["large:END_EVENT:COMPLETED", "small:END_EVENT:COMPLETED", "medium:END_EVENT:COMPLETED"])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("exclusive gateway: no flow matches and no default → incident CONDITION_ERROR; fixed variables and resolve continue", () =>
    Effect.gen(function*() {
      yield* deploy("exclusive-no-default.bpmn")
      const created = yield* start("exclusive-no-default", { approved: "maybe" })
      const instance = yield* ProcessInstance.getProcessInstance({ processInstanceKey: created.processInstanceKey })
      expect(instance).toMatchObject({ state: "ACTIVE", hasIncident: true })
      const incidents = yield* Incident.searchIncidents({ filter: { processInstanceKey: created.processInstanceKey } })
      expect(incidents.items).toHaveLength(1)
      const incident = incidents.items[0]!
      expect(incident).toMatchObject({ errorType: "CONDITION_ERROR", elementId: "decide", state: "ACTIVE", jobKey: null })
      const gateway = yield* ElementInstance.getElementInstance({ elementInstanceKey: incident.elementInstanceKey })
      expect(gateway).toMatchObject({ state: "ACTIVE", hasIncident: true, incidentKey: incident.incidentKey })

      yield* ElementInstance.createElementInstanceVariables({
        elementInstanceKey: Keys.ElementInstanceKey.make(created.processInstanceKey),
        variables: { approved: true }
      })
      yield* Incident.resolveIncident({ incidentKey: incident.incidentKey })
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
      expect((yield* elementsOf(created.processInstanceKey)).at(-1)).toBe("accepted:END_EVENT:COMPLETED")
      const resolved = yield* Incident.getIncident({ incidentKey: incident.incidentKey })
      expect(resolved.state).toBe("RESOLVED")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("exclusive gateway: a condition on a missing variable is an incident too", () =>
    Effect.gen(function*() {
      yield* deploy("exclusive-no-default.bpmn")
      const created = yield* start("exclusive-no-default")
      const incidents = yield* Incident.searchIncidents({ filter: { processInstanceKey: created.processInstanceKey } })
      expect(incidents.items.map((i) => i.errorType)).toEqual(["CONDITION_ERROR"])
      expect(incidents.items[0]!.errorMessage).toContain("approved")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("parallel gateway: fork and join; the instance completes only after both branches", () =>
    Effect.gen(function*() {
      yield* deploy("parallel.bpmn")
      const created = yield* start("parallel")
      const left = yield* activateOne("left")
      const right = yield* activateOne("right")
      yield* Job.completeJob({ jobKey: left.jobKey, variables: { fromLeft: 1 } })
      expect(yield* stateOf(created.processInstanceKey)).toBe("ACTIVE")
      expect((yield* elementsOf(created.processInstanceKey)).filter((e) => e.startsWith("join") || e.startsWith("end"))).toEqual([])
      yield* Job.completeJob({ jobKey: right.jobKey, variables: { fromRight: 2 } })
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
      expect(yield* elementsOf(created.processInstanceKey)).toEqual([
        "start:START_EVENT:COMPLETED",
        "fork:PARALLEL_GATEWAY:COMPLETED",
        "left:SERVICE_TASK:COMPLETED",
        "right:SERVICE_TASK:COMPLETED",
        "join:PARALLEL_GATEWAY:COMPLETED",
        "end:END_EVENT:COMPLETED"
      ])
    }).pipe(Effect.provide(engineLayer())))

  describe("messages", () => {
    it.effect("intermediate catch event: publishMessage correlates on the FEEL correlation key", () =>
      Effect.gen(function*() {
        yield* deploy("message-catch.bpmn")
        const one = yield* start("message-catch", { orderId: "o-1" })
        const two = yield* start("message-catch", { orderId: "o-2" })
        yield* completeOne("prepare")
        yield* completeOne("prepare")
        const published = yield* Message.publishMessage({ name: "payment-received", correlationKey: "o-2", variables: { paid: 20 } })
        expect(published.tenantId).toBe("<default>")
        expect(yield* stateOf(two.processInstanceKey)).toBe("COMPLETED")
        expect(yield* stateOf(one.processInstanceKey)).toBe("ACTIVE")
        const variables = yield* Effect.map(
          ProcessInstance.searchProcessInstances({ filter: { variables: [{ name: "paid", value: "20" }] } }),
          (r) => r.items.map((i) => i.processInstanceKey)
        )
        expect(variables).toEqual([two.processInstanceKey])
      }).pipe(Effect.provide(engineLayer())))

    it.effect("correlateMessage answers the instance it correlated with, and 404 when none waits", () =>
      Effect.gen(function*() {
        yield* deploy("message-catch.bpmn")
        const created = yield* start("message-catch", { orderId: 7 })
        yield* completeOne("prepare")
        const nobody = yield* Effect.flip(Message.correlateMessage({ name: "payment-received", correlationKey: "8" }))
        expect(nobody._tag).toBe("NotFound")
        const correlated = yield* Message.correlateMessage({ name: "payment-received", correlationKey: "7", variables: { paid: true } })
        expect(correlated.processInstanceKey).toBe(created.processInstanceKey)
        expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
        // correlateMessage does not buffer
        const late = yield* start("message-catch", { orderId: 9 })
        yield* Effect.flip(Message.correlateMessage({ name: "payment-received", correlationKey: "9" })).pipe(Effect.ignore)
        expect(yield* stateOf(late.processInstanceKey)).toBe("ACTIVE")
      }).pipe(Effect.provide(engineLayer())))

    it.effect("a message published with a TTL waits for the instance; without a TTL it is dropped", () =>
      Effect.gen(function*() {
        yield* deploy("message-catch.bpmn")
        yield* Message.publishMessage({ name: "payment-received", correlationKey: "buffered", timeToLive: 60_000, variables: { paid: 1 } })
        yield* Message.publishMessage({ name: "payment-received", correlationKey: "dropped", variables: { paid: 2 } })
        const buffered = yield* start("message-catch", { orderId: "buffered" })
        const dropped = yield* start("message-catch", { orderId: "dropped" })
        yield* completeOne("prepare")
        yield* completeOne("prepare")
        expect(yield* stateOf(buffered.processInstanceKey)).toBe("COMPLETED")
        expect(yield* stateOf(dropped.processInstanceKey)).toBe("ACTIVE")
      }).pipe(Effect.provide(engineLayer())))

    it.effect("a message id still buffered cannot be published again (409, undeclared: UnexpectedStatus)", () =>
      Effect.gen(function*() {
        const message = { name: "payment-received", correlationKey: "k", timeToLive: 10_000, messageId: "m-1" }
        yield* Message.publishMessage(message)
        const duplicate = yield* Effect.flip(Message.publishMessage(message))
        expect(duplicate._tag === "UnexpectedStatus" && [duplicate.status, duplicate.problem?.title]).toEqual([409, "ALREADY_EXISTS"])
        yield* Message.publishMessage({ ...message, correlationKey: "other" })
        yield* TestClock.adjust("10 seconds")
        yield* Message.publishMessage(message)
      }).pipe(Effect.provide(engineLayer())))

    it.effect("a buffered message expires after its TTL on the clock", () =>
      Effect.gen(function*() {
        yield* deploy("message-catch.bpmn")
        yield* Message.publishMessage({ name: "payment-received", correlationKey: "late", timeToLive: 10_000 })
        const created = yield* start("message-catch", { orderId: "late" })
        yield* TestClock.adjust("11 seconds")
        yield* completeOne("prepare")
        expect(yield* stateOf(created.processInstanceKey)).toBe("ACTIVE")
      }).pipe(Effect.provide(engineLayer())))

    it.effect("a message correlates once per process: two waiting instances of one process, one message", () =>
      Effect.gen(function*() {
        yield* deploy("message-catch.bpmn")
        const one = yield* start("message-catch", { orderId: "same" })
        const two = yield* start("message-catch", { orderId: "same" })
        yield* completeOne("prepare")
        yield* completeOne("prepare")
        yield* Message.publishMessage({ name: "payment-received", correlationKey: "same" })
        const states = [yield* stateOf(one.processInstanceKey), yield* stateOf(two.processInstanceKey)]
        expect(states).toEqual(["COMPLETED", "ACTIVE"])
        yield* Message.publishMessage({ name: "payment-received", correlationKey: "same" })
        expect(yield* stateOf(two.processInstanceKey)).toBe("COMPLETED")
      }).pipe(Effect.provide(engineLayer())))

    it.effect("message start event: publishing the message starts an instance with its variables", () =>
      Effect.gen(function*() {
        yield* deploy("message-start.bpmn")
        yield* Message.publishMessage({ name: "order-placed", correlationKey: "", variables: { orderId: "o-9" } })
        const job = yield* activateOne("fulfil")
        expect(job.variables).toEqual({ orderId: "o-9" })
        const correlated = yield* Message.correlateMessage({ name: "order-placed", correlationKey: "", variables: { orderId: "o-10" } })
        const second = yield* activateOne("fulfil")
        expect(second.processInstanceKey).toBe(correlated.processInstanceKey)
        expect(second.variables).toEqual({ orderId: "o-10" })
      }).pipe(Effect.provide(engineLayer())))

    it.effect("a correlation key that cannot be evaluated is an incident EXTRACT_VALUE_ERROR", () =>
      Effect.gen(function*() {
        yield* deploy("message-catch.bpmn")
        const created = yield* start("message-catch")
        yield* completeOne("prepare")
        const incidents = yield* Incident.searchIncidents({ filter: { processInstanceKey: created.processInstanceKey } })
        expect(incidents.items.map((i) => [i.errorType, i.elementId])).toEqual([["EXTRACT_VALUE_ERROR", "payment"]])
        yield* ElementInstance.createElementInstanceVariables({
          elementInstanceKey: Keys.ElementInstanceKey.make(created.processInstanceKey),
          variables: { orderId: "o-1" }
        })
        yield* Incident.resolveIncident({ incidentKey: incidents.items[0]!.incidentKey })
        yield* Message.publishMessage({ name: "payment-received", correlationKey: "o-1" })
        expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
      }).pipe(Effect.provide(engineLayer())))
  })

  describe("error boundary event", () => {
    it.effect("throwJobError with the caught code takes the boundary event's path", () =>
      Effect.gen(function*() {
        yield* deploy("error-boundary.bpmn")
        const created = yield* start("error-boundary")
        const charge = yield* activateOne("charge")
        yield* Job.throwJobError({ jobKey: charge.jobKey, errorCode: "CARD_DECLINED", errorMessage: "declined", variables: { reason: "limit" } })
        const notify = yield* activateOne("notify")
        expect(notify.variables).toEqual({ reason: "limit" })
        yield* Job.completeJob({ jobKey: notify.jobKey })
        expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
        const elements = yield* elementsOf(created.processInstanceKey)
        expect(elements).toContain("charge:SERVICE_TASK:TERMINATED")
        expect(elements).toContain("declined:BOUNDARY_EVENT:COMPLETED")
        expect(elements.at(-1)).toBe("notified:END_EVENT:COMPLETED")
        const job = yield* Job.searchJobs({ filter: { jobKey: charge.jobKey } })
        expect(job.items[0]).toMatchObject({ state: "ERROR_THROWN", errorCode: "CARD_DECLINED", errorMessage: "declined" })
      }).pipe(Effect.provide(engineLayer())))

    it.effect("an uncaught error code is an incident UNHANDLED_ERROR_EVENT", () =>
      Effect.gen(function*() {
        yield* deploy("error-boundary.bpmn")
        const created = yield* start("error-boundary")
        const charge = yield* activateOne("charge")
        yield* Job.throwJobError({ jobKey: charge.jobKey, errorCode: "SOMETHING_ELSE" })
        const incidents = yield* Incident.searchIncidents({ filter: { processInstanceKey: created.processInstanceKey } })
        expect(incidents.items).toHaveLength(1)
        expect(incidents.items[0]).toMatchObject({ errorType: "UNHANDLED_ERROR_EVENT", elementId: "charge", jobKey: charge.jobKey })
        expect(incidents.items[0]!.errorMessage).toContain("SOMETHING_ELSE")
        expect(yield* activate("notify")).toEqual([])
        expect(yield* stateOf(created.processInstanceKey)).toBe("ACTIVE")
      }).pipe(Effect.provide(engineLayer())))
  })

  it.effect("intermediate timer catch event: an ISO-8601 duration on the clock", () =>
    Effect.gen(function*() {
      yield* deploy("timer.bpmn")
      const created = yield* start("timer")
      yield* TestClock.adjust("9 minutes")
      expect(yield* activate("after-timer")).toEqual([])
      yield* TestClock.adjust("1 minute")
      const job = yield* activateOne("after-timer")
      expect(job.processInstanceKey).toBe(created.processInstanceKey)
      const timer = yield* ElementInstance.searchElementInstances({ filter: { processInstanceKey: created.processInstanceKey, elementId: Keys.ElementId.make("wait") } })
      expect(timer.items[0]).toMatchObject({ type: "INTERMEDIATE_CATCH_EVENT", state: "COMPLETED", endDate: "1970-01-01T00:10:00.000Z" })
    }).pipe(Effect.provide(engineLayer())))
})
