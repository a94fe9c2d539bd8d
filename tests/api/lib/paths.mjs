// Locations of the things under test.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const WEFT_BIN = process.env.WEFT_BIN || path.join(REPO_ROOT, 'build', 'weft');
export const OPENAPI_PATH = process.env.WEFT_OPENAPI || path.join(REPO_ROOT, 'src', 'api', 'openapi.json');
