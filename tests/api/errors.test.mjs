// API.md sections 1, 4 and 5: error bodies, bad input, limits, request ids.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, expectError, createAccount, uniq } from './lib/harness.mjs';

const ctx = useServer();
let api;
let partner;
let account;
let snapshot;

async function listAll() {
    const res = await api.get('/v1/accounts');
    assert.equal(res.status, 200);
    const users = await api.get(`/v1/accounts/${account.guid}/users`);
    return { accounts: res.body.data, users: users.body.data };
}

async function expectIntact() {
    assert.deepEqual(await listAll(), snapshot, 'existing data is intact after the bad request');
}

function post(body, headers = {}) {
    return api.post('/v1/accounts', { body, headers: { 'Content-Type': 'application/json', ...headers } });
}

describe('API.md §5 errors and bad input', () => {
    before(async () => {
        partner = await ctx.server.createPartner({ name: 'errors', rateLimit: 100000 });
        api = ctx.server.client(partner);
        account = await createAccount(api, { name: 'Keeper', externalid: 'keeper', user: { externalid: 'ku', name: 'K' } });
        snapshot = await listAll();
    });

    it('§5 malformed JSON -> 400 invalid_request', async () => {
        for (const body of ['{"name": "x",', '{name: "x"}', 'nul', '{"name":"x","externalid":"y"} trailing', '']) {
            const res = await post(body);
            if (body === '') {
                // An empty JSON body is no JSON at all.
                assert.equal(res.status, 400, res.text);
                assert.ok(['invalid_request', 'validation_failed'].includes(res.body.code));
            } else {
                expectError(assert, res, 400, 'invalid_request');
            }
        }
        const put = await api.put(`/v1/accounts/${account.guid}`, { body: '{"name": ', headers: { 'Content-Type': 'application/json' } });
        expectError(assert, put, 400, 'invalid_request');
        const user = await api.post(`/v1/accounts/${account.guid}/users`, { body: '[1,', headers: { 'Content-Type': 'application/json' } });
        expectError(assert, user, 400, 'invalid_request');
        await expectIntact();
    });

    it('§5 wrong types -> 400 validation_failed with errors.<field> (a list of strings)', async () => {
        const cases = [
            [{ name: 5, externalid: uniq('t') }, 'name'],
            [{ name: 'n', externalid: [] }, 'externalid'],
            [{ name: 'n', externalid: uniq('t'), user: 'x' }, 'user'],
            [{ name: null, externalid: uniq('t') }, 'name'],
            [{ name: 'n', externalid: 42 }, 'externalid'],
        ];
        for (const [json, field] of cases) {
            const res = await api.post('/v1/accounts', { json });
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(Array.isArray(res.body.errors[field]), `errors.${field} for ${JSON.stringify(json)}: ${res.text}`);
            assert.ok(res.body.errors[field].every((m) => typeof m === 'string' && m.length > 0));
        }
        const put = await api.put(`/v1/accounts/${account.guid}`, { json: { name: 7 } });
        expectError(assert, put, 400, 'validation_failed');
        assert.ok(put.body.errors.name);
        await expectIntact();
    });

    it('§5 a body that is valid JSON but not an object -> 400', async () => {
        for (const body of ['[]', '"str"', '42', 'null']) {
            const res = await post(body);
            assert.equal(res.status, 400, `${body}: ${res.text}`);
            assert.ok(['invalid_request', 'validation_failed'].includes(res.body.code), res.text);
        }
        await expectIntact();
    });

    it('§4 request body over 1 MiB -> 413 payload_too_large', async () => {
        const filler = 'a'.repeat(1024 * 1024);
        const body = JSON.stringify({ name: filler, externalid: 'too-big' });
        assert.ok(Buffer.byteLength(body) > 1024 * 1024);
        const res = await api.post('/v1/accounts', { body, headers: { 'Content-Type': 'application/json' }, agent: false });
        expectError(assert, res, 413, 'payload_too_large');
        const put = await api.put(`/v1/accounts/${account.guid}`, { body, headers: { 'Content-Type': 'application/json' }, agent: false });
        expectError(assert, put, 413, 'payload_too_large');
        await expectIntact();
    });

    it('§4 a body just under 1 MiB is read (not 413)', async () => {
        const body = JSON.stringify({ name: 'under', externalid: uniq('under'), pad: 'p'.repeat(1024 * 1024 - 200) });
        assert.ok(Buffer.byteLength(body) < 1024 * 1024);
        const res = await api.post('/v1/accounts', { body, headers: { 'Content-Type': 'application/json' }, agent: false });
        assert.notEqual(res.status, 413, res.text);
        if (res.status === 200) {
            assert.equal((await api.delete(`/v1/accounts/${res.body.guid}`)).status, 204);
        }
        await expectIntact();
    });

    it('§4 JSON nested deeper than 64 levels -> 400 invalid_request (and the server survives absurd depth)', async () => {
        const nest = (depth) => '['.repeat(depth) + ']'.repeat(depth);
        expectError(assert, await post(nest(65)), 400, 'invalid_request');
        expectError(assert, await post(`{"name":"n","externalid":"deep","user":{"name":${nest(70)}}}`), 400, 'invalid_request');
        expectError(assert, await post(nest(200000)), 400, 'invalid_request');
        // The boundary: 64 levels in all (the body object plus 63 arrays) is fine, 65 is not.
        const at = (inner) => `{"name":"n","externalid":"depth-${inner}","extra":${nest(inner)}}`;
        expectError(assert, await post(at(64)), 400, 'invalid_request');
        const ok = await post(at(63));
        assert.equal(ok.status, 200, `64 levels are allowed: ${ok.text}`);
        assert.equal((await api.delete(`/v1/accounts/${ok.body.guid}`)).status, 204);
        expectError(assert, await post('{"a":'.repeat(100000) + '1' + '}'.repeat(100000)), 400, 'invalid_request');
        await expectIntact();
    });

    it('§5 invalid UTF-8 in a JSON body -> 400 invalid_request', async () => {
        const bad = (bytes) => Buffer.concat([Buffer.from('{"name":"'), Buffer.from(bytes), Buffer.from(`","externalid":"${uniq('utf')}"}`)]);
        for (const bytes of [[0xff, 0xfe], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
            expectError(assert, await post(bad(bytes)), 400, 'invalid_request');
        }
        // Valid multi-byte UTF-8 is fine and round-trips.
        const ok = await api.post('/v1/accounts', { json: { name: 'Zoë ☃ 𝄞', externalid: uniq('utf-ok') } });
        assert.equal(ok.status, 200);
        assert.equal(ok.body.name, 'Zoë ☃ 𝄞');
        assert.equal((await api.delete(`/v1/accounts/${ok.body.guid}`)).status, 204);
        await expectIntact();
    });

    it('§5 a body with a non-JSON Content-Type -> 415 unsupported_media_type; application/json with charset is fine', async () => {
        const body = JSON.stringify({ name: 'n', externalid: uniq('ct') });
        for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
            expectError(assert, await post(body, { 'Content-Type': ct }), 415, 'unsupported_media_type');
        }
        const put = await api.put(`/v1/accounts/${account.guid}`, { body: '{"name":"x"}', headers: { 'Content-Type': 'text/plain' } });
        expectError(assert, put, 415, 'unsupported_media_type');
        await expectIntact();
        const ok = await post(body, { 'Content-Type': 'application/json; charset=utf-8' });
        assert.equal(ok.status, 200, ok.text);
        assert.equal((await api.delete(`/v1/accounts/${ok.body.guid}`)).status, 204);
    });

    it('§5 a 64 KiB request header -> 413 (the server\'s header limit)', async () => {
        const res = await api.get('/v1/accounts', { headers: { 'X-Big': 'a'.repeat(64 * 1024) }, agent: false });
        assert.equal(res.status, 413, res.text);
        assert.equal(res.body.code, 'payload_too_large');
        // The server is fine afterwards.
        await expectIntact();
    });

    it('§5 unknown route -> 404 not_found', async () => {
        for (const target of ['/v1/nope', '/nope', '/v1/accounts/keeper/nope', '/v1/accounts/keeper/users/ku/nope', '/v2/accounts']) {
            expectError(assert, await api.get(target), 404, 'not_found');
        }
        expectError(assert, await api.post('/v1/nope', { json: {} }), 404, 'not_found');
    });

    it('§5 wrong method on a known route -> 405 method_not_allowed with an Allow header', async () => {
        const cases = [
            ['DELETE', '/v1/accounts', ['GET', 'POST']],
            ['PATCH', `/v1/accounts/${account.guid}`, ['GET', 'PUT', 'DELETE']],
            ['POST', `/v1/accounts/${account.guid}`, ['GET', 'PUT', 'DELETE']],
            ['GET', `/v1/accounts/${account.guid}/expire`, ['PUT']],
            ['DELETE', `/v1/accounts/${account.guid}/users`, ['GET', 'POST']],
            ['POST', `/v1/accounts/${account.guid}/users/ku`, ['GET', 'PUT', 'DELETE']],
            ['POST', '/healthz', ['GET']],
            ['DELETE', '/metrics', ['GET']],
        ];
        for (const [method, target, allowed] of cases) {
            const res = await api.request(method, target);
            expectError(assert, res, 405, 'method_not_allowed');
            const allow = res.headers.allow.split(',').map((x) => x.trim().toUpperCase());
            for (const m of allowed) assert.ok(allow.includes(m), `${method} ${target}: Allow ${res.headers.allow} includes ${m}`);
            assert.ok(!allow.includes(method), `${method} ${target}: Allow ${res.headers.allow} excludes ${method}`);
        }
        await expectIntact();
    });

    it('§1 X-Request-Id: a sane client value is echoed, on success and on errors', async () => {
        const ok = await api.get('/v1/accounts', { headers: { 'X-Request-Id': 'abc-123' } });
        assert.equal(ok.headers['x-request-id'], 'abc-123');
        const err = await api.get('/v1/accounts/nope-nope', { headers: { 'X-Request-Id': 'req-42_A' } });
        assert.equal(err.headers['x-request-id'], 'req-42_A');
        assert.equal(err.body.request_id, 'req-42_A');
        const unauth = await ctx.server.request('GET', '/v1/accounts', { headers: { 'X-Request-Id': 'abc-124' } });
        assert.equal(unauth.status, 401);
        assert.equal(unauth.body.request_id, 'abc-124');
        const health = await ctx.server.request('GET', '/healthz', { headers: { 'X-Request-Id': 'abc-125' } });
        assert.equal(health.headers['x-request-id'], 'abc-125');
    });

    it('§1 X-Request-Id: an insane client value (200 chars, spaces, control characters, empty) is replaced by a generated one', async () => {
        const seen = new Set();
        for (const bad of ['r'.repeat(200), 'abc def', 'abc\tdef', '']) {
            const res = await api.get('/v1/accounts/nope-nope', { headers: { 'X-Request-Id': bad } });
            expectError(assert, res, 404, 'not_found');
            const id = res.headers['x-request-id'];
            assert.notEqual(id, bad);
            assert.ok(id.length > 0 && id.length <= 128, `generated id ${id}`);
            assert.match(id, /^[\x21-\x7e]+$/);
            assert.equal(res.body.request_id, id);
            seen.add(id);
        }
        const gen1 = (await api.get('/v1/accounts')).headers['x-request-id'];
        const gen2 = (await api.get('/v1/accounts')).headers['x-request-id'];
        assert.notEqual(gen1, gen2, 'generated ids differ per request');
        assert.equal(seen.size, 4, 'generated ids differ per request');
    });
});
