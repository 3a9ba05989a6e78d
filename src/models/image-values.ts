import path from 'node:path';

import { isImageRef, type ImageRef } from './chat.js';

/**
 * promptflow's way of writing an image in data and flow files: an object with one key that
 * names the MIME type and the form of the value.
 *
 *     {"data:image/png;path": "images/a.png"}     a file (relative to the data file)
 *     {"data:image/png;url": "https://..."}       a URL
 *     {"data:image/png;base64": "iVBORw0..."}     the bytes
 *
 * kwgraph turns these into ImageRefs (a project-relative path, a URL or a data URL), the form
 * the rest of the engine uses, and back into this form for Python tools.
 */
const IMAGE_KEY = /^data:(image\/[A-Za-z0-9.+*-]+);(path|url|base64)$/;

interface PromptflowImage {
  readonly mime: string;
  readonly form: 'path' | 'url' | 'base64';
  readonly value: string;
}

function asPromptflowImage(value: unknown): PromptflowImage | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length !== 1) return undefined;
  const [key, source] = entries[0] ?? [];
  const match = IMAGE_KEY.exec(key ?? '');
  if (match === null || typeof source !== 'string') return undefined;
  return { mime: match[1] ?? '', form: match[2] as PromptflowImage['form'], value: source };
}

/** True when `value` holds a promptflow image anywhere. */
function containsPromptflowImage(value: unknown): boolean {
  if (asPromptflowImage(value) !== undefined) return true;
  if (Array.isArray(value)) return value.some(containsPromptflowImage);
  if (typeof value === 'object' && value !== null) {
    return Object.values(value).some(containsPromptflowImage);
  }
  return false;
}

/**
 * A dataset row with the paths of its promptflow images made relative to the project root:
 * promptflow reads them relative to the data file. Rows without images are returned as they are.
 */
export function rebaseImagePaths<T>(value: T, baseDir: string): T {
  if (baseDir === '' || baseDir === '.' || !containsPromptflowImage(value)) return value;
  const rebase = (item: unknown): unknown => {
    const image = asPromptflowImage(item);
    if (image !== undefined) {
      return image.form === 'path' && !path.posix.isAbsolute(image.value)
        ? { [`data:${image.mime};path`]: path.posix.join(baseDir, image.value) }
        : item;
    }
    if (Array.isArray(item)) return item.map(rebase);
    if (typeof item === 'object' && item !== null) {
      return Object.fromEntries(Object.entries(item).map(([key, entry]) => [key, rebase(entry)]));
    }
    return item;
  };
  return rebase(value) as T;
}

/**
 * `value` with every promptflow image in it turned into an ImageRef. Paths are taken relative
 * to `baseDir` (project-relative; '' for the root).
 */
export function withImageRefs(value: unknown, baseDir = ''): unknown {
  const image = asPromptflowImage(value);
  if (image !== undefined) {
    const source =
      image.form === 'path'
        ? path.posix.join(baseDir, image.value)
        : image.form === 'url'
          ? image.value
          : `data:${image.mime};base64,${image.value}`;
    return { kind: 'image', source } satisfies ImageRef;
  }
  if (isImageRef(value)) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => withImageRefs(item, baseDir));
  if (typeof value === 'object' && value !== null) {
    if (!containsPromptflowImage(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, withImageRefs(item, baseDir)]),
    );
  }
  return value;
}

/**
 * `value` with every ImageRef turned into promptflow's form, as Python tools expect it: a local
 * file as an absolute path (the worker reads it), a data URL as base64, anything else as a URL.
 */
export function toPromptflowImages(value: unknown, root: string): unknown {
  if (isImageRef(value)) {
    const dataUrl = /^data:(image\/[^;,]+);base64,(.*)$/s.exec(value.source);
    if (dataUrl !== null) return { [`data:${dataUrl[1]};base64`]: dataUrl[2] };
    if (/^[a-z][a-z0-9+.-]*:/i.test(value.source)) {
      return { [`data:${mimeOf(value.source)};url`]: value.source };
    }
    return { [`data:${mimeOf(value.source)};path`]: path.resolve(root, value.source) };
  }
  if (Array.isArray(value)) return value.map((item: unknown) => toPromptflowImages(item, root));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, toPromptflowImages(item, root)]),
    );
  }
  return value;
}

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
};

function mimeOf(source: string): string {
  const extension = path.posix.extname(source.split(/[?#]/)[0] ?? '').toLowerCase();
  return MIME_BY_EXTENSION[extension] ?? 'image/*';
}
