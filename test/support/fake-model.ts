/** A language model for core tests: its structured answer is given, and every request it received is kept. */
import type { LanguageModel, StructuredRequest, TokenUsage } from '../../lambdas/providers/language-model';

export function fakeModel(answer: unknown, usage: TokenUsage = { model: 'fake-model', input_tokens: 800, output_tokens: 120 }) {
  const requests: StructuredRequest[] = [];
  const model: LanguageModel = {
    model: 'fake-model',
    async write() {
      throw new Error('extraction never asks for free text');
    },
    async structured(request) {
      requests.push(request);
      return { value: answer, usage };
    },
  };
  return { model, requests };
}
