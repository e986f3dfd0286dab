import * as HttpBody from "@effect/platform/HttpBody"

/*
 * The encoding of multipart request bodies (`createDeployment`, `createDocument`,
 * `createDocuments`). Only the descriptors of those operations carry it
 * (`Descriptor.encodeMultipart`, written by the generator), so a program that calls none of
 * them bundles none of it.
 */

const isBinary = (value: unknown): value is Uint8Array | Blob => value instanceof Uint8Array || value instanceof Blob

const appendPart = (form: FormData, key: string, value: unknown): void => {
  if (isBinary(value)) {
    const blob = value instanceof Blob ? value : new Blob([value as Uint8Array<ArrayBuffer>])
    form.append(key, blob, value instanceof File ? value.name : key)
  } else if (typeof value === "string") {
    form.append(key, value)
  } else {
    form.append(key, new Blob([JSON.stringify(value)], { type: "application/json" }))
  }
}

/**
 * The form of a multipart body: a file (`Uint8Array`, `Blob`, `File`) is a part of its own,
 * an array of files one part per file under the field's name, a string a text part, anything
 * else one `application/json` part.
 *
 * @internal
 */
export const encode = (fields: Record<string, unknown>): HttpBody.HttpBody => {
  const form = new FormData()
  for (const [key, value] of Object.entries(fields)) {
    if (Array.isArray(value) && value.some(isBinary)) {
      for (const item of value) appendPart(form, key, item)
    } else {
      appendPart(form, key, value)
    }
  }
  return HttpBody.formData(form)
}
