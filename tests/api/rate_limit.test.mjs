// API.md section 4: rate limit, 300 calls in any 60-second window per account (partner window for
// calls that address no account), driven with the test clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { useServer, expectError, createAccount, enc, cliChangeSeen } from './lib/harness.mjs';
import { defs, createAutomation, blendPath, countRuns } from './lib/automations.mjs';

const ctx = useServer();

function limitHeaders(res) {
    return { limit: Number(res.headers['x-ratelimit-limit']), remaining: Number(res.headers['x-ratelimit-remaining']) };
}

function expectAllowed(res, limit, remaining, label = '') {
    assert.ok(res.status >= 200 && res.status < 300, `${label} want 2xx, got ${res.status}: ${res.text}`);
    assert.deepEqual(limitHeaders(res), { limit, remaining }, `${label} rate-limit headers`);
}

function expectLimited(res, limit) {
    expectError(assert, res, 429, 'rate_limited');
    assert.deepEqual(limitHeaders(res), { limit, remaining: 0 });
    assert.match(res.headers['retry-after'], /^\d+$/);
    const ra = Number(res.headers['retry-after']);
    assert.ok(ra >= 1 && ra <= 60, `retry-after ${ra} in 1..60`);
    return ra;
}

describe('API.md §4 rate limit', () => {
    it('§4 default limit 300: calls 1..300 on one account carry x-ratelimit-limit 300 and a falling remaining; the 301st is 429 rate_limited with retry-after; after retry-after seconds a call is free again', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'default-limit' });
        const api = s.client(p);
        const a = await createAccount(api);
        for (let i = 1; i <= 300; i++) {
            // Mix the ways of addressing the same account: one window.
            const target = i % 2 ? `/v1/accounts/${a.guid}` : `/v1/accounts/${enc(a.externalid)}`;
            const res = await api.get(target);
            expectAllowed(res, 300, 300 - i, `call ${i}`);
        }
        const ra = expectLimited(await api.get(`/v1/accounts/${a.guid}`), 300);
        expectLimited(await api.get(`/v1/accounts/${a.guid}/users`), 300);

        // The partner's own window is separate: 1 create + this list.
        expectAllowed(await api.get('/v1/accounts'), 300, 298, 'partner window');

        const metrics = await s.request('GET', '/metrics');
        const m = metrics.text.match(/^weft_rate_limit_rejections_total(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/m);
        assert.ok(m, 'weft_rate_limit_rejections_total sample');
        assert.ok(Number(m[1]) >= 2, `rejections counted: ${m[0]}`);

        await s.advanceClock(ra);
        const res = await api.get(`/v1/accounts/${a.guid}`);
        assert.equal(res.status, 200, 'free again after retry-after seconds');
        assert.equal(limitHeaders(res).limit, 300);
    });

    it('§4 a rejected call does not count: after the accepted calls leave the window, the full limit is back', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'rejected-not-counted', rateLimit: 5 });
        const api = s.client(p);
        const a = await createAccount(api);
        for (let i = 1; i <= 5; i++) expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 5, 5 - i, `call ${i}`);
        await s.advanceClock(30);
        for (let i = 0; i < 3; i++) expectLimited(await api.get(`/v1/accounts/${a.guid}`), 5);
        await s.advanceClock(31);
        // The 5 accepted calls are over 60 s old; had the 3 rejected calls (30 s old) counted, fewer would be left.
        for (let i = 1; i <= 5; i++) expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 5, 5 - i, `after window, call ${i}`);
        expectLimited(await api.get(`/v1/accounts/${a.guid}`), 5);
    });

    it('§4 the window slides: 10 calls, +30 s, 10 calls, next refused; +31 s frees exactly the first 10', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'sliding', rateLimit: 20 });
        const api = s.client(p);
        const a = await createAccount(api);
        for (let i = 1; i <= 10; i++) expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 20, 20 - i);
        await s.advanceClock(30);
        for (let i = 11; i <= 20; i++) expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 20, 20 - i);
        const ra = expectLimited(await api.get(`/v1/accounts/${a.guid}`), 20);
        assert.ok(ra <= 31, `retry-after ${ra}: the oldest call leaves the window in about 30 s`);
        await s.advanceClock(31);
        for (let i = 1; i <= 10; i++) expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 20, 10 - i, `second window, call ${i}`);
        expectLimited(await api.get(`/v1/accounts/${a.guid}`), 20);
    });

    it('§4 separate accounts have separate windows; every /accounts/{account}/... route counts against that account', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'separate', rateLimit: 4 });
        const api = s.client(p);
        const a = await createAccount(api);
        const b = await createAccount(api);
        expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 4, 3);
        expectAllowed(await api.get(`/v1/accounts/${a.guid}/users`), 4, 2);
        expectAllowed(await api.post(`/v1/accounts/${a.guid}/users`, { json: { name: 'u', externalid: 'u1' } }), 4, 1);
        expectAllowed(await api.put(`/v1/accounts/${enc(a.externalid)}`, { json: { name: 'renamed' } }), 4, 0);
        expectLimited(await api.get(`/v1/accounts/${a.guid}/users/u1`), 4);
        expectLimited(await api.put(`/v1/accounts/${a.guid}/expire`), 4);
        expectLimited(await api.delete(`/v1/accounts/${a.guid}`), 4);

        expectAllowed(await api.get(`/v1/accounts/${b.guid}`), 4, 3, 'account b');
        expectAllowed(await api.get('/v1/accounts'), 4, 1, 'partner window: 2 creates + this');

        // Nothing of the refused calls happened.
        await s.advanceClock(61);
        const got = await api.get(`/v1/accounts/${a.guid}`);
        assert.equal(got.body.expired, false);
        assert.equal(got.body.name, 'renamed');
    });

    it('§4 calls that address no account (GET/POST /accounts) use the partner\'s window, separate from the accounts\'', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'partner-window', rateLimit: 4 });
        const api = s.client(p);
        const a = await createAccount(api);
        const res2 = await api.post('/v1/accounts', { json: { name: 'second', externalid: 'pw-2' } });
        expectAllowed(res2, 4, 2);
        expectAllowed(await api.get('/v1/accounts'), 4, 1);
        expectAllowed(await api.get('/v1/accounts', { query: { search: 'x' } }), 4, 0);
        expectLimited(await api.get('/v1/accounts'), 4);
        expectLimited(await api.post('/v1/accounts', { json: { name: 'third', externalid: 'pw-3' } }), 4);

        // The accounts' own windows are untouched.
        expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 4, 3);
        expectAllowed(await api.get('/v1/accounts/pw-2'), 4, 3);

        await s.advanceClock(61);
        const list = await api.get('/v1/accounts');
        expectAllowed(list, 4, 3);
        assert.deepEqual(list.body.data.map((x) => x.externalid), [a.externalid, 'pw-2'], 'the refused create made nothing');
    });

    it('§4 other partners are unaffected by one partner\'s exhausted window', async () => {
        const s = ctx.server;
        const p1 = await s.createPartner({ name: 'noisy', rateLimit: 2 });
        const p2 = await s.createPartner({ name: 'quiet', rateLimit: 2 });
        await s.client(p1).get('/v1/accounts');
        await s.client(p1).get('/v1/accounts');
        expectLimited(await s.client(p1).get('/v1/accounts'), 2);
        expectAllowed(await s.client(p2).get('/v1/accounts'), 2, 1);
    });

    it('§4 `weft partner update --rate-limit` takes effect live (on SQLite within 0.1 s)', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'live-update', rateLimit: 5 });
        const api = s.client(p);
        const a = await createAccount(api);
        for (let i = 1; i <= 3; i++) expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 5, 5 - i);
        await s.updatePartner(p.app_id, { rateLimit: 2 });
        await cliChangeSeen();
        expectLimited(await api.get(`/v1/accounts/${a.guid}`), 2);
        await s.updatePartner(p.app_id, { rateLimit: 10 });
        await cliChangeSeen();
        expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 10, 6, 'after raising to 10: 3 earlier calls + this');
        expectAllowed(await api.get('/v1/accounts'), 10, 8, 'partner window: 1 create + this');
    });

    it('§4 run calls count like any other: sync, async and refused-input runs share the window; a run call over the limit queues nothing; concurrent run calls stop exactly at the limit', async () => {
        // (On PostgreSQL a run call's rate decision is made by the statement that queues its run.)
        const s = ctx.server;
        const p = await s.createPartner({ name: 'run-calls', rateLimit: 8 });
        const api = s.client(p);
        const a = await createAccount(api);
        const b = await createAutomation(api, a, defs.hello()); // call 1 on the account's window
        const run = (json) => api.post(`${blendPath(a, b)}/run`, { json });
        expectAllowed(await run({ inputs: { name: 'x' } }), 8, 6, 'sync run');
        expectAllowed(await run({ async: true, inputs: { name: 'y' } }), 8, 5, 'async run');
        const bad = await run({ inputs: {} });
        expectError(assert, bad, 400, 'validation_failed');
        assert.deepEqual(limitHeaders(bad), { limit: 8, remaining: 4 }, 'a refused input counts');
        const missing = await api.post(`/v1/accounts/${a.guid}/blends/no-such-blend/run`, { json: { inputs: { name: 'z' } } });
        assert.equal(missing.status, 404);
        assert.deepEqual(limitHeaders(missing), { limit: 8, remaining: 3 }, 'an unknown automation counts');
        expectAllowed(await api.get(`/v1/accounts/${a.guid}`), 8, 2, 'another route, same window');
        expectAllowed(await run({ async: true, inputs: { name: 'w' } }), 8, 1, 'async run');
        expectAllowed(await run({ inputs: { name: 'v' } }), 8, 0, 'sync run');
        const ra = expectLimited(await run({ inputs: { name: 'over' } }), 8);
        expectLimited(await run({ async: true, inputs: { name: 'over' } }), 8);
        await s.advanceClock(61);
        assert.equal(await countRuns(api, a, b), 4, 'the refused run calls queued nothing');
        assert.ok(ra >= 1 && ra <= 60);

        // Concurrent run calls on a fresh window: exactly the limit are accepted, each with its own remaining.
        await s.advanceClock(61);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
        try {
            const results = await Promise.all(Array.from({ length: 14 }, (_, i) =>
                api.post(`${blendPath(a, b)}/run`, { json: { async: i % 2 === 0, inputs: { name: `c${i}` } }, agent })));
            const ok = results.filter((r) => r.status === 200 || r.status === 202);
            const limited = results.filter((r) => r.status === 429);
            assert.equal(ok.length, 8, `accepted: ${results.map((r) => r.status).join(',')}`);
            assert.equal(limited.length, 6);
            assert.deepEqual(ok.map((r) => Number(r.headers['x-ratelimit-remaining'])).sort((x, y) => x - y), Array.from({ length: 8 }, (_, i) => i));
        } finally {
            agent.destroy();
        }
        await s.advanceClock(61);
        assert.equal(await countRuns(api, a, b), 12, 'every accepted run call, and no refused one, made a run');
    });

    it('§4 the limit is exact under concurrency: 40 simultaneous calls with limit 25 -> exactly 25 accepted, 15 rate_limited', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'concurrent', rateLimit: 25 });
        const a = await createAccount(s.client(p));
        const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
        try {
            const results = await Promise.all(
                Array.from({ length: 40 }, (_, i) => s.client(p).get(i % 2 ? `/v1/accounts/${a.guid}` : `/v1/accounts/${a.guid}/users`, { agent })),
            );
            const ok = results.filter((r) => r.status === 200);
            const limited = results.filter((r) => r.status === 429);
            assert.equal(ok.length, 25, `accepted: ${results.map((r) => r.status).join(',')}`);
            assert.equal(limited.length, 15);
            for (const r of limited) assert.equal(r.body.code, 'rate_limited');
            // Each accepted call saw a distinct remaining count: 24..0.
            assert.deepEqual(ok.map((r) => Number(r.headers['x-ratelimit-remaining'])).sort((x, y) => x - y), Array.from({ length: 25 }, (_, i) => i));
        } finally {
            agent.destroy();
        }
    });
});
