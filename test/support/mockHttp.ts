/**
 * An in-memory `HttpClient`: records every request the client sends and answers with
 * whatever the test scripts. No sockets.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Arbitrary from "effect/Arbitrary"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as Layer from "effect/Layer"
import * as CamundaClient from "../../src/CamundaClient.js"
import * as Retry from "../../src/Retry.js"
import type * as CamundaConfig from "../../src/CamundaConfig.js"

/** What the client sent. */
export interface Recorded {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** The body as text, for JSON and raw bodies. */
  readonly text: string | undefined
  /** The body as form data, for multipart bodies. */
  readonly form: FormData | undefined
}

const record = (request: HttpClientRequest.HttpClientRequest, url: URL): Recorded => {
  const body = request.body
  const text = body._tag === "Uint8Array" ? new TextDecoder().decode(body.body) : undefined
  return {
    method: request.method,
    url,
    headers: { ...request.headers, ...(body._tag === "Uint8Array" ? { "content-type": body.contentType } : {}) },
    text,
    form: body._tag === "FormData" ? body.formData : undefined
  }
}

/** A scripted HTTP client and the list of requests it received. */
export const mockHttp = (respond: (request: Recorded) => Response | Promise<Response>) => {
  const requests: Array<Recorded> = []
  const client = HttpClient.make((request, url) =>
    Effect.promise(async () => {
      const recorded = record(request, url)
      requests.push(recorded)
      return HttpClientResponse.fromWeb(request, await respond(recorded))
    })
  )
  const httpLayer = Layer.succeed(HttpClient.HttpClient, client)
  return {
    requests,
    httpLayer,
    /** `CamundaClient.layer(options)` over this client; no retries unless `options.retry` says so. */
    layer: (options: CamundaConfig.Options = {}) =>
      CamundaClient.layer({ restAddress: "http://camunda.test:8080", retry: Retry.none, ...options }).pipe(Layer.provide(httpLayer))
  }
}

/** A JSON answer. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })

/** A problem+json answer. */
export const problem = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/problem+json", ...headers } })

/** A valid JSON success body for an operation, generated from its own schema. */
export const sampleSuccessBody = (
  operation: { readonly descriptor: { readonly responses: Readonly<Record<number, unknown>> } },
  status = 200
): Response => {
  const body = operation.descriptor.responses[status] as { readonly _tag: string; readonly schema?: Schema.Schema<any, any> }
  if (body?.schema === undefined) throw new Error(`no JSON body for status ${status}`)
  const value = FastCheck.sample(Arbitrary.make(body.schema), { numRuns: 1, seed: 7 })[0]
  return json(status, Schema.encodeSync(body.schema)(value))
}

/** A valid `getTopology` body of a one-broker cluster. */
export const topologyBody = {
  brokers: [],
  clusterSize: 1,
  partitionsCount: 1,
  replicationFactor: 1,
  gatewayVersion: "8.9.0",
  lastCompletedChangeId: "-1",
  clusterId: "c"
}
