/**
 * The wire contracts of Dossier, in one place. Field names follow the seed design (snake_case).
 * The API's request model is generated from these zod schemas, so the edge and the handlers check the same rules.
 */
import { z } from 'zod';
import { inlineLocalRefs, jsonByteLength } from './json-schema';

/** The schema rides along in every company's state, with its references inlined; Step Functions caps a state at 256 KB. */
export const MAX_SCHEMA_BYTES = 32 * 1024;

/**
 * An object that refuses keys it does not know: a misspelt option (`max_iteration`) would otherwise be dropped
 * without a word and its default used. The message names the key and lists the ones this object takes.
 */
function closedObject<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const known = issue.inst instanceof z.ZodObject ? Object.keys(issue.inst.shape) : [];
      const unknown = issue.keys.map((key) => `"${key}"`).join(', ');
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${unknown}; the known keys are ${known.join(', ')}`;
    },
  });
}

/**
 * A user's extraction schema: a JSON Schema object whose top-level properties are the fields to research.
 * It comes out with its local `$ref`s inlined (see inlineLocalRefs), so the handlers, the A2A skills and the stored
 * job all work with a schema in which every field's schema stands on its own.
 */
export const extractionSchemaSchema = z
  .object({
    type: z.literal('object', { message: 'extraction_schema.type must be "object"' }),
    properties: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .refine((p) => Object.keys(p).length > 0, 'extraction_schema.properties must name at least one field'),
    required: z.array(z.string()).optional(),
  })
  .loose()
  .superRefine((schema, ctx) => {
    // Completeness only counts the fields in properties: a required field outside them would make a record
    // "complete" that still fails the schema.
    const strays = (schema.required ?? []).filter((name) => !Object.hasOwn(schema.properties, name));
    if (strays.length === 0) return;
    const names = strays.map((name) => `"${name}"`).join(', ');
    ctx.addIssue({
      code: 'custom',
      path: ['required'],
      message: `extraction_schema.required names ${names}, ${strays.length > 1 ? 'which are' : 'which is'} not in extraction_schema.properties`,
    });
  })
  .transform((schema, ctx) => {
    const { schema: inlined, inlined: count, problems } = inlineLocalRefs(schema);
    for (const problem of problems) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    if (problems.length > 0) return z.NEVER;
    // Measured before it is written out: a definition used twice at every level of a chain grows exponentially.
    const bytes = jsonByteLength(inlined);
    if (bytes > MAX_SCHEMA_BYTES) {
      // Such a chain's size can run to more digits than are worth reading (or to Infinity).
      const size = bytes > 10 * MAX_SCHEMA_BYTES ? `over ${10 * MAX_SCHEMA_BYTES}` : String(bytes);
      ctx.addIssue({
        code: 'too_big',
        origin: 'bytes',
        maximum: MAX_SCHEMA_BYTES,
        inclusive: true,
        message: `extraction_schema must be at most ${MAX_SCHEMA_BYTES} bytes${count > 0 ? ' with its $refs inlined' : ''}; it is ${size}`,
      });
      return z.NEVER;
    }
    // A JSON round trip: a definition used twice becomes two copies, as it will be in every state that carries it.
    return JSON.parse(JSON.stringify(inlined)) as typeof schema;
  });
export type ExtractionSchema = z.infer<typeof extractionSchemaSchema>;

export const companyNameSchema = z
  .string()
  .trim()
  .min(1, 'company name must not be empty')
  .max(200, 'company name must be at most 200 characters');

/**
 * The web domain that pins which company a name means ("mercury-freight.example"). A URL is accepted too and cut to
 * its host, without "www.", lower-cased: pages are compared by host, and that is how a host is compared.
 */
export const domainSchema = z
  .string()
  .trim()
  .max(253, 'domain must be at most 253 characters')
  .transform((text, ctx) => {
    const host = hostOfDomainInput(text);
    // An address is no company's domain, and research would be asked to read whatever answers there.
    if (host && /^\d+(\.\d+){3}$/.test(host)) {
      ctx.addIssue({ code: 'custom', message: `domain must be a host name like "example.com", not an IP address ("${text}")` });
      return z.NEVER;
    }
    if (!host) {
      ctx.addIssue({ code: 'custom', message: `domain must be a host name like "example.com", not "${text}"` });
      return z.NEVER;
    }
    return host;
  });

function hostOfDomainInput(text: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let host: string;
  try {
    host = new URL(withScheme).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  host = host.replace(/^www\./, '').replace(/\.$/, '');
  return /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(host) ? host : undefined;
}

/** A company to research: its name, or its name and the domain that says which company of that name is meant. */
export const companyInputSchema = z.union([
  companyNameSchema,
  closedObject({ company_name: companyNameSchema, domain: domainSchema.optional() }),
]);
export type CompanyInput = z.infer<typeof companyInputSchema>;

/** One shape for both forms of a company: the manifest, the state and the result carry this. */
export function companyEntry(company: CompanyInput): { company_name: string; domain: string | null } {
  return typeof company === 'string' ? { company_name: company, domain: null } : { company_name: company.company_name, domain: company.domain ?? null };
}

/**
 * Where research searches: Tavily, Gemini with Google Search grounding, or both. `hybrid` (the seed's default)
 * spreads a round's queries over the two and sends a query one of them throttles or fails to the other; with only
 * one of the two keys configured it searches with that one (lambdas/shared/providers.ts).
 */
export const SEARCH_PROVIDERS = ['tavily', 'google', 'hybrid'] as const;
// Tavily by default: a grounded Gemini prompt costs about seven Tavily searches. `hybrid` (the seed's default) and
// `google` are a request field away.
export const searchProviderSchema = z.enum(SEARCH_PROVIDERS).default('tavily');
export type SearchProviderName = z.infer<typeof searchProviderSchema>;

/** How hard a search digs: Tavily bills a basic search 1 credit, an advanced one 2. */
export const searchDepthSchema = z.enum(['basic', 'advanced']);
export type SearchDepth = z.infer<typeof searchDepthSchema>;

/** Which of the deployment's two Claude models a step asks (lib/dossier-stack.ts names them: Haiku and Sonnet by default). */
export const modelClassSchema = z.enum(['small', 'large']);
export type ModelClass = z.infer<typeof modelClassSchema>;

/**
 * Who writes a research round's notes: one of the two models, or `none`: no notes call, the notes are the list of
 * the pages read, and extraction reads (and quotes) the pages themselves, as it does in every case.
 */
export const notesModelSchema = z.enum(['none', 'small', 'large']);
export type NotesModel = z.infer<typeof notesModelSchema>;

/** What a job buys per company: lambdas/core/tiers.ts says what each tier means. */
export const tierSchema = z.enum(['economy', 'standard', 'deep']);
export type Tier = z.infer<typeof tierSchema>;

/** One model's tokens. Cache writes and reads are counted apart from the rest of the input: they are priced apart. */
export const modelUsageSchema = z.object({
  input_tokens: z.number().int().nonnegative().default(0),
  output_tokens: z.number().int().nonnegative().default(0),
  cache_write_tokens: z.number().int().nonnegative().default(0),
  cache_read_tokens: z.number().int().nonnegative().default(0),
});
export type ModelUsage = z.infer<typeof modelUsageSchema>;

/**
 * What a company's run has used so far, carried as a running total through its loop so storage can price it
 * (lambdas/core/pricing.ts): searches and their credits, tokens by model id, and the Lambda time the agents measured.
 */
export const usageSchema = z.object({
  search_queries: z.number().int().nonnegative().default(0),
  /** Search spend in credits of SEARCH_CREDIT_USD (lambdas/core/pricing.ts); a Gemini search counts several. */
  search_credits: z.number().nonnegative().default(0),
  llm: z.record(z.string(), modelUsageSchema).default({}),
  lambda_gb_seconds: z.number().nonnegative().default(0),
});
export type Usage = z.infer<typeof usageSchema>;
export const zeroUsage = (): Usage => ({ search_queries: 0, search_credits: 0, llm: {}, lambda_gb_seconds: 0 });

/** A page research read, numbered as the notes cite it ([n]); `content` only where its text travels with it. */
export const sourceSchema = z.object({
  id: z.number().int().positive().optional(),
  url: z.string(),
  title: z.string(),
  content: z.string().optional(),
});
export type Source = z.infer<typeof sourceSchema>;

/** A passage that states a field's value, verbatim in the page at `url` (checked by the core, not taken on trust). */
export const evidenceSchema = z.object({ url: z.string(), title: z.string(), excerpt: z.string() });
export type Evidence = z.infer<typeof evidenceSchema>;

/** A verified passage of another source that states a different value for a field than the record holds. */
export const conflictSchema = evidenceSchema.extend({ field: z.string(), value: z.string() });
export type Conflict = z.infer<typeof conflictSchema>;

/**
 * Which company the pages are about. `domain` is the user's pin (`pinned`), or the namesake research settled on when
 * the name alone matched several companies' own sites; `other_entities` are the other companies' domains, kept out.
 */
export const companyIdentitySchema = z.object({
  domain: z.string().nullable().default(null),
  pinned: z.boolean(),
  other_entities: z.array(z.string()).default([]),
  /** Pages that named the company but were kept out as another company's, over all rounds. */
  excluded_pages: z.number().int().nonnegative().default(0),
});
export type CompanyIdentity = z.infer<typeof companyIdentitySchema>;

export const searchResultSchema = z.object({ url: z.string(), title: z.string(), content: z.string() });
export type SearchResult = z.infer<typeof searchResultSchema>;

// ── Research agent: skill research_company ──────────────────────────────────────────────
// The three step agents' inputs are also the state machine's task payloads (lib/company-research.ts): each payload
// sends only keys its schema knows (the research task adds job_id, index and iteration), so they can be closed too.
export const researchInputSchema = closedObject({
  company_name: companyNameSchema,
  /** The user's pin: pages of other companies with the same name are kept out. */
  domain: domainSchema.nullish(),
  /** What earlier rounds settled about the company's identity, so a later round stays with the same company. */
  identity: companyIdentitySchema.nullish(),
  extraction_schema: extractionSchemaSchema,
  search_provider: searchProviderSchema,
  max_queries: z.number().int().min(1).max(10).default(3),
  search_depth: searchDepthSchema.default('basic'),
  /** The model that writes the notes, or none. */
  model: notesModelSchema.default('small'),
  /**
   * A first round with a known domain reads the company's own site instead of searching (no credits); it searches
   * only when the site gives nothing to read. The economy tier's plan.
   */
  read_site: z.boolean().default(false),
  follow_up_queries: z.array(z.string().min(1)).max(10).default([]),
  usage: usageSchema.default(zeroUsage),
});
export type ResearchInput = z.infer<typeof researchInputSchema>;

export const researchOutputSchema = z.object({
  research_queries: z.array(z.string()),
  /**
   * Where the raw results (with page bodies) were stored; the state carries only this reference, and extraction reads
   * the pages' texts back from it to check every quoted passage.
   */
  search_results_ref: z.object({ bucket: z.string(), key: z.string(), count: z.number().int() }),
  /** The pages the notes cite, numbered [n]; their texts are in the stored results. */
  sources: z.array(sourceSchema),
  research_notes: z.string(),
  identity: companyIdentitySchema,
  metadata: z.object({
    provider: z.string(),
    queries_executed: z.number().int(),
    results_found: z.number().int(),
    duration_seconds: z.number(),
  }),
  usage: usageSchema,
});
export type ResearchOutput = z.infer<typeof researchOutputSchema>;

// ── Extraction agent: skill extract_data ────────────────────────────────────────────────
export const extractedRecordSchema = z.object({
  /** Only values with verified evidence: a value no passage of a source confirms is never here. */
  extracted_data: z.record(z.string(), z.unknown()),
  /** The first evidence URL of each field: kept for readers of the earlier format, derived from `evidence`. */
  field_sources: z.record(z.string(), z.string()).default({}),
  confidence_score: z.number().min(0).max(1),
  /** For every field in extracted_data, the passages that state its value, verbatim in their pages. */
  evidence: z.record(z.string(), z.array(evidenceSchema)).default({}),
  field_confidence: z.record(z.string(), z.number().min(0).max(1)).default({}),
  /** Passages of other sources stating a different value for a filled field. */
  conflicts: z.array(conflictSchema).default([]),
  /** Fields the model gave a value for that no source passage confirmed; left out of extracted_data. */
  unverified_fields: z.array(z.string()).default([]),
  identity: companyIdentitySchema.nullable().default(null),
  /** Pages offered to the extraction over all rounds: none at all is what makes a company not_found. */
  pages_read: z.number().int().nonnegative().default(0),
  /**
   * Which pages those were (their dedup keys, lambdas/core/search-results.ts): a round that brings none but these is
   * not extracted again, since the same pages give the same answer.
   */
  read_pages: z.array(z.string()).default([]),
});
export type ExtractedRecord = z.infer<typeof extractedRecordSchema>;

/** A record with nothing in it yet: what a company's first round starts from. */
export const emptyRecord = (): ExtractedRecord => extractedRecordSchema.parse({ extracted_data: {}, confidence_score: 0 });

export const extractionInputSchema = closedObject({
  research_notes: z.string().min(1, 'research_notes must not be empty'),
  extraction_schema: extractionSchemaSchema,
  company_name: companyNameSchema.optional(),
  /**
   * The sources the notes cite; an empty list means research found nothing, so there is nothing to extract. Each
   * value needs a passage of a source's `content` (given here, or read from `search_results_ref`) to be kept.
   */
  sources: z.array(sourceSchema).optional(),
  /** The research agent's stored results: where the sources' texts are when `sources` come without `content`. */
  search_results_ref: z.object({ bucket: z.string(), key: z.string(), count: z.number().int() }).optional(),
  identity: companyIdentitySchema.nullish(),
  /** The record from earlier iterations; fields it already has are kept. */
  previous: extractedRecordSchema.optional(),
  /** The model that extracts. */
  model: modelClassSchema.default('large'),
  usage: usageSchema.default(zeroUsage),
});
export type ExtractionInput = z.infer<typeof extractionInputSchema>;

export const extractionOutputSchema = extractedRecordSchema.extend({
  rejected_fields: z.array(z.object({ field: z.string(), reason: z.string() })),
  usage: usageSchema,
});
export type ExtractionOutput = z.infer<typeof extractionOutputSchema>;

// ── Reflection agent: skill reflect_quality ─────────────────────────────────────────────
export const reflectionInputSchema = closedObject({
  extracted_data: z.record(z.string(), z.unknown()),
  extraction_schema: extractionSchemaSchema,
  company_name: companyNameSchema,
  field_sources: z.record(z.string(), z.string()).default({}),
  confidence_score: z.number().min(0).max(1).optional(),
  evidence: z.record(z.string(), z.array(evidenceSchema)).default({}),
  field_confidence: z.record(z.string(), z.number().min(0).max(1)).default({}),
  conflicts: z.array(conflictSchema).default([]),
  unverified_fields: z.array(z.string()).default([]),
  identity: companyIdentitySchema.nullish(),
  /** The running total; a judgement the rules could not make is added to it. */
  usage: usageSchema.default(zeroUsage),
  /** Queries already run, so follow-ups do not repeat them. */
  previous_queries: z.array(z.string()).default([]),
  max_follow_up_queries: z.number().int().min(1).max(10).default(3),
});
export type ReflectionInput = z.infer<typeof reflectionInputSchema>;

export const reflectionOutputSchema = z.object({
  is_complete: z.boolean(),
  completeness_score: z.number().min(0).max(1),
  missing_fields: z.array(z.string()),
  follow_up_queries: z.array(z.string()),
  quality_issues: z.array(z.string()),
  /** Values found without a confirming passage (left out of the record). */
  unverified_fields: z.array(z.string()).default([]),
  /** Filled fields that another source contradicts, or whose value a newer source supersedes. */
  contested_fields: z.array(z.string()).default([]),
  /** The record's confidence after the checks (contradictions, identity), and each field's. */
  confidence_score: z.number().min(0).max(1).optional(),
  field_confidence: z.record(z.string(), z.number().min(0).max(1)).default({}),
  usage: usageSchema.default(zeroUsage),
});
export type ReflectionOutput = z.infer<typeof reflectionOutputSchema>;

// ── Coordinator API ─────────────────────────────────────────────────────────────────────
export const MAX_BATCH_COMPANIES = 10_000;

/**
 * What a job researches every company with. The tier sets the iteration and query budgets, the search depth and
 * the models (lambdas/core/tiers.ts); `max_iterations` and `max_queries`, when given, override the tier's.
 */
const researchOptions = {
  extraction_schema: extractionSchemaSchema,
  tier: tierSchema.default('standard'),
  max_iterations: z.number().int().min(1).max(5).optional(),
  max_queries: z.number().int().min(1).max(10).optional(),
  search_provider: searchProviderSchema,
};

export const batchRequestSchema = closedObject({
  companies: z
    .array(companyInputSchema)
    .min(1, 'companies must list at least one company')
    .max(MAX_BATCH_COMPANIES, `companies may list at most ${MAX_BATCH_COMPANIES} companies`),
  ...researchOptions,
  /** Where to POST the job's summary, signed, when it ends (https outside private ranges, checked at the door). */
  callback_url: z.url({ message: 'callback_url must be an absolute URL' }).max(2048, 'callback_url must be at most 2048 characters').optional(),
  /**
   * The most the batch may spend, in US dollars at list prices: once its counted companies have spent it, companies
   * that have not started their research yet end failed (BudgetExhausted). Companies already running finish.
   */
  max_cost_usd: z.number().positive('max_cost_usd must be more than 0').max(100_000, 'max_cost_usd must be at most 100000').optional(),
});
export type BatchRequest = z.infer<typeof batchRequestSchema>;

/** One company, researched while the caller waits: the batch's options, for one name. */
export const singleResearchRequestSchema = closedObject({ ...researchOptions, company_name: companyNameSchema, domain: domainSchema.optional() });
export type SingleResearchRequest = z.infer<typeof singleResearchRequestSchema>;

export const jobStatusSchema = z.enum(['SUBMITTED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']);
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const jobViewSchema = z.object({
  job_id: z.string(),
  status: jobStatusSchema,
  progress: z.object({ total: z.number().int(), completed: z.number().int(), failed: z.number().int() }),
  created_at: z.string(),
  updated_at: z.string(),
  error: z.string().optional(),
  results: z.object({ jsonl: z.string(), csv: z.string() }).optional(),
  /** What its counted companies spent, in US dollars at list prices: the sum of their results' `cost.usd`. */
  cost_usd: z.number().nonnegative().optional(),
  /** The job's spending cap (max_cost_usd of its request), when it has one. */
  max_cost_usd: z.number().positive().optional(),
  /** How many times its unfinished companies were run again (POST /jobs/{job_id}/redrive). */
  redrives: z.number().int().positive().optional(),
  /** The job's webhook, and how its delivery went once the job ended. */
  webhook: z
    .object({
      url: z.string(),
      status: z.enum(['pending', 'delivered', 'failed']),
      attempts: z.number().int().nonnegative(),
      last_status_code: z.number().int().optional(),
      last_error: z.string().optional(),
      at: z.string().optional(),
    })
    .optional(),
});
export type JobView = z.infer<typeof jobViewSchema>;

// ── Job control (GET /jobs, GET /jobs/{job_id}/results, POST /jobs/{job_id}/cancel) ──────
export const MAX_JOBS_PAGE = 100;

/** GET /jobs's query string. Query values arrive as strings, so `limit` is coerced; a misspelt parameter is refused. */
export const listJobsQuerySchema = closedObject({
  limit: z.coerce
    .number({ error: `limit must be a whole number from 1 to ${MAX_JOBS_PAGE}` })
    .int(`limit must be a whole number from 1 to ${MAX_JOBS_PAGE}`)
    .min(1, `limit must be a whole number from 1 to ${MAX_JOBS_PAGE}`)
    .max(MAX_JOBS_PAGE, `limit must be a whole number from 1 to ${MAX_JOBS_PAGE}`)
    .default(20),
  next_token: z.string().min(1, 'next_token must be the next_token of the previous page').optional(),
});
export type ListJobsQuery = z.infer<typeof listJobsQuerySchema>;

/** A page of the caller's jobs, newest first; `next_token` only when there are more. */
export const jobListSchema = z.object({ jobs: z.array(jobViewSchema), next_token: z.string().optional() });
export type JobList = z.infer<typeof jobListSchema>;

/** Short-lived download links to a job's results files; `expires_at` is when both stop working. */
export const jobResultsLinksSchema = z.object({
  job_id: z.string(),
  expires_at: z.string(),
  results: z.object({ jsonl: z.string(), csv: z.string() }),
});
export type JobResultsLinks = z.infer<typeof jobResultsLinksSchema>;

export const companyStatusSchema = z.enum(['completed', 'failed', 'not_found']);
export type CompanyStatus = z.infer<typeof companyStatusSchema>;

/** One line of results.jsonl: the seed's fields plus Dossier's additions. */
export const companyResultSchema = z.object({
  index: z.number().int().nonnegative(),
  company_name: z.string(),
  /** The domain the company was pinned to, when it was given one. */
  domain: z.string().optional(),
  /** `not_found`: the research ran and no value about the company could be confirmed; counted as completed. */
  status: companyStatusSchema,
  data: z.record(z.string(), z.unknown()),
  iterations: z.number().int().nonnegative(),
  complete: z.boolean(),
  completeness_score: z.number().min(0).max(1),
  missing_fields: z.array(z.string()),
  confidence_score: z.number().min(0).max(1),
  /** The first evidence URL per field, for readers of the earlier format. */
  sources: z.record(z.string(), z.string()),
  /** For every field in data: passages verbatim in their sources that state the value. */
  evidence: z.record(z.string(), z.array(evidenceSchema)).default({}),
  field_confidence: z.record(z.string(), z.number().min(0).max(1)).default({}),
  unverified_fields: z.array(z.string()).default([]),
  contested_fields: z.array(z.string()).default([]),
  quality_issues: z.array(z.string()),
  failure_reason: z.string().optional(),
  /** At list prices (lambdas/core/pricing.ts); Lambda and Step Functions are estimates, the providers' parts are as reported. */
  cost: z.object({
    usd: z.number().nonnegative(),
    search_usd: z.number().nonnegative(),
    llm_usd: z.number().nonnegative(),
    lambda_usd: z.number().nonnegative(),
    step_functions_usd: z.number().nonnegative(),
    search_queries: z.number().int().nonnegative(),
    search_credits: z.number().nonnegative(),
    /** Every input token, cached or not, and every output token, over all models. */
    llm_input_tokens: z.number().int().nonnegative(),
    llm_output_tokens: z.number().int().nonnegative(),
    /** Tokens by model id. */
    llm: z.record(z.string(), modelUsageSchema),
    /** What the research and extraction functions measured (memory × duration); the other steps are estimated. */
    lambda_gb_seconds: z.number().nonnegative(),
  }),
});
export type CompanyResult = z.infer<typeof companyResultSchema>;

/** One entry of a batch manifest in S3: what the Distributed Map reads. */
export const manifestItemSchema = z.object({
  index: z.number().int().nonnegative(),
  company_name: z.string(),
  // Always present (null when none): the map's item selector reads it, and a path to a missing key fails a state.
  domain: z.string().nullable().default(null),
});
export type ManifestItem = z.infer<typeof manifestItemSchema>;

/**
 * The problems a union reports from the one alternative the value was meant for: a company given as an object with a
 * bad domain is about its domain, not about not being a string.
 */
function unionProblems(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const meant = issue.errors.filter((branch) => !branch.every((e) => e.code === 'invalid_type' && e.path.length === 0));
  if (meant.length !== 1) return [issue];
  return meant[0]!.flatMap((inner) => unionProblems({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue));
}

/** Formats a zod error as one line per problem, naming the field path. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .flatMap(unionProblems)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}
