import type { OpenApiDocument } from "@/lib/openapi";

/** Plain-text renderings of JSON Schema for the API reference page. */

type JsonSchema = OpenApiDocument["components"]["schemas"][string];

const asSchema = (s: unknown): JsonSchema => (s && typeof s === "object" ? (s as JsonSchema) : {});

function refName(schema: JsonSchema): string | undefined {
  return schema.$ref?.replace("#/components/schemas/", "");
}

function resolve(schema: JsonSchema, doc: OpenApiDocument): JsonSchema {
  const name = refName(schema);
  return name ? (doc.components.schemas[name] ?? {}) : schema;
}

/** `anyOf: [X, null]` and `type: [X, "null"]` both mean "X or null". */
function splitNull(schema: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const rest = branches.filter((b) => b.type !== "null");
    if (rest.length === 1 && rest.length < branches.length) return { schema: { ...schema, anyOf: undefined, oneOf: undefined, ...rest[0] }, nullable: true };
  }
  if (Array.isArray(schema.type) && schema.type.includes("null")) {
    const rest = schema.type.filter((t) => t !== "null");
    return { schema: { ...schema, type: rest.length === 1 ? rest[0] : rest }, nullable: true };
  }
  return { schema, nullable: false };
}

/** A short type such as `string (date-time) | null` or `ApiKey[]`. */
export function typeLabel(input: JsonSchema): string {
  const { schema, nullable } = splitNull(input);
  const label = baseLabel(schema);
  return nullable ? `${label} | null` : label;
}

function baseLabel(schema: JsonSchema): string {
  const name = refName(schema);
  if (name) return name;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return branches.map((b) => typeLabel(b)).join(" | ");
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  if (schema.type === "array") {
    const item = typeLabel(asSchema(schema.items));
    return item.includes(" ") ? `(${item})[]` : `${item}[]`;
  }
  if (schema.type === "string" && schema.format) return `string (${schema.format})`;
  return schema.type ?? "any";
}

/** Human-readable validation rules, e.g. `1–100 characters`, `> 0`, `default 60`. */
export function constraints(input: JsonSchema): string[] {
  const { schema } = splitNull(input);
  const out: string[] = [];
  if (schema.minLength !== undefined && schema.maxLength !== undefined) out.push(`${schema.minLength}–${schema.maxLength} characters`);
  else if (schema.maxLength !== undefined) out.push(`at most ${schema.maxLength} characters`);
  else if (schema.minLength !== undefined) out.push(`at least ${schema.minLength} characters`);
  if (typeof schema.exclusiveMinimum === "number") out.push(`> ${schema.exclusiveMinimum}`);
  if (schema.minimum !== undefined) out.push(`≥ ${schema.minimum.toLocaleString("en-US")}`);
  if (schema.maximum !== undefined) out.push(`≤ ${schema.maximum.toLocaleString("en-US")}`);
  if (schema.pattern) out.push(`matches ${schema.pattern}`);
  if (schema.default !== undefined) out.push(`default ${JSON.stringify(schema.default)}`);
  return out;
}

export interface FieldRow {
  name: string;
  type: string;
  required: boolean;
  description?: string;
  constraints: string[];
}

/** One row per property of an object schema. */
export function fieldRows(schema: JsonSchema, doc: OpenApiDocument): FieldRow[] {
  const object = resolve(schema, doc);
  const required = new Set(object.required ?? []);
  return Object.entries(object.properties ?? {}).map(([name, raw]) => {
    const prop = asSchema(raw);
    return { name, type: typeLabel(prop), required: required.has(name), description: prop.description, constraints: constraints(prop) };
  });
}

/** A JSON-like outline of a response, with types in place of values. */
export function shapeText(schema: JsonSchema, doc: OpenApiDocument, indent = "", seen: string[] = []): string {
  const name = refName(schema);
  if (name) {
    if (seen.includes(name)) return name;
    return shapeText(resolve(schema, doc), doc, indent, [...seen, name]);
  }
  const { schema: inner, nullable } = splitNull(schema);
  const orNull = nullable ? " | null" : "";
  const next = `${indent}  `;

  if (inner.type === "object" || inner.properties) {
    const props = Object.entries(inner.properties ?? {});
    const open = inner.additionalProperties !== undefined && inner.additionalProperties !== false;
    if (props.length === 0) return `{ … }${orNull}`;
    const required = new Set(inner.required ?? []);
    const lines = props.map(
      ([key, value]) => `${next}${JSON.stringify(key)}${required.has(key) ? "" : "?"}: ${shapeText(asSchema(value), doc, next, seen)}`,
    );
    if (open) lines.push(`${next}…`);
    return `{\n${lines.join(",\n")}\n${indent}}${orNull}`;
  }
  if (inner.type === "array") {
    const items = asSchema(inner.items);
    if (Object.keys(items).length === 0) return `[ … ]${orNull}`;
    return `[\n${next}${shapeText(items, doc, next, seen)}\n${indent}]${orNull}`;
  }
  return typeLabel(schema);
}
