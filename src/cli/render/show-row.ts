import type { RowTrace, TracedCall, TracedStep } from '../../results/trace-row.js';
import { styles } from './format.js';
import { labelled, valueLines } from './show-value.js';

/**
 * A row traced through its lineage, as terminal lines: its data, then for each run (upstream
 * first) its inputs, every node's output, the messages of each LLM call and the answer.
 */
export function rowTraceLines(trace: RowTrace, color: boolean, note?: string): string[] {
  const style = styles(color);
  const lines = [style.bold(`row ${trace.row.key} (index ${trace.row.index}) of ${trace.run}`)];
  if (note !== undefined) lines.push(style.yellow(`note: ${note}`));
  const seen = new Seen(style);
  if (trace.row.data !== null) {
    lines.push('', style.bold('data'));
    for (const [column, value] of Object.entries(trace.row.data)) {
      lines.push(...seen.labelled(column, value, '  ', `data.${column}`));
    }
  }
  for (const step of trace.steps) lines.push('', ...stepLines(step, style, seen));
  return lines;
}

/**
 * Long values printed once: the same attributes list reaches every stage of a lineage, and a
 * node's answer is also the flow's output. Later occurrences say where the value was shown.
 */
class Seen {
  private readonly where = new Map<string, string>();

  constructor(private readonly style: ReturnType<typeof styles>) {}

  labelled(label: string, value: unknown, indent: string, name: string): string[] {
    const json = JSON.stringify(value) ?? 'null';
    const earlier = json.length > 60 ? this.where.get(json) : undefined;
    if (earlier !== undefined) return [`${indent}${label}: ${this.style.dim(`(as ${earlier})`)}`];
    this.remember(value, name);
    return labelled(label, value, indent);
  }

  remember(value: unknown, name: string): void {
    const json = JSON.stringify(value) ?? 'null';
    if (!this.where.has(json)) this.where.set(json, name);
  }
}

function stepLines(step: TracedStep, style: ReturnType<typeof styles>, seen: Seen): string[] {
  const status =
    step.status === 'ok'
      ? style.green('ok')
      : step.status === 'missing'
        ? style.yellow('no result for this row')
        : style.red(step.status);
  const lines = [
    style.cyan(`━━ ${step.run}`),
    `  ${style.dim(`stage ${step.stage}${step.variant ? ` · variant ${step.variant}` : ''} ·`)} ${status}`,
  ];
  if (step.error !== undefined) {
    lines.push(
      `  ${style.red('✗')} ${step.failedNode ? `in ${step.failedNode}: ` : ''}${step.error}`,
    );
  }
  if (step.inputs !== null) {
    lines.push(`  ${style.bold('inputs')}`);
    for (const [name, value] of Object.entries(step.inputs)) {
      lines.push(...seen.labelled(name, value, '    ', `${step.run} input ${name}`));
    }
  }
  for (const node of step.nodes) {
    lines.push(`  ${style.bold(`node ${node.name}`)}`);
    let answer: string | undefined;
    for (const call of node.calls) {
      lines.push(...callLines(call, style));
      answer = call.stored?.response.choices[0]?.message.content ?? undefined;
      if (answer !== undefined) seen.remember(answer, `${step.run} answer of ${node.name}`);
    }
    if (!('output' in node)) {
      lines.push(`    ${style.dim('(no output)')}`);
    } else if (!(typeof node.output === 'string' && node.output === answer)) {
      lines.push(...seen.labelled('output', node.output, '    ', `${step.run} node ${node.name}`));
    }
  }
  if (step.outputs !== null) {
    lines.push(`  ${style.bold('outputs')}`);
    for (const [name, value] of Object.entries(step.outputs)) {
      lines.push(...seen.labelled(name, value, '    ', `${step.run} output ${name}`));
    }
  }
  return lines;
}

function callLines(call: TracedCall, style: ReturnType<typeof styles>): string[] {
  const facts = [
    call.cached ? 'served from the call cache' : 'sent',
    ...(call.usage ? [`${call.usage.total_tokens.toLocaleString('en-US')} tokens`] : []),
    ...(call.stored ? [`${call.stored.connection}`, `${call.stored.latencyMs}ms`] : []),
  ];
  const lines = [`    ${style.dim(`llm call · ${facts.join(' · ')} · ${call.key}`)}`];
  const stored = call.stored;
  if (stored === undefined) {
    lines.push(`    ${style.yellow('(the call cache no longer holds this call)')}`);
    return lines;
  }
  const request = stored.request as {
    model?: unknown;
    messages?: readonly { role?: unknown; content?: unknown }[];
  };
  const { messages: _messages, ...parameters } = request as Record<string, unknown>;
  lines.push(`    ${style.dim(`request ${JSON.stringify(parameters)}`)}`);
  for (const message of request.messages ?? []) {
    lines.push(`    ${style.yellow(`${String(message.role)}:`)}`);
    lines.push(...messageContentLines(message.content, '      ', style));
  }
  lines.push(`    ${style.green('answer:')}`);
  lines.push(...valueLines(stored.response.choices[0]?.message.content ?? '', '      '));
  return lines;
}

function messageContentLines(
  content: unknown,
  indent: string,
  style: ReturnType<typeof styles>,
): string[] {
  if (typeof content === 'string') return valueLines(content, indent);
  if (!Array.isArray(content)) return valueLines(content, indent);
  return content.flatMap((part: { type?: unknown; text?: unknown; image_url?: unknown }) => {
    if (part.type === 'text' && typeof part.text === 'string') return valueLines(part.text, indent);
    if (part.type === 'image_url') {
      const image = part.image_url as { url?: unknown; detail?: unknown } | undefined;
      const detail = image?.detail ? ` (detail ${String(image.detail)})` : '';
      return [`${indent}${style.dim(`[image ${String(image?.url)}${detail}]`)}`];
    }
    return valueLines(part, indent);
  });
}
