import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { ChatModel } from '../models/chat-model.js';
import type { LimiterFactory } from '../models/rate-limiter.js';
import { ConnectionSetupError, createChatModel } from '../models/create-chat-model.js';
import { resolveRunDefinition } from '../plan/run-definition.js';
import { fail, ok, type Result } from '../util/result.js';
import type { BuildContext } from './build-context.js';
import { computeStatus } from './status.js';

/**
 * Opens every connection that a stale run of this build will call, before any run starts, so
 * that a missing API key fails the build at once (naming the variable) rather than after other
 * runs have spent calls. Connections only fresh runs use are not opened: a build served wholly
 * from the caches needs no key.
 */
export async function openConnections(
  context: BuildContext,
  force: boolean,
  models: Map<string, ChatModel>,
  limiters?: LimiterFactory,
): Promise<Result<void, Diagnostic[]>> {
  const status = await computeStatus(context, { force });
  if (!status.ok) return status;

  const stale = new Set(status.value.filter((run) => run.state === 'stale').map((run) => run.id));
  const names = new Set<string>();
  for (const run of context.selected) {
    if (!stale.has(run.id)) continue;
    const definition = resolveRunDefinition(
      context.project.experiment,
      run,
      context.connectionOverride,
    );
    for (const node of definition.nodes) if (node.type === 'llm') names.add(node.connection);
  }

  const diagnostics: Diagnostic[] = [];
  for (const name of [...names].sort()) {
    const connection = context.project.experiment.connections[name];
    if (connection === undefined || models.has(name)) continue;
    try {
      models.set(
        name,
        await createChatModel(context.root, connection, context, process.env, limiters),
      );
    } catch (error) {
      if (!(error instanceof ConnectionSetupError)) throw error;
      diagnostics.push({ message: error.message, position: connection.position, hint: error.hint });
    }
  }
  return diagnostics.length > 0 ? fail(diagnostics) : ok(undefined);
}
