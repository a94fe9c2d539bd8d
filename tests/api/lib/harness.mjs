// Everything a test file needs.
export { useServer, WeftServer, runWeft, makeDataDir, onPostgres, pgUrl, createPgDatabase, dropPgDatabase, cliChangeSeen } from './server.mjs';
export { request, RawConnection, rawGet, parseResponses } from './http.mjs';
export { openapiDoc, validateResponse, findPath, documentedMethods } from './openapi.mjs';
export { WEFT_BIN, REPO_ROOT, OPENAPI_PATH } from './paths.mjs';

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

let seq = 0;
/** A unique-enough string for names and externalids within one test file. */
export function uniq(prefix = 'x') {
    seq += 1;
    return `${prefix}-${process.pid}-${seq}`;
}

/** Creates an account through the API; asserts 200 and returns the account. */
export async function createAccount(client, fields = {}) {
    const json = { name: fields.name ?? uniq('Account'), externalid: fields.externalid ?? uniq('ext'), ...fields };
    const res = await client.post('/v1/accounts', { json });
    if (res.status !== 200) throw new Error(`POST /v1/accounts -> ${res.status}: ${res.text}`);
    return res.body;
}

/** Asserts an error response: status, code, and the error-body shape (already schema-checked). */
export function expectError(assert, res, status, code) {
    assert.equal(res.status, status, `want ${status} ${code}, got ${res.status}: ${res.text}`);
    assert.equal(res.body?.code, code, `want code ${code}, got ${res.text}`);
    assert.equal(typeof res.body.error, 'string');
    assert.equal(res.body.request_id, res.headers['x-request-id']);
}

export const enc = encodeURIComponent;
