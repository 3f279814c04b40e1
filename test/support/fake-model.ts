/** A language model for core tests: its structured answer is given, and every request it received is kept. */
import type { LanguageModel, StructuredRequest, TokenUsage } from '../../lambdas/providers/language-model';

export function fakeModel(answer: unknown, usage: TokenUsage = { model: 'fake-model', input_tokens: 800, output_tokens: 120 }) {
  return scriptedModel([answer], usage);
}

/** Answers its structured requests in turn; the last answer repeats once the script runs out. */
export function scriptedModel(answers: unknown[], usage: TokenUsage = { model: 'fake-model', input_tokens: 800, output_tokens: 120 }) {
  const requests: StructuredRequest[] = [];
  const model: LanguageModel = {
    model: 'fake-model',
    async write() {
      throw new Error('extraction never asks for free text');
    },
    async structured(request) {
      requests.push(request);
      return { value: answers[Math.min(requests.length - 1, answers.length - 1)], usage };
    },
  };
  return { model, requests };
}

/** One field's answer in the shape extraction asks for. */
export function fieldAnswer(value: unknown, evidence: [number, string][] = [], options: { confidence?: number; conflicting?: [number, string, string][] } = {}) {
  return {
    value,
    evidence: evidence.map(([source_id, excerpt]) => ({ source_id, excerpt })),
    confidence: options.confidence ?? 0.9,
    conflicting: (options.conflicting ?? []).map(([source_id, excerpt, v]) => ({ source_id, excerpt, value: v })),
  };
}
