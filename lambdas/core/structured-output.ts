/**
 * The shape Dossier asks a model to answer in, and how it is asked. Claude's structured outputs
 * (`output_config.format`) guarantee an answer that parses against a JSON Schema, but only a subset of JSON Schema:
 * every object closed and all its properties required, no numeric, length or item-count bounds, no `not`, `if`,
 * `patternProperties`, open maps or complex enums, and at most 16 nullable properties (`anyOf` or type lists) in all.
 * Bounds are only moved into descriptions (ajv checks them after the answer, and a broken bound is repaired); a schema
 * using anything else is asked for with a forced tool call, which takes any JSON Schema but guarantees less.
 */
import type { ExtractionSchema } from './contracts';

export type AnswerFormat = 'json_schema' | 'tool';

type Schema = Record<string, unknown>;

/** Bounds structured outputs cannot enforce: stated in the description instead, where a model reads them. */
const BOUNDS: Record<string, (v: unknown) => string> = {
  minimum: (v) => `at least ${v}`,
  maximum: (v) => `at most ${v}`,
  exclusiveMinimum: (v) => `more than ${v}`,
  exclusiveMaximum: (v) => `less than ${v}`,
  multipleOf: (v) => `a multiple of ${v}`,
  minLength: (v) => `at least ${v} characters`,
  maxLength: (v) => `at most ${v} characters`,
  maxItems: (v) => `at most ${v} items`,
  uniqueItems: (v) => (v ? 'no repeated items' : ''),
  minProperties: (v) => `at least ${v} properties`,
  maxProperties: (v) => `at most ${v} properties`,
  pattern: (v) => `matching the pattern ${v}`,
};
const SUPPORTED_FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid']);
/** Keywords structured outputs has no equivalent for: their schema goes the forced-tool way. */
const UNSUPPORTED = ['not', 'if', 'then', 'else', 'patternProperties', 'prefixItems', 'contains', 'dependentSchemas', 'dependencies', 'unevaluatedProperties', 'unevaluatedItems', 'propertyNames', '$ref'];
/** Structured outputs' grammar limit on properties that use anyOf or a list of types. */
export const MAX_NULLABLE_PROPERTIES = 16;

class Unsupported extends Error {}

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Allows null besides the schema: how a model says "the sources do not state it". */
function nullable(schema: Schema, count: { nullable: number }): Schema {
  count.nullable += 1;
  const type = schema.type;
  if (typeof type === 'string' && type !== 'null' && !('enum' in schema) && !('const' in schema)) return { ...schema, type: [type, 'null'] };
  if (Array.isArray(type) && !('enum' in schema)) return type.includes('null') ? schema : { ...schema, type: [...type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}

/** The schema in the form structured outputs accepts, or Unsupported. */
function strict(schema: unknown, count: { nullable: number }): Schema {
  if (schema === true || (isObject(schema) && Object.keys(schema).length === 0)) throw new Unsupported('a field of any type');
  if (!isObject(schema)) throw new Unsupported('a boolean schema');
  for (const key of UNSUPPORTED) if (key in schema) throw new Unsupported(key);
  const out: Schema = {};
  const notes: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (key in BOUNDS) {
      const note = BOUNDS[key]!(value);
      if (note) notes.push(note);
    } else if (key === 'minItems') {
      // 0 and 1 are enforced; more is stated.
      if (typeof value === 'number' && value <= 1) out.minItems = value;
      else notes.push(`at least ${value} items`);
    } else if (key === 'format') {
      if (SUPPORTED_FORMATS.has(String(value))) out.format = value;
      else notes.push(`format ${value}`);
    } else if (key === 'enum') {
      if (!Array.isArray(value) || value.some((v) => typeof v === 'object' && v !== null)) throw new Unsupported('an enum of objects or lists');
      out.enum = value;
    } else if (key === 'items') {
      if (!isObject(value)) throw new Unsupported('items as a list');
      out.items = strict(value, count);
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      if (!Array.isArray(value)) throw new Unsupported(key);
      // oneOf is anyOf for a model's answer: ajv checks the exclusivity afterwards.
      const target = key === 'allOf' ? 'allOf' : 'anyOf';
      out[target] = value.map((v) => strict(v, count));
      if (target === 'anyOf') count.nullable += 1;
    } else if (key === 'properties' || key === 'required' || key === 'additionalProperties') {
      // handled below, for objects
    } else {
      out[key] = value;
    }
  }
  if (Array.isArray(out.type)) count.nullable += 1;
  const isObjectType = schema.type === 'object' || (Array.isArray(schema.type) && schema.type.includes('object')) || 'properties' in schema;
  if (isObjectType) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    if (Object.keys(properties).length === 0) throw new Unsupported('an object without properties (a map)');
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) throw new Unsupported('additionalProperties');
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    // Strict objects list every property as required: an optional one becomes nullable instead.
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([name, sub]) => {
        const converted = strict(sub, count);
        return [name, required.has(name) ? converted : nullable(converted, count)];
      }),
    );
    out.required = Object.keys(properties);
    out.additionalProperties = false;
  }
  if (notes.length) {
    const description = typeof schema.description === 'string' && schema.description.trim() ? schema.description.trim() : '';
    out.description = `${description}${description ? ' ' : ''}(${notes.join('; ')})`;
  }
  return out;
}

const passageItem = (extra: Schema = {}) => ({
  type: 'object',
  additionalProperties: false,
  required: ['source_id', 'excerpt', ...Object.keys(extra)],
  properties: {
    source_id: { type: 'integer', description: 'The id of the source the passage is copied from.' },
    excerpt: { type: 'string', description: 'A short passage copied word for word from that source.' },
    ...extra,
  },
});

/** One field of the answer: its value (null when no source states it), the passages that state it, and doubts. */
function fieldAnswer(value: Schema): Schema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['value', 'evidence', 'confidence', 'conflicting'],
    properties: {
      value,
      evidence: { type: 'array', description: 'Passages stating the value, each copied verbatim from one source.', items: passageItem() },
      confidence: { type: 'number', description: 'From 0 to 1: how sure you are that the value is right and about this company.' },
      conflicting: {
        type: 'array',
        description: 'Passages of other sources that state a different value for this field.',
        items: passageItem({ value: { type: 'string', description: 'The value that passage states.' } }),
      },
    },
  };
}

export interface AnswerRequest {
  schema: Schema;
  format: AnswerFormat;
  /** Why the forced tool is used, when it is. */
  reason?: string;
}

/**
 * The answer schema for the extraction of `fields` (all of the user's by default): structured outputs when every
 * field's schema fits its subset, a forced tool call with the user's schemas as they are otherwise.
 */
export function extractionAnswer(schema: ExtractionSchema, fields: string[] = Object.keys(schema.properties)): AnswerRequest {
  const wrap = (convert: (field: Schema) => Schema): Schema => ({
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: {
      fields: {
        type: 'object',
        additionalProperties: false,
        required: fields,
        properties: Object.fromEntries(fields.map((name) => [name, fieldAnswer(convert(schema.properties[name] ?? {}))])),
      },
    },
  });
  const count = { nullable: 0 };
  try {
    const strictSchema = wrap((field) => nullable(strict(field, count), count));
    if (count.nullable > MAX_NULLABLE_PROPERTIES) {
      throw new Unsupported(`${count.nullable} nullable properties (structured outputs allows ${MAX_NULLABLE_PROPERTIES})`);
    }
    return { schema: strictSchema, format: 'json_schema' };
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    return { schema: wrap((field) => ({ anyOf: [field, { type: 'null' }] })), format: 'tool', reason: error.message };
  }
}

/** The answer schema of the small judgement reflection asks for when rules cannot tell whether two values agree. */
export const SAME_VALUE_ANSWER: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['verdicts'],
  properties: {
    verdicts: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['pair', 'same_value'],
        properties: {
          pair: { type: 'integer', description: 'The number of the pair.' },
          same_value: { type: 'boolean', description: 'Whether the two statements give the same value.' },
        },
      },
    },
  },
};
