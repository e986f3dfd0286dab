/**
 * Test engine: job activation (long polling, limits, variables, tenants), completion,
 * failure with retries and back-off, incidents, errors, updates and timeouts.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { Incident, Job, Keys, ProcessInstance, Resource } from "effect-camunda"
import { activate, activateOne, engineLayer, settle, start, stateOf, testBpmn } from "../support/engine.js"

const deployServiceTask = Resource.createDeployment({ resources: [testBpmn("service-task.bpmn")] })

/** Lets the forked poll reach its wait. */
const settled = Effect.repeatN(settle, 5)

describe("jobs", () => {
  it.effect("activateJobs long-polls: a job created while the poll waits is returned", () =>
    Effect.gen(function*() {
      yield* deployServiceTask
      const poll = yield* Effect.fork(Job.activateJobs({ type: "work", timeout: 30_000, maxJobsToActivate: 5, requestTimeout: 20_000 }))
      yield* settled
      expect(poll.unsafePoll()).toBeNull()
      const created = yield* start("service-task")
      const { jobs } = yield* Fiber.join(poll)
      expect(jobs.map((job) => job.processInstanceKey)).toEqual([created.processInstanceKey])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("activateJobs long-polls until requestTimeout passes on the clock, then answers no jobs", () =>
    Effect.gen(function*() {
      yield* deployServiceTask
      const poll = yield* Effect.fork(Job.activateJobs({ type: "work", timeout: 30_000, maxJobsToActivate: 5, requestTimeout: 5_000 }))
      yield* settled
      yield* TestClock.adjust("4999 millis")
      yield* settled
      expect(poll.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      expect((yield* Fiber.join(poll)).jobs).toEqual([])
      // a negative requestTimeout answers at once
      expect((yield* Job.activateJobs({ type: "work", timeout: 1000, maxJobsToActivate: 1, requestTimeout: -1 })).jobs).toEqual([])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("activateJobs honours maxJobsToActivate and only hands out a job once", () =>
    Effect.gen(function*() {
      yield* deployServiceTask
      yield* Effect.repeatN(start("service-task"), 2)
      const first = yield* activate("work", 2)
      expect(first).toHaveLength(2)
      const second = yield* activate("work", 2)
      expect(second).toHaveLength(1)
      expect(yield* activate("work", 2)).toEqual([])
      expect(new Set([...first, ...second].map((job) => job.jobKey)).size).toBe(3)
      expect(yield* activate("other-type")).toEqual([])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("activateJobs with fetchVariable hands over only those variables", () =>
    Effect.gen(function*() {
      yield* deployServiceTask
      yield* start("service-task", { a: 1, b: { nested: true }, c: "three" })
      const { jobs } = yield* Job.activateJobs({
        type: "work",
        timeout: 30_000,
        maxJobsToActivate: 1,
        fetchVariable: ["b", "c", "missing"],
        requestTimeout: -1
      })
      expect(jobs[0]!.variables).toEqual({ b: { nested: true }, c: "three" })
    }).pipe(Effect.provide(engineLayer())))

  it.effect("activateJobs with tenantIds activates jobs of those tenants only", () =>
    Effect.gen(function*() {
      const acme = Keys.TenantId.make("acme")
      yield* Resource.createDeployment({ resources: [testBpmn("service-task.bpmn")], tenantId: acme })
      yield* deployServiceTask
      const ofAcme = yield* ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("service-task"), tenantId: acme })
      expect(ofAcme.tenantId).toBe("acme")
      const ofDefault = yield* start("service-task")
      const acmeJobs = yield* Job.activateJobs({ type: "work", timeout: 30_000, maxJobsToActivate: 5, tenantIds: [acme], requestTimeout: -1 })
      expect(acmeJobs.jobs.map((job) => [job.processInstanceKey, job.tenantId])).toEqual([[ofAcme.processInstanceKey, "acme"]])
      const defaultJobs = yield* Job.activateJobs({
        type: "work",
        timeout: 30_000,
        maxJobsToActivate: 5,
        tenantIds: [Keys.TenantId.make("<default>")],
        requestTimeout: -1
      })
      expect(defaultJobs.jobs.map((job) => job.processInstanceKey)).toEqual([ofDefault.processInstanceKey])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("completeJob merges its variables into the process", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [testBpmn("parallel.bpmn")] })
      const created = yield* start("parallel", { keep: 1, overwrite: "old" })
      const left = yield* activateOne("left")
      yield* Job.completeJob({ jobKey: left.jobKey, variables: { overwrite: "new", added: [1, 2] } })
      const right = yield* activateOne("right")
      expect(right.variables).toEqual({ keep: 1, overwrite: "new", added: [1, 2] })
      yield* Job.completeJob({ jobKey: right.jobKey })
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("completing an unknown job or a completed job answers 404", () =>
    Effect.gen(function*() {
      yield* deployServiceTask
      yield* start("service-task")
      const unknown = yield* Effect.flip(Job.completeJob({ jobKey: Keys.JobKey.make("1") }))
      expect(unknown._tag).toBe("NotFound")
      const job = yield* activateOne("work")
      yield* Job.completeJob({ jobKey: job.jobKey })
      // Zeebe removes a completed job: completing it again is NOT_FOUND, as failing or throwing for it
      const again = yield* Effect.flip(Job.completeJob({ jobKey: job.jobKey }))
      expect(again._tag).toBe("NotFound")
      expect((yield* Effect.flip(Job.failJob({ jobKey: job.jobKey, retries: 1 })))._tag).toBe("NotFound")
      expect((yield* Effect.flip(Job.throwJobError({ jobKey: job.jobKey, errorCode: "X" })))._tag).toBe("NotFound")
      expect((yield* Effect.flip(Job.updateJob({ jobKey: job.jobKey, changeset: { retries: 2 } })))._tag).toBe("NotFound")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("failJob with retries left: activatable again once the retry back-off has passed on the clock", () =>
    Effect.gen(function*() {
      yield* deployServiceTask
      yield* start("service-task")
      const job = yield* activateOne("work")
      yield* Job.failJob({ jobKey: job.jobKey, retries: 4, errorMessage: "flaky", retryBackOff: 30_000, variables: { attempt: 1 } })
      const searched = yield* Job.searchJobs({ filter: { jobKey: job.jobKey } })
      expect(searched.items[0]).toMatchObject({ state: "FAILED", retries: 4, errorMessage: "flaky", hasFailedWithRetriesLeft: true })
      expect(yield* activate("work")).toEqual([])
      yield* TestClock.adjust("29 seconds")
      expect(yield* activate("work")).toEqual([])
      // a long poll wakes up when the back-off ends
      const poll = yield* Effect.fork(Job.activateJobs({ type: "work", timeout: 30_000, maxJobsToActivate: 1, requestTimeout: 10_000 }))
      yield* settled
      yield* TestClock.adjust("1 second")
      const { jobs } = yield* Fiber.join(poll)
      expect(jobs.map((j) => [j.jobKey, j.retries])).toEqual([[job.jobKey, 4]])
      // failJob variables are local to the task, and the worker sees them
      expect(jobs[0]!.variables).toEqual({ attempt: 1 })
    }).pipe(Effect.provide(engineLayer())))

  it.effect("failJob with no retries left: incident JOB_NO_RETRIES; updateJob retries + resolveIncident make it activatable again", () =>
    Effect.gen(function*() {
      yield* deployServiceTask
      const created = yield* start("service-task")
      const job = yield* activateOne("work")
      yield* Job.failJob({ jobKey: job.jobKey, retries: 0, errorMessage: "boom" })
      const incidents = yield* Incident.searchIncidents({ filter: { processInstanceKey: created.processInstanceKey, state: "ACTIVE" } })
      expect(incidents.items).toHaveLength(1)
      const incident = incidents.items[0]!
      expect(incident).toMatchObject({ errorType: "JOB_NO_RETRIES", errorMessage: "boom", jobKey: job.jobKey, elementId: "work" })
      expect((yield* ProcessInstance.getProcessInstance({ processInstanceKey: created.processInstanceKey })).hasIncident).toBe(true)
      expect(yield* activate("work")).toEqual([])
      // a failed job is in the wrong state for workers
      expect((yield* Effect.flip(Job.completeJob({ jobKey: job.jobKey })))._tag).toBe("Conflict")
      expect((yield* Effect.flip(Job.failJob({ jobKey: job.jobKey, retries: 1 })))._tag).toBe("Conflict")
      // resolving before giving retries back is refused
      const early = yield* Effect.flip(Incident.resolveIncident({ incidentKey: incident.incidentKey }))
      expect(early._tag).toBe("Conflict")
      yield* Job.updateJob({ jobKey: job.jobKey, changeset: { retries: 2 } })
      expect(yield* activate("work")).toEqual([])
      yield* Incident.resolveIncident({ incidentKey: incident.incidentKey })
      const again = yield* activateOne("work")
      expect(again).toMatchObject({ jobKey: job.jobKey, retries: 2 })
      const resolved = yield* Incident.getIncident({ incidentKey: incident.incidentKey })
      expect(resolved.state).toBe("RESOLVED")
      expect((yield* ProcessInstance.getProcessInstance({ processInstanceKey: created.processInstanceKey })).hasIncident).toBe(false)
      // resolving it twice: the incident is gone
      expect((yield* Effect.flip(Incident.resolveIncident({ incidentKey: incident.incidentKey })))._tag).toBe("NotFound")
      yield* Job.completeJob({ jobKey: again.jobKey })
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("throwJobError: 404 for an unknown job, 409 for a failed one", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [testBpmn("error-boundary.bpmn")] })
      yield* start("error-boundary")
      const unknown = yield* Effect.flip(Job.throwJobError({ jobKey: Keys.JobKey.make("1"), errorCode: "CARD_DECLINED" }))
      expect(unknown._tag).toBe("NotFound")
      const job = yield* activateOne("charge")
      yield* Job.failJob({ jobKey: job.jobKey, retries: 0 })
      const failed = yield* Effect.flip(Job.throwJobError({ jobKey: job.jobKey, errorCode: "CARD_DECLINED" }))
      expect(failed._tag).toBe("Conflict")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("a timed-out activated job becomes activatable again", () =>
    Effect.gen(function*() {
      yield* deployServiceTask
      yield* start("service-task")
      const { jobs } = yield* Job.activateJobs({ type: "work", timeout: 60_000, maxJobsToActivate: 1, worker: "slow", requestTimeout: -1 })
      const job = jobs[0]!
      expect(job.deadline).toBe(60_000)
      yield* TestClock.adjust("59 seconds")
      expect(yield* activate("work")).toEqual([])
      yield* TestClock.adjust("1 second")
      const again = yield* activateOne("work")
      expect(again).toMatchObject({ jobKey: job.jobKey, worker: "test-worker" })
      const searched = yield* Job.searchJobs({ filter: { jobKey: job.jobKey } })
      expect(searched.items[0]!.state).toBe("TIMED_OUT")
      // the first worker may still complete it
      yield* Job.completeJob({ jobKey: job.jobKey })
    }).pipe(Effect.provide(engineLayer())))

  it.effect("updateJob changes retries and the timeout of an activated job", () =>
    Effect.gen(function*() {
      yield* deployServiceTask
      yield* start("service-task")
      const job = yield* activateOne("work")
      yield* Job.updateJob({ jobKey: job.jobKey, changeset: { retries: 9, timeout: 600_000 } })
      const searched = yield* Job.searchJobs({ filter: { jobKey: job.jobKey } })
      expect(searched.items[0]).toMatchObject({ retries: 9, state: "RETRIES_UPDATED", deadline: "1970-01-01T00:10:00.000Z" })
      yield* TestClock.adjust("5 minutes")
      expect(yield* activate("work")).toEqual([])
      yield* TestClock.adjust("5 minutes")
      expect((yield* activateOne("work")).retries).toBe(9)
      const badRetries = yield* Effect.flip(Job.updateJob({ jobKey: job.jobKey, changeset: { retries: 0 } }))
      expect(badRetries._tag).toBe("BadRequest")
      const unknown = yield* Effect.flip(Job.updateJob({ jobKey: Keys.JobKey.make("1"), changeset: { retries: 1 } }))
      expect(unknown._tag).toBe("NotFound")
    }).pipe(Effect.provide(engineLayer())))
})
