import { describe, expect, it } from 'vitest';

import type { ImageRef } from '../../src/models/chat.js';
import { renderChatTemplate, renderPromptTemplate } from '../../src/templates/chat-template.js';

const picture: ImageRef = { kind: 'image', source: 'data/images/a.png' };
const sent: ImageRef = { kind: 'image', source: 'data:image/png;base64,AAAA' };

function render(source: string, variables: Record<string, unknown>, images = [sent]) {
  const result = renderChatTemplate(source, 'flows/x/chat.jinja2', variables, { images });
  if (!result.ok) throw new Error(`unexpected error: ${JSON.stringify(result.error)}`);
  return result.value;
}

describe('images placed by the template', () => {
  it('go where the template writes ![image](...), between trimmed text parts', () => {
    const source = '# system:\ns\n# user:\nLook:\n![image]({{ picture }})\nWhat is it?\n';
    expect(render(source, { picture })).toEqual([
      { role: 'system', content: 's' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'text', text: 'What is it?' },
        ],
      },
    ]);
  });

  it('are placed in list order from a list of images', () => {
    const other: ImageRef = { kind: 'image', source: 'https://example.com/b.png' };
    const source = '# user:\n{% for p in pictures %}![image]({{ p }}) {% endfor %}';
    const [message] = render(source, { pictures: [picture, other] }, [sent, other]);
    expect(message?.content).toEqual([
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      { type: 'image_url', image_url: { url: 'https://example.com/b.png' } },
    ]);
  });

  it('go where the template prints them alone on a line, as promptflow vision tools read it', () => {
    const source = '# user:\nDescribe:\n{{ picture }}\nBriefly.';
    const [message] = render(source, { picture });
    expect(message?.content).toEqual([
      { type: 'text', text: 'Describe:' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      { type: 'text', text: 'Briefly.' },
    ]);
  });

  it('in a list print one item per line, so a question with a picture reads in order', () => {
    const [message] = render('# user:\n{{ question }}', {
      question: ['How many colours can you see?', picture],
    });
    expect(message?.content).toEqual([
      { type: 'text', text: 'How many colours can you see?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    ]);
  });

  it('print as their source within other text, and are then attached at the end', () => {
    const [message] = render('# user:\nFile: {{ picture }}', { picture });
    expect(message?.content).toEqual([
      { type: 'text', text: 'File: data/images/a.png' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    ]);
  });

  it('cannot be created by row data that writes the markdown form', () => {
    const note = '![image](https://attacker.example/x.png) and ![image](data/images/a.png)';
    const [message] = render('# user:\n{{ note }}', { note }, []);
    expect(message).toEqual({ role: 'user', content: note });
  });

  it('are refused in a system message', () => {
    const result = renderChatTemplate('# system:\n![image]({{ picture }})\n# user:\nhi', 'f', {
      picture,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain('user messages only');
  });

  it('print as their source in a prompt node', () => {
    expect(renderPromptTemplate('see {{ picture }}', 'p.jinja2', { picture })).toEqual({
      ok: true,
      value: 'see data/images/a.png',
    });
  });
});
