// API.md section 8: triggered automations at /v1/widgets/{blend}, authenticated by the execution token.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, createAccount, enc, GUID_RE } from './lib/harness.mjs';
import { defs, createAutomation, blendPath, waitRun } from './lib/automations.mjs';

const ctx = useServer();
let A;
let account;
let echo;

const TOKEN = 'X-Execution-Token';
const echoDef = () => ({
    schema: 1,
    run_mode: 'triggered',
    flows: { start: [{ id: 'out', type: 'output', value: { start: '{$.start}' } }] },
});

describe('API.md §8 triggered automations', () => {
    before(async () => {
        const s = ctx.server;
        A = s.client(await s.createPartner({ name: 'widgets-a', rateLimit: 100000 }));
        account = await createAccount(A, { externalid: 'widgets-ext' });
        echo = await createAutomation(A, account, echoDef(), { name: 'echo hook' });
    });

    it('POST with the token in the header: 200 with the output; $.start has method, query, headers, parsed body, raw_body', async () => {
        const raw = '{"order":42,"items":["a","b"]}';
        const res = await ctx.server.request('POST', `/v1/widgets/${echo.guid}?source=shop&x=1`, {
            headers: { [TOKEN]: echo.execution_token, 'Content-Type': 'application/json', 'X-Custom-Thing': 'Yes' },
            body: raw,
        });
        assert.equal(res.status, 200, res.text);
        assert.match(res.headers['x-run-guid'], GUID_RE);
        const start = res.body.start;
        assert.equal(start.method, 'POST');
        assert.deepEqual(start.query, { source: 'shop', x: '1' });
        assert.equal(start.headers['x-custom-thing'], 'Yes');
        assert.equal(start.headers['content-type'], 'application/json');
        assert.ok(!Object.keys(start.headers).some((h) => h.toLowerCase() === 'x-execution-token'), 'the token is not passed on');
        assert.deepEqual(start.body, { order: 42, items: ['a', 'b'] });
        assert.equal(start.raw_body, raw);
        // The run is recorded with context webhook.
        const run = await A.get(`${blendPath(account, echo)}/runs/${res.headers['x-run-guid']}`);
        assert.equal(run.body.context, 'webhook');
        assert.equal(run.body.status, 'finished');
    });

    it('GET by name with the token in the query; a body that is not JSON arrives as text; the token is not in $.start.query', async () => {
        const res = await ctx.server.request('GET', `/v1/widgets/${enc(echo.name)}?${TOKEN}=${enc(echo.execution_token)}&a=b`);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.start.method, 'GET');
        assert.deepEqual(res.body.start.query, { a: 'b' });
        assert.equal(res.body.start.body, null);
        const text = await ctx.server.request('POST', `/v1/widgets/${echo.guid}`, {
            headers: { [TOKEN]: echo.execution_token, 'Content-Type': 'text/plain' },
            body: 'plain words',
        });
        assert.equal(text.status, 200, text.text);
        assert.equal(text.body.start.body, 'plain words');
        assert.equal(text.body.start.raw_body, 'plain words');
    });

    it('wrong, missing or another automation\'s token, an unknown automation and a non-triggered one are the same 404', async () => {
        const manual = await createAutomation(A, account, defs.hello());
        const cases = [
            [`/v1/widgets/${echo.guid}`, { [TOKEN]: 'wrong-token' }],
            [`/v1/widgets/${echo.guid}`, {}],
            [`/v1/widgets/${echo.guid}`, { [TOKEN]: manual.execution_token }],
            [`/v1/widgets/${manual.guid}`, { [TOKEN]: manual.execution_token }],
            ['/v1/widgets/no-such-automation', { [TOKEN]: echo.execution_token }],
        ];
        const messages = new Set();
        for (const [path, headers] of cases) {
            const res = await ctx.server.request('POST', path, { headers, json: {} });
            assert.equal(res.status, 404, `${path}: ${res.text}`);
            assert.equal(res.body.code, 'not_found');
            messages.add(res.body.error);
        }
        assert.equal(messages.size, 1, `one message for every refusal, got ${[...messages]}`);
        // No run was created by any of them.
        const runs = await A.get(`${blendPath(account, manual)}/runs`);
        assert.equal(runs.body.meta.total, 0);
    });

    it('another partner cannot reach the automation even with the right token through its own credentials (the token is the only key)', async () => {
        const B = ctx.server.client(await ctx.server.createPartner({ name: 'widgets-b' }));
        const res = await B.post(`/v1/widgets/${echo.guid}`, { json: {} });
        assert.equal(res.status, 404);
        const ok = await B.post(`/v1/widgets/${echo.guid}`, { json: {}, headers: { [TOKEN]: echo.execution_token } });
        assert.equal(ok.status, 200, 'partner headers neither help nor hurt: the token decides');
    });

    it('an Output block sets the HTTP status and headers of the answer', async () => {
        const b = await createAutomation(A, account, {
            schema: 1,
            run_mode: 'triggered',
            flows: { start: [{ id: 'o', type: 'output', value: { created: true }, status: 201, headers: { 'X-Order-Id': '42' } }] },
        });
        const res = await ctx.server.request('POST', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: b.execution_token }, json: {} });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.headers['x-order-id'], '42');
        assert.deepEqual(res.body, { created: true });
        // The partner API's run call ignores the output's status: 200 with the output.
        const api = await A.post(`${blendPath(account, b)}/run`, { json: {} });
        assert.equal(api.status, 200);
    });

    it('?async=true (or async_trigger in the definition) answers 202 with the run and its Location; the run completes', async () => {
        const res = await ctx.server.request('POST', `/v1/widgets/${echo.guid}?async=true`, { headers: { [TOKEN]: echo.execution_token }, json: { a: 1 } });
        assert.equal(res.status, 202, res.text);
        assert.equal(res.body.context, 'webhook');
        assert.ok(res.headers.location.endsWith(`/runs/${res.body.guid}`));
        const done = await waitRun(A, account, echo, res.body.guid);
        assert.equal(done.status, 'finished');
        assert.deepEqual(done.output.start.body, { a: 1 });
        const asyncDef = { ...echoDef(), async_trigger: true };
        const b = await createAutomation(A, account, asyncDef);
        const r2 = await ctx.server.request('GET', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: b.execution_token } });
        assert.equal(r2.status, 202, r2.text);
        const r3 = await ctx.server.request('GET', `/v1/widgets/${b.guid}?async=false`, { headers: { [TOKEN]: b.execution_token } });
        assert.equal(r3.status, 200, 'async=false in the query wins over async_trigger');
    });

    it('a failing automation answers 422 run_failed with the run', async () => {
        const b = await createAutomation(A, account, { schema: 1, run_mode: 'triggered', flows: { start: [{ id: 'e', type: 'error', message: 'no stock' }] } });
        const res = await ctx.server.request('POST', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: b.execution_token }, json: {} });
        assert.equal(res.status, 422, res.text);
        assert.equal(res.body.code, 'run_failed');
        assert.match(res.body.error, /no stock/);
        assert.equal(res.body.run.status, 'failed');
    });

    it('payloads over 64 KiB are refused with 413 and create no run; 64 KiB exactly is accepted', async () => {
        const b = await createAutomation(A, account, { schema: 1, run_mode: 'triggered', flows: { start: [{ id: 'o', type: 'output', value: 'ok' }] } });
        const big = 'x'.repeat(64 * 1024 + 1);
        const res = await ctx.server.request('POST', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: b.execution_token, 'Content-Type': 'text/plain' }, body: big });
        assert.equal(res.status, 413, res.text);
        assert.equal(res.body.code, 'payload_too_large');
        assert.equal((await A.get(`${blendPath(account, b)}/runs`)).body.meta.total, 0);
        const fits = await ctx.server.request('POST', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: b.execution_token, 'Content-Type': 'text/plain' }, body: big.slice(1) });
        assert.equal(fits.status, 200, fits.text);
    });

    it('a rotated token replaces the old one at once', async () => {
        const b = await createAutomation(A, account, echoDef());
        const rotated = await A.post(`${blendPath(account, b)}/execution-token`);
        assert.equal(rotated.status, 200);
        const old = await ctx.server.request('POST', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: b.execution_token }, json: {} });
        assert.equal(old.status, 404);
        const fresh = await ctx.server.request('POST', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: rotated.body.execution_token }, json: {} });
        assert.equal(fresh.status, 200);
    });

    it('calls count against the account\'s rate limit: x-ratelimit headers, then 429 with retry-after', async () => {
        const s = ctx.server;
        const P = s.client(await s.createPartner({ name: 'widgets-limited', rateLimit: 3 }));
        const acc = await createAccount(P, { externalid: 'limited' });
        const b = await createAutomation(P, acc, echoDef()); // one call of the account's window
        const remaining = [];
        for (let i = 0; i < 2; i++) {
            const ok = await s.request('POST', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: b.execution_token }, json: {} });
            assert.equal(ok.status, 200, ok.text);
            assert.equal(ok.headers['x-ratelimit-limit'], '3');
            remaining.push(ok.headers['x-ratelimit-remaining']);
        }
        assert.deepEqual(remaining, ['1', '0']);
        const refused = await s.request('POST', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: b.execution_token }, json: {} });
        assert.equal(refused.status, 429, refused.text);
        assert.equal(refused.body.code, 'rate_limited');
        assert.ok(Number(refused.headers['retry-after']) >= 1);
        // The partner API on the same account is refused too: one window per account.
        const api = await P.get(`/v1/accounts/${acc.guid}`);
        assert.equal(api.status, 429);
    });

    it('an expired account\'s automation is refused with 400 account_expired and creates no run', async () => {
        const acc = await createAccount(A, { externalid: 'widgets-expired' });
        const b = await createAutomation(A, acc, echoDef());
        assert.equal((await A.put(`/v1/accounts/${acc.guid}/expire`)).status, 200);
        const res = await ctx.server.request('POST', `/v1/widgets/${b.guid}`, { headers: { [TOKEN]: b.execution_token }, json: {} });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.body.code, 'account_expired');
        assert.equal((await A.get(`${blendPath(account, b).replace(account.guid, acc.guid)}/runs`)).body.meta.total, 0);
    });
});
