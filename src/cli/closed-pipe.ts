/**
 * Ends the process quietly when the reader of stdout goes away (`kwgraph export … | head`):
 * the rest of the output has nobody to read it, and a stack trace about EPIPE helps no one.
 */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
