/**
 * Bumped whenever the meaning of anything kwgraph stores changes (fingerprint fields, cache key
 * recipes, output layout). It is part of every fingerprint and cache key, so an upgrade never
 * serves a result computed under the old rules.
 *
 * 2: cache entries carry a content hash; fingerprints record upstream outputs.
 */
export const CACHE_FORMAT_VERSION = 2;
