// Helpers for automation and run tests (API.md sections 7 and 9).
import { uniq } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const FINAL = new Set(['finished', 'finished with warnings', 'failed', 'stopped']);

/** Definitions used across the tests. */
export const defs = {
    hello: () => ({
        schema: 1,
        inputs: [{ block_id: 'in', flow: 'start', field_name: 'name', prompt: 'Name', type: 'string', required: true }],
        flows: { start: [{ id: 'out', type: 'output', value: { hello: '{$.inputs.name}' } }] },
    }),
    /** Sleeps `seconds` (a template), then outputs "done" (or the given value). */
    sleep: (seconds, value = 'done') => ({
        schema: 1,
        flows: { start: [{ id: 'z', type: 'sleep', seconds: String(seconds) }, { id: 'out', type: 'output', value }] },
    }),
    /** Sleeps `$.inputs.s` seconds (default 0), outputs {n: $.inputs.n}. */
    sleepN: () => ({
        schema: 1,
        inputs: [
            { block_id: 'in', flow: 'start', field_name: 'n', type: 'integer', required: true },
            { block_id: 'in', flow: 'start', field_name: 's', type: 'number', default: 0 },
        ],
        flows: { start: [{ id: 'z', type: 'sleep', seconds: '{$.inputs.s}' }, { id: 'out', type: 'output', value: { n: '{$.inputs.n}' } }] },
    }),
    fail: (message = 'boom') => ({ schema: 1, flows: { start: [{ id: 'e', type: 'error', message }] } }),
    empty: () => ({ schema: 1, flows: { start: [] } }),
};

/** POST .../blends; asserts 200 and returns the detailed automation. */
export async function createAutomation(client, account, definition, fields = {}) {
    const res = await client.post(`/v1/accounts/${account.guid}/blends`, { json: { name: fields.name ?? uniq('auto'), definition, ...fields } });
    if (res.status !== 200) throw new Error(`create automation -> ${res.status}: ${res.text}`);
    return res.body;
}

export const blendPath = (account, blend, coll = 'blends') => `/v1/accounts/${account.guid}/${coll}/${blend.guid}`;

/** Async run; asserts 202 and returns the run object. */
export async function runAsync(client, account, blend, inputs = {}, opts = {}) {
    const res = await client.post(`${blendPath(account, blend)}/run`, { json: { async: true, inputs }, ...opts });
    if (res.status !== 202) throw new Error(`async run -> ${res.status}: ${res.text}`);
    return res.body;
}

/** Polls GET runs/{run} until `pred(run)` holds or the deadline passes (then throws). */
export async function waitRun(client, account, blend, runGuid, pred = (r) => FINAL.has(r.status), { timeoutMs = 20000, intervalMs = 50 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        const res = await client.get(`${blendPath(account, blend)}/runs/${runGuid}`);
        if (res.status !== 200) throw new Error(`GET run -> ${res.status}: ${res.text}`);
        last = res.body;
        if (pred(last)) return last;
        if (Date.now() > deadline) throw new Error(`run ${runGuid} did not reach the wanted state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
        await sleep(intervalMs);
    }
}

/** Every run of an automation (all pages), newest first. */
export async function allRuns(client, account, blend, query = {}) {
    const out = [];
    for (let page = 1; ; page++) {
        const res = await client.get(`${blendPath(account, blend)}/runs`, { query: { ...query, page, per_page: 100 } });
        if (res.status !== 200) throw new Error(`GET runs -> ${res.status}: ${res.text}`);
        out.push(...res.body.data);
        if (page >= res.body.meta.last_page) return out;
    }
}

/** meta.total of GET runs with the given filters. */
export async function countRuns(client, account, blend, query = {}) {
    const res = await client.get(`${blendPath(account, blend)}/runs`, { query: { ...query, per_page: 1 } });
    if (res.status !== 200) throw new Error(`GET runs -> ${res.status}: ${res.text}`);
    return res.body.meta.total;
}

/** Polls until fn() returns a truthy value; returns it. */
export async function until(fn, { timeoutMs = 20000, intervalMs = 50, what = 'condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(intervalMs);
    }
}
