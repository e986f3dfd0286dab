/**
 * The executor through generated operations, against an in-memory HttpClient: what goes
 * on the wire, how every kind of answer is decoded, and which typed error comes back.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import type * as Tracer from "effect/Tracer"
import {
  Auth,
  CamundaClient,
  Cluster,
  Document,
  Group,
  Job,
  Keys,
  ProcessDefinition,
  ProcessInstance,
  Resource,
  System,
  Tenant,
  UserTask
} from "effect-camunda"
import { json, mockHttp, problem, sampleSuccessBody, topologyBody } from "./support/mockHttp.js"
import { recordingTracer } from "./support/tracing.js"

const userTaskKey = Keys.UserTaskKey.make("2251799813685249")

describe("requests", () => {
  it.effect("completeUserTask: method, path under /v2, JSON body, accept header", () => {
    const http = mockHttp(() => new Response(null, { status: 204 }))
    return Effect.gen(function*() {
      const result = yield* UserTask.completeUserTask({ userTaskKey, variables: { approved: true }, action: "approve" })
      expect(result).toBeUndefined()
      const [request] = http.requests
      expect(request!.method).toBe("POST")
      expect(request!.url.href).toBe("http://camunda.test:8080/v2/user-tasks/2251799813685249/completion")
      expect(request!.headers["content-type"]).toBe("application/json")
      expect(request!.headers["accept"]).toBe("application/problem+json")
      expect(JSON.parse(request!.text!)).toEqual({ variables: { approved: true }, action: "approve" })
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("an optional body with no fields sends no body", () => {
    const http = mockHttp(() => new Response(null, { status: 204 }))
    return Effect.gen(function*() {
      yield* UserTask.unassignUserTask({ userTaskKey })
      expect(http.requests[0]!.method).toBe("DELETE")
      expect(http.requests[0]!.url.pathname).toBe("/v2/user-tasks/2251799813685249/assignee")
      expect(http.requests[0]!.text).toBeUndefined()
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("path parameters are escaped", () => {
    const http = mockHttp(() => sampleSuccessBody(Group.getGroup))
    return Effect.gen(function*() {
      yield* Group.getGroup({ groupId: "a/b c?" })
      expect(http.requests[0]!.url.pathname).toBe("/v2/groups/a%2Fb%20c%3F")
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("query parameters: present ones only, booleans as text", () => {
    const http = mockHttp(() => sampleSuccessBody(System.getUsageMetrics))
    return Effect.gen(function*() {
      yield* System.getUsageMetrics({ startTime: "2025-06-07T13:14:15Z", endTime: "2025-06-08T13:14:15Z", withTenants: true })
      const url = http.requests[0]!.url
      expect(url.pathname).toBe("/v2/system/usage-metrics")
      expect(Object.fromEntries(url.searchParams)).toEqual({
        startTime: "2025-06-07T13:14:15Z",
        endTime: "2025-06-08T13:14:15Z",
        withTenants: "true"
      })
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("basic auth: Authorization header from the Redacted password", () => {
    const http = mockHttp(() => new Response(null, { status: 204 }))
    return Effect.gen(function*() {
      yield* UserTask.completeUserTask({ userTaskKey })
      expect(http.requests[0]!.headers["authorization"]).toBe(`Basic ${btoa("demo:s3cret")}`)
    }).pipe(Effect.provide(http.layer({
      restAddress: "http://camunda.test:8080/v2/",
      auth: Auth.basic({ username: "demo", password: Redacted.make("s3cret") })
    })))
  })

  it.effect("bearer auth: Authorization header from the Redacted token", () => {
    const http = mockHttp(() => new Response(null, { status: 204 }))
    return Effect.gen(function*() {
      yield* UserTask.completeUserTask({ userTaskKey })
      expect(http.requests[0]!.headers["authorization"]).toBe("Bearer t0ken")
      expect(http.requests[0]!.url.pathname).toBe("/v2/user-tasks/2251799813685249/completion")
    }).pipe(Effect.provide(http.layer({ restAddress: "http://camunda.test:8080/v2", auth: Auth.bearer(Redacted.make("t0ken")) })))
  })

  it.effect("multipart: createDeployment sends one part per file, with file names, and text fields", () => {
    const http = mockHttp(() =>
      json(200, { deploymentKey: "1", tenantId: "<default>", deployments: [] })
    )
    return Effect.gen(function*() {
      yield* Resource.createDeployment({
        resources: [
          new File(["<bpmn/>"], "order.bpmn", { type: "application/xml" }),
          new TextEncoder().encode("{\"id\":\"form\"}")
        ],
        tenantId: Keys.TenantId.make("acme")
      })
      const form = http.requests[0]!.form!
      const parts = form.getAll("resources") as Array<File>
      expect(parts).toHaveLength(2)
      expect(parts[0]!.name).toBe("order.bpmn")
      expect(yield* Effect.promise(() => parts[0]!.text())).toBe("<bpmn/>")
      expect(yield* Effect.promise(() => parts[1]!.text())).toBe("{\"id\":\"form\"}")
      expect(form.get("tenantId")).toBe("acme")
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("multipart: createDocument sends the metadata object as an application/json part", () => {
    const http = mockHttp(() => sampleSuccessBody(Document.createDocument, 201))
    return Effect.gen(function*() {
      yield* Document.createDocument({ file: new Uint8Array([1, 2, 3]), metadata: { fileName: "a.bin", contentType: "application/octet-stream" } })
      const form = http.requests[0]!.form!
      const metadata = form.get("metadata") as File
      expect(metadata.type).toBe("application/json")
      expect(JSON.parse(yield* Effect.promise(() => metadata.text()))).toEqual({ fileName: "a.bin", contentType: "application/octet-stream" })
      const file = form.get("file") as File
      expect(new Uint8Array(yield* Effect.promise(() => file.arrayBuffer()))).toEqual(new Uint8Array([1, 2, 3]))
    }).pipe(Effect.provide(http.layer()))
  })
})

describe("default tenant", () => {
  const bodyOf = (request: { readonly text: string | undefined }) => JSON.parse(request.text ?? "{}")
  const processDefinitionId = Keys.ProcessDefinitionId.make("order")

  it.effect("fills tenantId of bodies that take one and tenantIds of activateJobs, when left out", () => {
    const http = mockHttp((request) =>
      request.url.pathname.endsWith("/activation")
        ? json(200, { jobs: [] })
        : request.url.pathname.endsWith("/deployments")
        ? json(200, { deploymentKey: "1", tenantId: "acme", deployments: [] })
        : sampleSuccessBody(ProcessInstance.createProcessInstance)
    )
    return Effect.gen(function*() {
      yield* ProcessInstance.createProcessInstance({ processDefinitionId })
      yield* ProcessInstance.createProcessInstance({ processDefinitionId, tenantId: Keys.TenantId.make("other") })
      yield* Job.activateJobs({ type: "t", maxJobsToActivate: 1, timeout: 1000 })
      yield* Resource.createDeployment({ resources: [new File(["<bpmn/>"], "a.bpmn")] })
      expect(bodyOf(http.requests[0]!).tenantId).toBe("acme")
      expect(bodyOf(http.requests[1]!).tenantId).toBe("other")
      expect(bodyOf(http.requests[2]!).tenantIds).toEqual(["acme"])
      expect(http.requests[3]!.form!.get("tenantId")).toBe("acme")
    }).pipe(Effect.provide(http.layer({ defaultTenantId: "acme" })))
  })

  it.effect("leaves search filters, tenant management and clients without a default tenant alone", () => {
    const http = mockHttp((request) =>
      request.url.pathname.endsWith("/search")
        ? sampleSuccessBody(ProcessInstance.searchProcessInstances)
        : request.url.pathname === "/v2/tenants"
        ? sampleSuccessBody(Tenant.createTenant, 201)
        : sampleSuccessBody(ProcessInstance.createProcessInstance)
    )
    const withoutDefault = mockHttp(() => sampleSuccessBody(ProcessInstance.createProcessInstance))
    return Effect.gen(function*() {
      yield* ProcessInstance.searchProcessInstances({ filter: { processDefinitionId } })
      yield* Tenant.createTenant({ tenantId: Keys.TenantId.make("new-tenant"), name: "New" })
      expect(bodyOf(http.requests[0]!)).toEqual({ filter: { processDefinitionId: "order" } })
      expect(bodyOf(http.requests[1]!).tenantId).toBe("new-tenant")
      yield* ProcessInstance.createProcessInstance({ processDefinitionId }).pipe(Effect.provide(withoutDefault.layer()))
      expect(bodyOf(withoutDefault.requests[0]!).tenantId).toBeUndefined()
    }).pipe(Effect.provide(http.layer({ defaultTenantId: "acme" })))
  })
})

describe("success bodies", () => {
  it.effect("JSON is decoded into branded values", () => {
    const http = mockHttp(() =>
      json(200, { ...topologyBody, unknownFutureField: true })
    )
    return Effect.gen(function*() {
      const topology = yield* Cluster.getTopology()
      expect(topology.gatewayVersion).toBe("8.9.0")
      expect(http.requests[0]!.headers["accept"]).toBe("application/json, application/problem+json")
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("text/xml is returned as text", () => {
    const http = mockHttp(() => new Response("<definitions/>", { status: 200, headers: { "content-type": "text/xml" } }))
    return Effect.gen(function*() {
      const xml = yield* ProcessDefinition.getProcessDefinitionXML({ processDefinitionKey: Keys.ProcessDefinitionKey.make("1") })
      expect(xml).toBe("<definitions/>")
      expect(http.requests[0]!.headers["accept"]).toContain("text/xml")
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("application/octet-stream is returned as bytes", () => {
    const http = mockHttp(() => new Response(new Uint8Array([0, 255, 7]), { status: 200, headers: { "content-type": "application/octet-stream" } }))
    return Effect.gen(function*() {
      const bytes = yield* Document.getDocument({ documentId: Keys.DocumentId.make("d1") })
      expect(bytes).toEqual(new Uint8Array([0, 255, 7]))
    }).pipe(Effect.provide(http.layer()))
  })
})

describe("errors", () => {
  const statuses = [
    [400, "BadRequest"],
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "NotFound"],
    [409, "Conflict"],
    [429, "TooManyRequests"],
    [500, "InternalServerError"],
    [503, "ServiceUnavailable"],
    [504, "GatewayTimeout"]
  ] as const

  for (const [status, tag] of statuses) {
    it.effect(`${status} becomes ${tag} with the ProblemDetail fields and the operationId`, () => {
      const http = mockHttp(() =>
        problem(status, {
          type: "about:blank",
          title: "INVALID_STATE",
          status,
          detail: `detail of ${status}`,
          instance: "/v2/user-tasks/2251799813685249/completion",
          traceId: "abc"
        })
      )
      return Effect.gen(function*() {
        const error = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey }))
        expect(error._tag).toBe(tag)
        if (error._tag !== tag) return
        expect(error).toMatchObject({
          operationId: "completeUserTask",
          status,
          type: "about:blank",
          title: "INVALID_STATE",
          detail: `detail of ${status}`,
          instance: "/v2/user-tasks/2251799813685249/completion",
          extensions: { traceId: "abc" }
        })
        expect(error.message).toBe(`${tag} [completeUserTask]: detail of ${status}`)
      }).pipe(Effect.provide(http.layer()))
    })
  }

  it.effect("Effect.catchTag works on the status tag", () => {
    const http = mockHttp(() => problem(409, { title: "INVALID_STATE", status: 409, detail: "already completed" }))
    return Effect.gen(function*() {
      const outcome = yield* UserTask.completeUserTask({ userTaskKey }).pipe(
        Effect.as("completed"),
        Effect.catchTag("Conflict", (conflict) => Effect.succeed(`conflict: ${conflict.detail}`))
      )
      expect(outcome).toBe("conflict: already completed")
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("Retry-After in seconds and as an HTTP date is parsed against the Effect clock", () => {
    let answer = 0
    const http = mockHttp(() =>
      answer++ === 0
        ? problem(429, { title: "RESOURCE_EXHAUSTED", status: 429 }, { "retry-after": "7" })
        : problem(503, { title: "RESOURCE_EXHAUSTED", status: 503 }, { "retry-after": new Date(60_000).toUTCString() })
    )
    return Effect.gen(function*() {
      yield* TestClock.setTime(45_000)
      const first = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey }))
      expect(first._tag).toBe("TooManyRequests")
      expect(Duration.toMillis((first as { retryAfter: Duration.Duration }).retryAfter)).toBe(7_000)
      const second = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey }))
      expect(second._tag).toBe("ServiceUnavailable")
      expect(Duration.toMillis((second as { retryAfter: Duration.Duration }).retryAfter)).toBe(15_000)
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("a body that is no problem document still yields the status class, with the body kept", () => {
    const http = mockHttp(() => new Response("upstream exploded", { status: 500, headers: { "content-type": "text/plain" } }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey }))
      expect(error).toMatchObject({
        _tag: "InternalServerError",
        status: 500,
        type: "about:blank",
        title: "Internal Server Error",
        detail: "upstream exploded",
        extensions: { body: "upstream exploded" }
      })
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("a status the operation does not declare is UnexpectedStatus, with status and body", () => {
    const http = mockHttp(() => problem(404, { title: "NOT_FOUND", status: 404, detail: "no such thing" }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(Cluster.getTopology())
      expect(error._tag).toBe("UnexpectedStatus")
      expect(error).toMatchObject({ operationId: "getTopology", status: 404, problem: { title: "NOT_FOUND", detail: "no such thing" } })
      expect(error.message).toBe("UnexpectedStatus [getTopology]: HTTP 404: no such thing")
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("a status with no error class (418) is UnexpectedStatus", () => {
    const http = mockHttp(() => new Response("teapot", { status: 418 }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey }))
      expect(error).toMatchObject({ _tag: "UnexpectedStatus", status: 418, body: "teapot" })
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("a success body that does not match the schema is DecodeError", () => {
    const http = mockHttp(() => json(200, { brokers: "not a list" }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(Cluster.getTopology())
      expect(error._tag).toBe("DecodeError")
      expect(error).toMatchObject({ operationId: "getTopology", status: 200, body: { brokers: "not a list" } })
      expect(error.message).toContain("brokers")
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("a success body that is not JSON is DecodeError", () => {
    const http = mockHttp(() => new Response("<html>proxy</html>", { status: 200 }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(Cluster.getTopology())
      expect(error).toMatchObject({ _tag: "DecodeError", body: "<html>proxy</html>" })
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("input that fails its schema is InvalidRequest and sends nothing", () => {
    const http = mockHttp(() => new Response(null, { status: 204 }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey: "not-a-key" as Keys.UserTaskKey }))
      expect(error._tag).toBe("InvalidRequest")
      expect(error.message).toContain("InvalidRequest [completeUserTask]")
      expect(error.message).toContain("userTaskKey")
      const empty = yield* Effect.flip(Group.getGroup({ groupId: "" }))
      expect(empty._tag).toBe("InvalidRequest")
      expect(http.requests).toHaveLength(0)
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("a path parameter that is \".\" or \"..\" is InvalidRequest and sends nothing: URL parsing would send it elsewhere", () => {
    const http = mockHttp(() => new Response(null, { status: 204 }))
    return Effect.gen(function*() {
      // DELETE /tenants/../users/bob would become DELETE /users/bob: deleteUser, not unassignUserFromTenant
      const error = yield* Effect.flip(
        Tenant.unassignUserFromTenant({ tenantId: Keys.TenantId.make(".."), username: Keys.Username.make("bob") })
      )
      expect(error._tag).toBe("InvalidRequest")
      expect(error.message).toBe(
        `InvalidRequest [unassignUserFromTenant]: tenantId is "..", a path segment URL parsing removes`
      )
      const dot = yield* Effect.flip(Tenant.unassignUserFromTenant({ tenantId: Keys.TenantId.make("t1"), username: Keys.Username.make(".") }))
      expect(dot._tag).toBe("InvalidRequest")
      expect(http.requests).toHaveLength(0)
      // dots inside a value are fine
      yield* Tenant.unassignUserFromTenant({ tenantId: Keys.TenantId.make("t.1"), username: Keys.Username.make("...") })
      expect(http.requests.map((request) => request.url.pathname)).toEqual(["/v2/tenants/t.1/users/..."])
    }).pipe(Effect.provide(http.layer()))
  })

  it.effect("a connection failure is TransportError", () => {
    const failing = HttpClient.make((request) =>
      Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("ECONNREFUSED") }))
    )
    return Effect.gen(function*() {
      const error = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey }))
      expect(error).toMatchObject({ _tag: "TransportError", operationId: "completeUserTask", reason: "Transport" })
    }).pipe(
      Effect.provide(CamundaClient.layer().pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, failing))))
    )
  })
})

describe("tracing", () => {
  it.effect("any HttpClient: the operation span is the caller's child and the parent of the client's own span, and ends with the call's exit", () => {
    const http = mockHttp((request) =>
      request.url.pathname.endsWith("/assignee") ? problem(409, { title: "INVALID_STATE", status: 409 }) : new Response(null, { status: 204 })
    )
    return Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      yield* Effect.withTracer(
        Effect.withSpan(
          Effect.zipRight(UserTask.completeUserTask({ userTaskKey }), Effect.flip(UserTask.unassignUserTask({ userTaskKey }))),
          "caller"
        ),
        tracer
      )
      const caller = spans.find((span) => span.name === "caller")!
      const [completed, unassigned] = spans.filter((span) => span.name.startsWith("camunda."))
      const httpSpans = spans.filter((span) => span.name.startsWith("http.client"))
      expect([completed!.name, unassigned!.name]).toEqual(["camunda.completeUserTask", "camunda.unassignUserTask"])
      expect(httpSpans).toHaveLength(2)
      for (const [operation, httpSpan] of [[completed!, httpSpans[0]!], [unassigned!, httpSpans[1]!]] as const) {
        expect(Option.getOrUndefined(operation.parent)?.spanId).toBe(caller.spanId)
        expect(Option.getOrUndefined(httpSpan.parent)?.spanId).toBe(operation.spanId)
        expect(http.requests[httpSpans.indexOf(httpSpan)]!.headers["traceparent"]).toBe(
          `00-${httpSpan.traceId}-${httpSpan.spanId}-01`
        )
      }
      const exitOf = (span: Tracer.Span) => span.status._tag === "Ended" ? span.status.exit : undefined
      expect(exitOf(completed!)?._tag).toBe("Success")
      expect(exitOf(unassigned!)).toMatchObject({ _tag: "Failure", cause: { _tag: "Fail", error: { _tag: "Conflict" } } })
    }).pipe(Effect.provide(http.layer()))
  })
})
