import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type { Auth } from "../Auth.js"

/** @internal */
export const authorize = (auth: Auth) => (request: HttpClientRequest.HttpClientRequest) => {
  switch (auth._tag) {
    case "None":
      return request
    case "Basic":
      return HttpClientRequest.basicAuth(request, auth.username, auth.password)
    case "Bearer":
      return HttpClientRequest.bearerToken(request, auth.token)
    case "OAuth":
      // the token is added by the client's token provider (internal/oauth.ts)
      return request
  }
}
