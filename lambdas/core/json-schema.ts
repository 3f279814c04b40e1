/** The user's extraction schema: compiling it, listing its fields, checking values against it. */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ExtractionSchema } from './contracts';

const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: true });
addFormats(ajv);

const compiled = new Map<string, ValidateFunction>();

/** Compiles once per distinct schema text: a batch reuses the same schema for every company. */
function compile(schema: object): ValidateFunction {
  const text = JSON.stringify(schema);
  let validate = compiled.get(text);
  if (!validate) {
    // $schema/$id would make ajv look up meta-schemas or register ids; the shape is what matters here.
    const { $schema: _ignored, $id: _id, ...rest } = schema as Record<string, unknown>;
    validate = ajv.compile(rest);
    compiled.set(text, validate);
  }
  return validate;
}

/** Returns why a user's schema cannot be used, or undefined when it compiles. */
export function schemaProblem(schema: ExtractionSchema): string | undefined {
  try {
    compile(schema);
    return undefined;
  } catch (error) {
    return `extraction_schema is not a valid JSON Schema: ${(error as Error).message}`;
  }
}

export interface SchemaField {
  name: string;
  /** A short human label: the description if given, else the name with spaces. */
  label: string;
  required: boolean;
  schema: Record<string, unknown>;
}

export function fieldsOf(schema: ExtractionSchema): SchemaField[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    label: typeof property.description === 'string' && property.description.trim()
      ? property.description.trim()
      : name.replace(/[_-]+/g, ' '),
    required: required.has(name),
    schema: property,
  }));
}

/** A field counts as filled when it has a value a reader would accept: not null, not blank, not an empty list. */
export function isFilled(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim().length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Checks one value against its property's schema; returns the problem or undefined. */
export function fieldProblem(field: SchemaField, value: unknown): string | undefined {
  const validate = compile(field.schema);
  if (validate(value)) return undefined;
  return (validate.errors ?? []).map((e) => `${e.instancePath || 'value'} ${e.message}`).join(', ');
}

/**
 * Validates a whole record. `partial` drops `required`, because a record still being researched
 * (or of a company the web knows little about) legitimately lacks fields; every field present must still be valid.
 */
export function recordProblems(schema: ExtractionSchema, data: unknown, options: { partial: boolean }): string[] {
  const target = options.partial ? { ...schema, required: undefined } : schema;
  const validate = compile(target);
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(record)'} ${e.message}`);
}
