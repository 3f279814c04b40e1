/**
 * What each Dossier agent tells the world: its name, its skills, and each skill's input and output contract.
 * The contracts are the same zod schemas the state machine's tasks validate with; the cards publish JSON Schemas
 * generated from them, so a skill's published contract and its enforced one cannot drift apart.
 * No AWS here: the handlers bind each skill to the code that runs it.
 */
import type { z } from 'zod';
import {
  batchRequestSchema,
  companyResultSchema,
  extractionInputSchema,
  extractionOutputSchema,
  jobViewSchema,
  reflectionInputSchema,
  reflectionOutputSchema,
  researchInputSchema,
  researchOutputSchema,
  singleResearchRequestSchema,
} from '../core/contracts';

export interface SkillContract {
  id: string;
  name: string;
  description: string;
  tags: string[];
  examples: string[];
  input: z.ZodType;
  output: z.ZodType;
  /** For agents with several skills: whether a message's input is meant for this one (when it names no skill). */
  accepts?: (input: Record<string, unknown>) => boolean;
}

export interface AgentDescription {
  /** Short, stable, used in URLs, task scoping and function names. */
  id: 'research' | 'extraction' | 'reflection' | 'coordinator';
  name: string;
  description: string;
  /** Server-sent events: only the coordinator's function URL streams (RESPONSE_STREAM). */
  streaming: boolean;
  skills: SkillContract[];
}

const EXAMPLE_SCHEMA = '{"type":"object","properties":{"founded_year":{"type":"integer"},"ceo":{"type":"string"}}}';

export const researchAgent: AgentDescription = {
  id: 'research',
  name: 'Dossier research agent',
  description: "Searches the web for one company, or reads the company's own site, and writes research notes that cite their sources.",
  streaming: false,
  skills: [
    {
      id: 'research_company',
      name: 'Research a company',
      description:
        'Plans search queries from the extraction schema (or runs the given follow-up queries), keeps the pages about ' +
        'the company, and writes numbered, cited research notes. With read_site and a domain, a first round reads the ' +
        "company's own site instead (no search credits) and searches only when the site gives nothing to read. Raw " +
        'results are kept in S3; the output carries a reference.',
      tags: ['research', 'web-search', 'company'],
      examples: [`{"company_name":"Brightgull Robotics","extraction_schema":${EXAMPLE_SCHEMA}}`],
      input: researchInputSchema,
      output: researchOutputSchema,
    },
  ],
};

export const extractionAgent: AgentDescription = {
  id: 'extraction',
  name: 'Dossier extraction agent',
  description: "Fills a JSON Schema's fields from the pages research read, keeping only values a passage of a page states.",
  streaming: false,
  skills: [
    {
      id: 'extract_data',
      name: 'Extract structured data',
      description:
        "Reads research notes and the pages they cite (`sources` with their `content`, or the research agent's `search_results_ref`) " +
        "and returns the schema's fields as schema-valid JSON, each with evidence: passages verbatim in a page that state it. " +
        'A value no page passage confirms is left out and listed in unverified_fields.',
      tags: ['extraction', 'structured-output', 'evidence'],
      examples: [
        `{"company_name":"Brightgull Robotics","research_notes":"- Founded: 2014 [1]","sources":[{"id":1,"url":"https://brightgull-robotics.example/about","title":"About","content":"- Founded: 2014"}],"extraction_schema":${EXAMPLE_SCHEMA}}`,
      ],
      input: extractionInputSchema,
      output: extractionOutputSchema,
    },
  ],
};

export const reflectionAgent: AgentDescription = {
  id: 'reflection',
  name: 'Dossier reflection agent',
  description: 'Judges how complete and how trustworthy an extracted record is, and plans follow-up queries for what is missing or in doubt.',
  streaming: false,
  skills: [
    {
      id: 'reflect_quality',
      name: 'Reflect on quality',
      description:
        'Scores completeness against the schema (required fields weigh double), checks the evidence (sources that disagree, ' +
        "stale values, another company's pages), lists missing, unverified and contested fields and quality issues, and writes follow-up queries for them.",
      tags: ['reflection', 'quality'],
      examples: [`{"company_name":"Brightgull Robotics","extracted_data":{"founded_year":2014},"extraction_schema":${EXAMPLE_SCHEMA}}`],
      input: reflectionInputSchema,
      output: reflectionOutputSchema,
    },
  ],
};

export const coordinatorAgent: AgentDescription = {
  id: 'coordinator',
  name: 'Dossier coordinator',
  description:
    'Researches companies end to end: research → extraction → reflection rounds until each record is complete or its iteration budget is spent.',
  streaming: true,
  skills: [
    {
      id: 'research_company',
      name: 'Research one company',
      description:
        "Runs one company's whole research → extraction → reflection loop (the same steps as a batch) and answers with its result; streams its progress.",
      tags: ['research', 'company', 'real-time'],
      examples: [`{"company_name":"Brightgull Robotics","extraction_schema":${EXAMPLE_SCHEMA},"max_iterations":2}`],
      input: singleResearchRequestSchema,
      output: companyResultSchema,
      accepts: (input) => !('companies' in input),
    },
    {
      id: 'research_companies',
      name: 'Research a batch of companies',
      description:
        'Starts a batch job (up to 10,000 companies). The task stays working while the job runs, reports its progress, and completes with where results.jsonl and results.csv are.',
      tags: ['research', 'batch'],
      examples: [`{"companies":["Brightgull Robotics","Tallowmere Payments"],"extraction_schema":${EXAMPLE_SCHEMA}}`],
      input: batchRequestSchema,
      output: jobViewSchema,
      accepts: (input) => 'companies' in input,
    },
  ],
};

export const AGENTS = [researchAgent, extractionAgent, reflectionAgent, coordinatorAgent] as const;
