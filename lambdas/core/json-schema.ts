/** The user's extraction schema: compiling it, listing its fields, checking values against it. */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ExtractionSchema } from './contracts';

// Made on first use: every function parses the contracts (which inline references, below), few compile schemas.
let ajv: Ajv | undefined;
function validator(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ allErrors: true, strict: false, validateSchema: true });
    addFormats(ajv);
  }
  return ajv;
}

const compiled = new Map<string, ValidateFunction>();

/** Compiles once per distinct schema text: a batch reuses the same schema for every company. */
function compile(schema: object): ValidateFunction {
  const text = JSON.stringify(schema);
  let validate = compiled.get(text);
  if (!validate) {
    // $schema/$id would make ajv look up meta-schemas or register ids; the shape is what matters here.
    const { $schema: _ignored, $id: _id, ...rest } = schema as Record<string, unknown>;
    validate = validator().compile(rest);
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

// ── Local references ────────────────────────────────────────────────────────────────────
// Pydantic's model_json_schema() and most generators put nested models in `$defs` (or `definitions`) and point at
// them with `$ref`. Every step looks at one field's schema on its own (the model's tool, a field's validation), where
// such a pointer leads nowhere: so references are inlined once, when a schema comes in, and the pipeline never sees one.

type JsonObject = Record<string, unknown>;
type Path = (string | number)[];

/** Keywords whose value is one schema (`items` may also be a list of them). */
const SCHEMA_KEYWORDS = new Set([
  'items', 'additionalItems', 'additionalProperties', 'contains', 'propertyNames', 'not', 'if', 'then', 'else',
  'unevaluatedItems', 'unevaluatedProperties', 'contentSchema',
]);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
/** Keywords whose value maps names to schemas (`dependencies` may also map a name to a list of names). */
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', 'dependentSchemas', 'dependencies']);
/** Where referenced schemas live; dropped once everything they hold is inlined where it is used. */
const DEFINITION_KEYWORDS = new Set(['$defs', 'definitions']);
/** Keywords that change no rule: next to a `$ref` they can simply be merged into what it points to. */
const ANNOTATION_KEYWORDS = new Set(['title', 'description', 'default', 'examples', '$comment', 'deprecated', 'readOnly', 'writeOnly']);

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

export interface SchemaRefProblem {
  /** Where the offending `$ref` is, inside the schema as the user wrote it. */
  path: Path;
  message: string;
}

export interface InlinedRefs {
  /** The schema with every reference replaced by what it points to; may share subtrees where one definition is used twice. */
  schema: JsonObject;
  /** How many `$ref`s were replaced. */
  inlined: number;
  problems: SchemaRefProblem[];
}

/** The tokens of a JSON pointer fragment (`#/$defs/Address` → ['$defs', 'Address']), or undefined if it is not one. */
function pointerTokens(ref: string): string[] | undefined {
  if (ref === '#') return [];
  if (!ref.startsWith('#/')) return undefined;
  try {
    return ref.slice(2).split('/').map((token) => decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~'));
  } catch {
    return undefined;
  }
}

function pointerTarget(root: unknown, tokens: string[]): unknown {
  let node = root;
  for (const token of tokens) {
    if (Array.isArray(node) && /^\d+$/.test(token)) node = node[Number(token)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else return undefined;
  }
  return node;
}

/** What a `$ref` with other keywords beside it becomes: one schema that applies both. */
function withSiblings(target: unknown, siblings: JsonObject): unknown {
  // A boolean schema becomes an object, so every field's schema stays an object.
  const base: JsonObject = isObject(target) ? target : target === false ? { not: {} } : {};
  if (Object.keys(siblings).length === 0) return base;
  if (Object.keys(siblings).every((key) => ANNOTATION_KEYWORDS.has(key))) return { ...base, ...siblings };
  // Rules on both sides: merging keys could change what they mean (additionalProperties next to properties), allOf cannot.
  const { allOf, ...rest } = siblings;
  return { ...rest, allOf: [base, ...(Array.isArray(allOf) ? allOf : [])] };
}

/**
 * Replaces every local `$ref` ("#/$defs/Address", "#/definitions/Address", any "#/…" JSON pointer) with the schema it
 * points to, nested and repeated uses included, and drops `$defs`/`definitions`. A reference that leaves the document,
 * points to nothing, or leads back into itself cannot be inlined: it is reported with where it is, and why.
 * Only schema positions are searched, so a property named "$ref" or an `enum` value holding one is left alone.
 */
export function inlineLocalRefs(schema: JsonObject): InlinedRefs {
  const problems: SchemaRefProblem[] = [];
  const done = new Map<object, unknown>();
  // The references being followed, outermost first: meeting one of their targets again is a cycle.
  const open: { ref: string; target: object }[] = [{ ref: '#', target: schema }];
  let inlined = 0;

  const follow = (ref: string, at: Path): { target: unknown } | undefined => {
    const fail = (message: string) => {
      problems.push({ path: at, message: `"${ref}" ${message}` });
      return undefined;
    };
    if (!ref.startsWith('#')) {
      return fail('is not a local reference: only references into extraction_schema itself, like "#/$defs/Address", can be resolved');
    }
    const tokens = pointerTokens(ref);
    if (!tokens) return fail('is not a JSON pointer: only references like "#/$defs/Address" can be resolved');
    const target = pointerTarget(schema, tokens);
    if (target === undefined) return fail('points to nothing in extraction_schema');
    if (typeof target === 'boolean') return { target };
    if (!isObject(target)) return fail(`points to ${Array.isArray(target) ? 'a list' : `a ${typeof target}`}, not a schema`);
    if (done.has(target)) return { target: done.get(target) };
    const cycle = open.findIndex((o) => o.target === target);
    if (cycle >= 0) {
      const chain = [...open.slice(cycle).map((o) => o.ref), ref].join(' → ');
      return fail(`refers back to itself (${chain}): a recursive schema cannot be inlined into fixed fields`);
    }
    open.push({ ref, target });
    const resolved = walk(target, tokens);
    open.pop();
    done.set(target, resolved);
    return { target: resolved };
  };

  const walkKeyword = (key: string, value: unknown, at: Path): unknown => {
    if (SCHEMA_KEYWORDS.has(key)) {
      return Array.isArray(value) && key === 'items' ? value.map((item, i) => walk(item, [...at, i])) : walk(value, at);
    }
    if (SCHEMA_LIST_KEYWORDS.has(key)) return Array.isArray(value) ? value.map((item, i) => walk(item, [...at, i])) : value;
    if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
      return Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, Array.isArray(sub) ? sub : walk(sub, [...at, name])]));
    }
    return value; // data (enum, const, default, examples) and keywords we do not know: not schemas
  };

  function walk(node: unknown, at: Path): unknown {
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (DEFINITION_KEYWORDS.has(key) || (key === '$ref' && typeof value === 'string')) continue;
      out[key] = walkKeyword(key, value, [...at, key]);
    }
    // A $ref that is not a string is left for the JSON Schema check (schemaProblem) to report.
    if (typeof node.$ref !== 'string') return out;
    const followed = follow(node.$ref, [...at, '$ref']);
    if (!followed) return out;
    inlined += 1;
    return withSiblings(followed.target, out);
  }

  return { schema: walk(schema, []) as JsonObject, inlined, problems };
}

/**
 * The size of `value` as JSON text, in UTF-8 bytes, without writing it out: an inlined schema shares the subtree of a
 * definition used many times, and one used twice at every level of a chain would be too big to ever write.
 */
export function jsonByteLength(value: unknown, sizes = new WeakMap<object, number>()): number {
  if (typeof value !== 'object' || value === null) return Buffer.byteLength(JSON.stringify(value) ?? 'null');
  const known = sizes.get(value);
  if (known !== undefined) return known;
  let size: number;
  if (Array.isArray(value)) {
    size = 2 + Math.max(0, value.length - 1) + value.reduce((sum: number, item) => sum + jsonByteLength(item, sizes), 0);
  } else {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    size = 2 + Math.max(0, entries.length - 1) + entries.reduce((sum, [k, v]) => sum + Buffer.byteLength(JSON.stringify(k)) + 1 + jsonByteLength(v, sizes), 0);
  }
  sizes.set(value, size);
  return size;
}
