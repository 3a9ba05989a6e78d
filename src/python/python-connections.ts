import type { ConnectionConfig, FlowConfig } from '../config/types.js';
import { PythonWorkerError, type PythonConnection } from './python-worker.js';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * A connection as a Python tool sees it: its endpoint and model, and for an `openai`
 * connection the API key from its environment variable (absent when the variable is unset:
 * a tool that does not call the endpoint does not need it).
 */
export function pythonConnection(connection: ConnectionConfig, env: Environment): PythonConnection {
  switch (connection.kind) {
    case 'module':
      return {
        name: connection.name,
        kind: 'module',
        ...(connection.model ? { model: connection.model } : {}),
      };
    case 'openai': {
      // A tool gets one endpoint: the pool's first. Spreading a tool's own calls is the tool's.
      const endpoint = connection.endpoints[0];
      const apiKey = endpoint?.api_key_env ? env[endpoint.api_key_env] : undefined;
      return {
        name: connection.name,
        kind: 'openai',
        ...(endpoint?.base_url ? { base_url: endpoint.base_url } : {}),
        ...(connection.model ? { model: connection.model } : {}),
        ...(apiKey ? { api_key: apiKey } : {}),
      };
    }
    case 'azure_openai': {
      const endpoint = connection.endpoints[0];
      const apiKey = endpoint?.api_key_env ? env[endpoint.api_key_env] : undefined;
      return {
        name: connection.name,
        kind: 'azure_openai',
        ...(endpoint ? { base_url: endpoint.endpoint, api_version: endpoint.api_version } : {}),
        ...(connection.model ? { model: connection.model } : {}),
        ...(apiKey ? { api_key: apiKey } : {}),
      };
    }
  }
}

/**
 * A flow's `environment_variables` for its Python workers, with `${connection.field}` read
 * from the experiment's connections. Throws PythonWorkerError for a key that is not set.
 */
export function flowEnvironment(
  flow: FlowConfig | undefined,
  connections: Readonly<Record<string, ConnectionConfig>>,
  env: Environment,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(flow?.environmentVariables ?? {})) {
    resolved[name] = value.replace(/\$\{([^}]*)\}/g, (text, inner: string) => {
      const [connectionName = '', field = ''] = inner.trim().split('.');
      const connection = connections[connectionName];
      if (connection === undefined) return text; // reported when the project loaded
      const settings = pythonConnection(connection, env);
      const found =
        field === 'api_base' || field === 'base_url'
          ? settings.base_url
          : field === 'model'
            ? settings.model
            : settings.api_key;
      if (found === undefined) {
        const source =
          field === 'api_key' &&
          connection.kind !== 'module' &&
          connection.endpoints[0]?.api_key_env
            ? `; set ${connection.endpoints[0].api_key_env}`
            : '';
        throw new PythonWorkerError(
          `environment variable ${name} reads ${text}, which connection ` +
            `"${connectionName}" does not have${source}`,
        );
      }
      return found;
    });
  }
  return resolved;
}
