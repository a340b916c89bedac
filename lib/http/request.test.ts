import { describe, expect, it } from "vitest";
import { HttpError } from "@/lib/http/errors";
import { assertSingleCredentialHeaders, readJsonBody, withDefault } from "@/lib/http/request";

/**
 * readJsonBody and the credential-header check on bare Requests: the edges
 * the route-level suites (test/hardening.test.ts) do not reach.
 */

function post(body: BodyInit | undefined, headers: Record<string, string> = { "content-type": "application/json" }) {
  return new Request("http://localhost:3000/api/x", { method: "POST", body, headers });
}

async function refusal(req: Request): Promise<HttpError> {
  const err = await readJsonBody(req).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
}

describe("readJsonBody: text that cannot be stored", () => {
  it("names a lone surrogate nested in objects and arrays by its dotted path", async () => {
    const err = await refusal(post('{"a":{"b":["ok","\\udc00"]}}'));
    expect(err.status).toBe(400);
    expect(err.code).toBe("validation_error");
    expect(err.details?.[0].path).toBe("a.b.1");
    expect(err.message).toContain("a.b.1");
  });

  it("a lone surrogate in a nested field name is refused, naming the object that holds it", async () => {
    const err = await refusal(post('{"outer":{"\\ud800x":1}}'));
    expect(err.code).toBe("validation_error");
    expect(err.message).toMatch(/field name in outer/);
  });

  it("a body nested thousands of levels deep is answered, not a stack overflow", async () => {
    const depth = 8000;
    const body = `${"[".repeat(depth)}"\\ud800"${"]".repeat(depth)}`;
    const err = await refusal(post(body));
    expect(err.code).toBe("validation_error");
    const clean = await readJsonBody(post(`${"[".repeat(depth)}1${"]".repeat(depth)}`));
    expect(Array.isArray(clean)).toBe(true);
  });

  it("does not guess which field held invalid UTF-8 when the body also has a real U+FFFD", async () => {
    for (const genuine of ["\uFFFD", "\\ufffd"]) {
      const body = Buffer.concat([Buffer.from(`{"a":"${genuine}","name":"x`), Buffer.from([0xff]), Buffer.from('"}')]);
      const err = await refusal(post(body));
      expect(err.code).toBe("invalid_json");
      expect(err.message).toMatch(/not valid UTF-8/);
    }
  });

  it("a real U+FFFD, NUL-free and well-formed, is accepted as text", async () => {
    expect(await readJsonBody(post('{"name":"\uFFFD \\ufffd"}'))).toEqual({ name: "\uFFFD \uFFFD" });
  });
});

describe("readJsonBody: media type", () => {
  it("refuses a declared body of the wrong type with 415 before reading it", async () => {
    const err = await refusal(post('{"name":"x"}', { "content-type": "text/plain", "content-length": "12" }));
    expect(err.status).toBe(415);
    expect(err.code).toBe("unsupported_media_type");
  });

  it("an empty body needs no Content-Type; a blank one with application/json is still no fields", async () => {
    expect(withDefault(await readJsonBody(post(new Uint8Array(0), {})))).toEqual({});
    expect(withDefault(await readJsonBody(post(undefined, { "content-type": "text/plain" })))).toEqual({});
    expect(withDefault(await readJsonBody(post("  \n", { "content-type": "application/json" })))).toEqual({});
    const err = await refusal(post("  \n", { "content-type": "text/plain" }));
    expect(err.status).toBe(415);
  });
});

describe("assertSingleCredentialHeaders", () => {
  it("refuses Authorization or x-api-key appended twice, and allows one of each", () => {
    for (const name of ["authorization", "x-api-key"]) {
      const headers = new Headers();
      headers.append(name, "Bearer a");
      headers.append(name, "Bearer a");
      expect(() => assertSingleCredentialHeaders(new Request("http://localhost/", { headers }))).toThrow(/more than one/);
    }
    const single = new Headers({ authorization: "Bearer a", "x-api-key": "sk_b" });
    expect(() => assertSingleCredentialHeaders(new Request("http://localhost/", { headers: single }))).not.toThrow();
  });
});
