// HTTP server behaviour (DESIGN.md process model, API.md section 11): connections, timeouts,
// operational endpoints, shutdown.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
    useServer, WeftServer, RawConnection, rawGet, validateResponse, createAccount, OPENAPI_PATH,
} from './lib/harness.mjs';

const ctx = useServer();

function authHeaders(p) {
    return { 'X-App-Id': String(p.app_id), 'X-Api-Key': p.api_key };
}

describe('server behaviour', () => {
    it('§11 GET /healthz -> 200 {"status":"ok"}', async () => {
        const res = await ctx.server.request('GET', '/healthz');
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { status: 'ok' });
    });

    it('§11 GET /readyz -> 200 {"status":"ready"}', async () => {
        const res = await ctx.server.request('GET', '/readyz');
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { status: 'ready' });
    });

    it('§11 GET /metrics is Prometheus text with the HTTP, rate-limit and connection metrics', async () => {
        await ctx.server.request('GET', '/healthz');
        const res = await ctx.server.request('GET', '/metrics');
        assert.equal(res.status, 200);
        assert.match(res.headers['content-type'], /^text\/plain/);
        for (const name of [
            'weft_http_requests_total',
            'weft_http_request_duration_seconds_bucket',
            'weft_rate_limit_rejections_total',
            'weft_http_open_connections',
        ]) {
            assert.match(res.text, new RegExp(`^${name}(\\{[^}]*\\})? [0-9.eE+-]+$`, 'm'), `${name} sample in /metrics`);
        }
        assert.match(res.text, /^# TYPE weft_http_requests_total counter$/m);
        assert.match(res.text, /^# TYPE weft_http_request_duration_seconds histogram$/m);
        assert.match(res.text, /^weft_http_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d+/m);
    });

    it('§11 GET /v1/openapi.json serves src/api/openapi.json (OpenAPI 3.1), no credentials needed', async () => {
        const res = await ctx.server.request('GET', '/v1/openapi.json');
        assert.equal(res.status, 200);
        assert.match(res.body.openapi, /^3\.1\.\d+$/);
        assert.deepEqual(res.body, JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')));
    });

    it('keep-alive: several requests on one connection', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'keepalive' });
        const conn = await RawConnection.open(s.port);
        try {
            const targets = ['/healthz', '/v1/accounts', '/readyz', '/v1/accounts?page=2'];
            for (const [i, target] of targets.entries()) {
                conn.send(rawGet(target, { ...authHeaders(p), 'X-Request-Id': `ka-${i}` }));
                const [res] = await conn.readResponses(1);
                assert.equal(res.status, 200, `${target}: ${res.text}`);
                assert.equal(res.headers['x-request-id'], `ka-${i}`);
                assert.notEqual((res.headers.connection ?? '').toLowerCase(), 'close');
                validateResponse('GET', target.split('?')[0], res);
            }
            assert.equal(conn.closed, false, 'connection still open');
        } finally {
            conn.destroy();
        }
    });

    it('pipelining: three requests in one TCP write get three responses, in order', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'pipeline' });
        const acc = await createAccount(s.client(p));
        const conn = await RawConnection.open(s.port);
        try {
            const reqs = [
                ['/healthz', {}],
                [`/v1/accounts/${acc.guid}`, authHeaders(p)],
                ['/v1/accounts/does-not-exist', authHeaders(p)],
            ];
            conn.send(reqs.map(([t, h], i) => rawGet(t, { ...h, 'X-Request-Id': `pipe-${i}` })).join(''));
            const responses = await conn.readResponses(3);
            assert.equal(responses.length, 3);
            assert.deepEqual(responses.map((r) => r.headers['x-request-id']), ['pipe-0', 'pipe-1', 'pipe-2']);
            assert.deepEqual(responses.map((r) => r.status), [200, 200, 404]);
            for (const [i, r] of responses.entries()) validateResponse('GET', reqs[i][0], r);
            assert.equal(JSON.parse(responses[1].text).guid, acc.guid);
        } finally {
            conn.destroy();
        }
    });

    it('--test-clock off: POST /_test/clock is 404', async () => {
        const s = await WeftServer.start({ testClock: false });
        try {
            const res = await s.request('POST', '/_test/clock', { json: { advance_seconds: 5 } });
            assert.equal(res.status, 404);
            assert.equal(res.body.code, 'not_found');
        } finally {
            assert.deepEqual(await s.stop(), { code: 0, signal: null });
            s.cleanup();
        }
    });

    it('--test-clock on: POST /_test/clock advances the clock and answers the total offset', async () => {
        const s = ctx.server;
        const first = await s.request('POST', '/_test/clock', { json: { advance_seconds: 10 } });
        assert.equal(first.status, 200);
        const before = first.body.offset_seconds;
        const second = await s.request('POST', '/_test/clock', { json: { advance_seconds: 5 } });
        assert.deepEqual(second.body, { offset_seconds: before + 5 });
    });

    it('a stalled client (half a request line, then nothing) is disconnected after --read-timeout 1', async () => {
        const s = await WeftServer.start({ args: ['--read-timeout', '1'] });
        try {
            const conn = await RawConnection.open(s.port);
            conn.send('GET /heal');
            const closed = await conn.waitClosed(10000);
            conn.destroy();
            assert.ok(closed, 'the server closed the stalled connection within 10 s');
            // Healthy clients are still served.
            assert.equal((await s.request('GET', '/healthz', { agent: false })).status, 200);
        } finally {
            assert.deepEqual(await s.stop(), { code: 0, signal: null });
            s.cleanup();
        }
    });

    it('SIGTERM with an idle keep-alive connection open: exits 0; data persists across a restart on the same folder', async () => {
        const s = await WeftServer.start();
        const p = await s.createPartner({ name: 'persist' });
        const acc = await createAccount(s.client(p), { externalid: 'persisted' });
        const conn = await RawConnection.open(s.port);
        conn.send(rawGet('/healthz'));
        await conn.readResponses(1);
        const exit = await s.stop();
        assert.deepEqual(exit, { code: 0, signal: null });
        assert.ok(await conn.waitClosed(5000), 'open connection closed on shutdown');

        const again = await WeftServer.start({ dataDir: s.dataDir });
        try {
            const res = await again.client(p).get('/v1/accounts/persisted');
            assert.equal(res.status, 200);
            assert.deepEqual(res.body, acc);
        } finally {
            assert.deepEqual(await again.stop(), { code: 0, signal: null });
            again.cleanup();
        }
    });

    it('/metrics weft_http_open_connections counts open connections', async () => {
        const s = ctx.server;
        const conns = [];
        try {
            for (let i = 0; i < 3; i++) {
                const c = await RawConnection.open(s.port);
                c.send(rawGet('/healthz'));
                const [r] = await c.readResponses(1);
                validateResponse('GET', '/healthz', r);
                conns.push(c);
            }
            const res = await s.request('GET', '/metrics', { agent: false });
            const m = res.text.match(/^weft_http_open_connections(?:\{[^}]*\})? ([0-9.eE+-]+)$/m);
            assert.ok(m);
            assert.ok(Number(m[1]) >= 4, `3 idle connections + this one: ${m[0]}`);
        } finally {
            for (const c of conns) c.destroy();
        }
    });

    it('pipelining: 50 requests in one write get 50 responses in order', async () => {
        const s = ctx.server;
        const conn = await RawConnection.open(s.port);
        try {
            conn.send(Array.from({ length: 50 }, (_, i) => rawGet(i % 2 ? '/healthz' : '/readyz', { 'X-Request-Id': `many-${i}` })).join(''));
            const got = [];
            while (got.length < 50) got.push(...(await conn.readResponses(1)));
            assert.deepEqual(got.map((r) => r.headers['x-request-id']), Array.from({ length: 50 }, (_, i) => `many-${i}`));
            assert.ok(got.every((r) => r.status === 200));
            for (const [i, r] of got.entries()) validateResponse('GET', i % 2 ? '/healthz' : '/readyz', r);
        } finally {
            conn.destroy();
        }
    });

    it('an error response (400, 404, 415) keeps the connection usable; Connection: close is honoured', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'errors-keepalive' });
        const conn = await RawConnection.open(s.port);
        try {
            const auth = Object.entries(authHeaders(p)).map(([k, v]) => `${k}: ${v}\r\n`).join('');
            const post = (body, ct = 'application/json') =>
                `POST /v1/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: ${ct}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
            conn.send(post('{"name": '));
            let [res] = await conn.readResponses(1);
            assert.equal(res.status, 400);
            validateResponse('POST', '/v1/accounts', res);
            conn.send(rawGet('/v1/accounts/nope', authHeaders(p)));
            [res] = await conn.readResponses(1);
            assert.equal(res.status, 404);
            conn.send(post('{"name":"a","externalid":"b"}', 'text/plain'));
            [res] = await conn.readResponses(1);
            assert.equal(res.status, 415);
            conn.send(post('{"name":"kept","externalid":"kept-alive"}'));
            [res] = await conn.readResponses(1);
            assert.equal(res.status, 200, res.text);
            validateResponse('POST', '/v1/accounts', res);
            conn.send(rawGet('/healthz', { Connection: 'close' }));
            [res] = await conn.readResponses(1);
            assert.equal(res.status, 200);
            assert.ok(await conn.waitClosed(5000), 'closed after Connection: close');
        } finally {
            conn.destroy();
        }
    });

    it('a chunked request body is accepted; a chunked body over 1 MiB -> 413', async () => {
        const s = ctx.server;
        const p = await s.createPartner({ name: 'chunked' });
        const auth = Object.entries(authHeaders(p)).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        const head = `POST /v1/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
        const chunk = (t) => `${Buffer.byteLength(t).toString(16)}\r\n${t}\r\n`;
        let conn = await RawConnection.open(s.port);
        try {
            conn.send(head + chunk('{"name":"Chunky",') + chunk('"externalid":"chunky"}') + '0\r\n\r\n');
            const [res] = await conn.readResponses(1);
            assert.equal(res.status, 200, res.text);
            validateResponse('POST', '/v1/accounts', res);
            assert.equal(JSON.parse(res.text).externalid, 'chunky');
        } finally {
            conn.destroy();
        }
        conn = await RawConnection.open(s.port);
        try {
            const piece = chunk('x'.repeat(64 * 1024));
            conn.send(head + chunk('{"name":"'));
            for (let i = 0; i < 17 && !conn.closed; i++) conn.send(piece);
            const [res] = await conn.readResponses(1);
            assert.equal(res.status, 413, res.text);
            validateResponse('POST', '/v1/accounts', res);
        } finally {
            conn.destroy();
        }
    });
});
