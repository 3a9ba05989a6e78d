import { describe, expect, it } from 'vitest';

import { splitLlmInputs } from '../../src/config/llm-parameters.js';

describe('llm node inputs written the promptflow way', () => {
  it('separate model parameters (numbers as text) from template variables', () => {
    const split = splitLlmInputs({
      deployment_name: 'gpt-4o',
      temperature: '0.2',
      max_tokens: '256',
      stop: '###',
      response_format: { type: 'json_object' },
      presence_penalty: 0,
      n: 1,
      stream: false,
      logit_bias: {},
      user: '',
      question: '${inputs.question}',
      top_n: 5,
    });
    expect(split.problems).toEqual([]);
    expect(split.parameters).toEqual({
      model: 'gpt-4o',
      temperature: 0.2,
      max_tokens: 256,
      stop: ['###'],
      response_format: 'json_object',
      presence_penalty: 0,
    });
    expect(split.variables).toEqual({ question: '${inputs.question}', top_n: 5 });
  });

  it('report values out of range and arguments kwgraph does not send', () => {
    const split = splitLlmInputs({ temperature: '3', stream: true, max_tokens: 'lots' });
    expect(split.problems.map((problem) => problem.key)).toEqual([
      'temperature',
      'stream',
      'max_tokens',
    ]);
  });
});
