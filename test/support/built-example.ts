import { runCli, tempProject } from './cli.js';

/**
 * A throw-away copy of the example experiment, built once: what the result commands (compare,
 * show, export, report) read.
 */
export async function builtExample(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const project = await tempProject();
  const build = await runCli(project.dir, ['build', '--quiet']);
  if (build.code !== 0) {
    await project.cleanup();
    throw new Error(
      `the example did not build (exit ${build.code}):\n${build.stdout}\n${build.stderr}`,
    );
  }
  return project;
}
