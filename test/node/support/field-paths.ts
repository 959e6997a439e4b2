/**
 * Flattens a decoded request into one line per field: the path of field numbers, the names, the wire type and
 * the value, e.g. `2.5.3 definition.resources.milli_cpu varint 2000`. Comparing these lists compares field
 * numbers, wire types and values at once, and a difference reads like a proto diff.
 */
import { MESSAGES, SCALARS } from "../../emulators/modal/schema.ts";

type Fields = Readonly<Record<string, unknown>>;

const WIRE: Record<string, string> = {
  double: "i64",
  float: "i32",
  bool: "varint",
  int32: "varint",
  uint32: "varint",
  int64: "varint",
  uint64: "varint",
};

function fieldByName(type: string, name: string): { number: number; type: string } | undefined {
  for (const [number, [fieldName, fieldType]] of Object.entries(MESSAGES[type] ?? {})) {
    if (fieldName === name) return { number: Number(number), type: fieldType };
  }
  return undefined;
}

function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function flattenFields(type: string, message: Fields, path = "", names = ""): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(message)) {
    if (name.startsWith("#")) {
      // Not in the schema (or a wire type the schema does not expect): keep it visible, raw.
      lines.push(`${path}${name.slice(1)} ${names}? ${JSON.stringify(value)}`);
      continue;
    }
    const field = fieldByName(type, name);
    if (field === undefined) throw new Error(`${type}.${name} is not in the schema`);
    const fieldPath = `${path}${field.number}`;
    const fieldNames = `${names}${name}`;
    const values: unknown[] = Array.isArray(value) ? value : [value];
    values.forEach((item, index) => {
      const at = Array.isArray(value) ? `[${index}]` : "";
      if (field.type.startsWith("map<")) {
        if (!isFields(item)) throw new Error(`${fieldNames} is not a map`);
        for (const [key, entry] of Object.entries(item)) {
          lines.push(`${fieldPath}{${key}} ${fieldNames}{${key}} len ${JSON.stringify(entry)}`);
        }
      } else if (SCALARS.has(field.type)) {
        lines.push(
          `${fieldPath}${at} ${fieldNames}${at} ${WIRE[field.type] ?? "len"} ${JSON.stringify(item)}`,
        );
      } else {
        if (!isFields(item)) throw new Error(`${fieldNames} is not a message`);
        // The message's own presence matters (an empty `open_ports` is sent on purpose).
        lines.push(`${fieldPath}${at} ${fieldNames}${at} len {${field.type}}`);
        lines.push(...flattenFields(field.type, item, `${fieldPath}${at}.`, `${fieldNames}${at}.`));
      }
    });
  }
  return lines.sort();
}
