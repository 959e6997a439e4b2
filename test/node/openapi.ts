/**
 * GitHub's published OpenAPI description (@octokit/openapi) and a validator for the subset of JSON Schema it uses
 * in the operations we care about: `$ref`, `type`, OpenAPI 3.0 `nullable`, `enum`, `required`, `properties`,
 * `additionalProperties`, `items`, `minItems`/`maxItems`, `minimum`/`maximum`, `minLength`/`maxLength`, `allOf`/`anyOf`/
 * `oneOf` (the latter read as `anyOf`: GitHub's `oneOf`s overlap on `null`). Unknown keywords are ignored, which
 * can only make the check more lenient, never wrongly strict.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface OpenApi {
  document: JsonObject;
  /** The JSON schema of an operation's JSON request body. */
  requestSchema(method: string, path: string): JsonObject;
  /** The JSON schema of an operation's response for a status; undefined when it has no body. */
  responseSchema(method: string, path: string, status: number): JsonObject | undefined;
  hasOperation(method: string, path: string): boolean;
  /** Validation errors of `value` against `schema` (empty when valid). */
  validate(schema: JsonObject, value: unknown): string[];
}

export function loadOpenApi(file: "api.github.com.json" | "ghes-3.17.json"): OpenApi {
  const require = createRequire(import.meta.url);
  const text = readFileSync(require.resolve(`@octokit/openapi/generated/${file}`), "utf8");
  const parsed: Json = JSON.parse(text);
  if (!isObject(parsed)) throw new Error("not an OpenAPI document");
  const document = parsed;

  const resolve = (node: JsonObject): JsonObject => {
    let current = node;
    for (let depth = 0; typeof current.$ref === "string"; depth++) {
      if (depth > 20) throw new Error("$ref loop");
      const target = current.$ref
        .replace(/^#\//, "")
        .split("/")
        .reduce<Json | undefined>(
          (at, key) => (isObject(at) ? at[key.replace(/~1/g, "/")] : undefined),
          document,
        );
      if (!isObject(target)) throw new Error(`unresolved $ref ${current.$ref}`);
      current = target;
    }
    return current;
  };

  const operation = (method: string, path: string): JsonObject => {
    const paths = document.paths;
    const item = isObject(paths) ? paths[path] : undefined;
    const op = isObject(item) ? item[method.toLowerCase()] : undefined;
    if (!isObject(op)) throw new Error(`no operation ${method} ${path}`);
    return op;
  };

  const jsonSchemaOf = (content: Json | undefined): JsonObject | undefined => {
    const media = isObject(content) ? content["application/json"] : undefined;
    const schema = isObject(media) ? media.schema : undefined;
    return isObject(schema) ? schema : undefined;
  };

  const validate = (schemaNode: JsonObject, value: unknown, path: string, errors: string[]): void => {
    const schema = resolve(schemaNode);
    if (value === null && schema.nullable === true) return;
    const branches = (key: string) => (Array.isArray(schema[key]) ? schema[key].filter(isObject) : []);

    for (const part of branches("allOf")) validate(part, value, path, errors);
    for (const key of ["anyOf", "oneOf"]) {
      const options = branches(key);
      if (options.length > 0 && !options.some((option) => check(option, value).length === 0)) {
        errors.push(`${path}: matches none of ${key}`);
      }
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((option) => option === value)) {
      errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
    }

    const type = schema.type;
    if (typeof type === "string") {
      const actual =
        value === null
          ? "null"
          : Array.isArray(value)
            ? "array"
            : typeof value === "number" && Number.isInteger(value)
              ? "integer"
              : typeof value;
      const fits = actual === type || (type === "number" && actual === "integer");
      if (!fits) {
        errors.push(`${path}: expected ${type}, got ${actual}`);
        return;
      }
    }
    if (typeof value === "number") {
      if (typeof schema.minimum === "number" && value < schema.minimum) errors.push(`${path}: below minimum`);
      if (typeof schema.maximum === "number" && value > schema.maximum) errors.push(`${path}: above maximum`);
    }
    if (
      typeof value === "string" &&
      typeof schema.minLength === "number" &&
      value.length < schema.minLength
    ) {
      errors.push(`${path}: shorter than ${schema.minLength}`);
    }
    if (
      typeof value === "string" &&
      typeof schema.maxLength === "number" &&
      value.length > schema.maxLength
    ) {
      errors.push(`${path}: longer than ${schema.maxLength}`);
    }
    if (Array.isArray(value)) {
      if (typeof schema.minItems === "number" && value.length < schema.minItems) {
        errors.push(`${path}: fewer than ${schema.minItems} items`);
      }
      if (typeof schema.maxItems === "number" && value.length > schema.maxItems) {
        errors.push(`${path}: more than ${schema.maxItems} items`);
      }
      const items = schema.items;
      if (isObject(items)) {
        for (const [index, item] of value.entries()) validate(items, item, `${path}[${index}]`, errors);
      }
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const record = new Map(Object.entries(value));
      const required = Array.isArray(schema.required) ? schema.required : [];
      for (const name of required) {
        if (typeof name === "string" && !record.has(name)) errors.push(`${path}: missing required ${name}`);
      }
      const properties = isObject(schema.properties) ? schema.properties : {};
      for (const [name, propertyValue] of record) {
        const property = properties[name];
        if (isObject(property)) validate(property, propertyValue, `${path}.${name}`, errors);
        else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property ${name}`);
        else if (isObject(schema.additionalProperties)) {
          validate(schema.additionalProperties, propertyValue, `${path}.${name}`, errors);
        }
      }
    }
  };

  const check = (schema: JsonObject, value: unknown): string[] => {
    const errors: string[] = [];
    validate(schema, value, "$", errors);
    return errors;
  };

  return {
    document,
    requestSchema(method, path) {
      const body = operation(method, path).requestBody;
      const schema = isObject(body) ? jsonSchemaOf(resolve(body).content) : undefined;
      if (schema === undefined) throw new Error(`no JSON request body for ${method} ${path}`);
      return schema;
    },
    responseSchema(method, path, status) {
      const responses = operation(method, path).responses;
      const response = isObject(responses) ? responses[String(status)] : undefined;
      if (!isObject(response)) throw new Error(`${method} ${path} documents no ${status}`);
      return jsonSchemaOf(resolve(response).content);
    },
    hasOperation(method, path) {
      try {
        operation(method, path);
        return true;
      } catch {
        return false;
      }
    },
    validate: check,
  };
}
