/** A node failed for this row; the message says why in the user's terms. */
export class NodeError extends Error {}
