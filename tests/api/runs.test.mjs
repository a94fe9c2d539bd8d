// API.md section 7 "Running" and section 9: sync/async runs, outcomes, idempotency, runs list and filters,
// run details, logs, stop and retry.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, WeftServer, expectError, createAccount, enc, uniq, GUID_RE, TS_RE } from './lib/harness.mjs';
import { defs, createAutomation, blendPath, runAsync, waitRun, allRuns, countRuns, until, FINAL } from './lib/automations.mjs';

const ctx = useServer();
let A;
let account;
let hello;
let slow;
let failing;

const utc = (ts) => ts.slice(0, 19).replace('T', ' ');

describe('API.md §7 running and §9 runs', () => {
    before(async () => {
        const s = ctx.server;
        A = s.client(await s.createPartner({ name: 'runs-a', rateLimit: 100000 }));
        account = await createAccount(A, { externalid: 'runs-ext' });
        hello = await createAutomation(A, account, defs.hello(), { name: 'hello world' });
        slow = await createAutomation(A, account, defs.sleep(30));
        failing = await createAutomation(A, account, defs.fail('boom'));
    });

    it('§7 sync run: 200, body = the output exactly, X-Run-Guid; the run is finished with that output', async () => {
        const res = await A.post(`${blendPath(account, hello)}/run`, { json: { inputs: { name: 'Bob' } } });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { hello: 'Bob' });
        assert.equal(res.text, '{"hello":"Bob"}');
        assert.match(res.headers['x-run-guid'], GUID_RE);
        const run = await A.get(`${blendPath(account, hello)}/runs/${res.headers['x-run-guid']}`);
        assert.equal(run.status, 200);
        assert.equal(run.body.status, 'finished');
        assert.equal(run.body.context, 'api_sync');
        assert.equal(run.body.blend_guid, hello.guid);
        assert.deepEqual(run.body.output, { hello: 'Bob' });
        assert.deepEqual(run.body.inputs, { name: 'Bob' });
        assert.equal(run.body.error, null);
        assert.equal(run.body.attempt, 1);
        assert.match(run.body.starttime, TS_RE);
        assert.match(run.body.stoptime, TS_RE);
        assert.ok(run.body.starttime <= run.body.stoptime);
        assert.ok(run.body.created_at <= run.body.starttime);
    });

    it('§7 sync run by name under /automations, with an empty body or none; `{}` when nothing was output; scalars verbatim', async () => {
        const empty = await createAutomation(A, account, defs.empty());
        for (const opts of [{}, { json: {} }, { json: { inputs: null } }]) {
            const res = await A.post(`/v1/accounts/runs-ext/automations/${enc(empty.name)}/run`, opts);
            assert.equal(res.status, 200, res.text);
            assert.equal(res.text, '{}');
        }
        const str = await createAutomation(A, account, { schema: 1, flows: { start: [{ id: 'o', type: 'output', value: 'done' }] } });
        const res = await A.post(`${blendPath(account, str)}/run`, { json: { async: false } });
        assert.equal(res.status, 200);
        assert.equal(res.text, '"done"');
        // append mode: the list of appended values
        const app = await createAutomation(A, account, {
            schema: 1,
            flows: { start: [{ id: 'a', type: 'output', mode: 'append', value: 1 }, { id: 'b', type: 'output', mode: 'append', value: { x: 2 } }] },
        });
        assert.deepEqual((await A.post(`${blendPath(account, app)}/run`)).body, [1, { x: 2 }]);
    });

    it('§7 async run: 202 + queued run + absolute Location; body or query async, true/1', async () => {
        for (const opts of [{ json: { async: true, inputs: { name: 'a' } } }, { json: { async: 'true', inputs: { name: 'b' } } }, { json: { async: 1, inputs: { name: 'c' } } },
            { json: { inputs: { name: 'd' } }, query: { async: 'true' } }, { json: { inputs: { name: 'e' } }, query: { async: '1' } }]) {
            const res = await A.post(`${blendPath(account, hello)}/run`, opts);
            assert.equal(res.status, 202, res.text);
            const run = res.body;
            assert.match(run.guid, GUID_RE);
            assert.equal(run.status, 'queued');
            assert.equal(run.context, 'api_async');
            assert.equal(run.blend_guid, hello.guid);
            assert.equal(run.starttime, null);
            assert.equal(run.stoptime, null);
            assert.equal(run.error, null);
            assert.equal(run.attempt, 1);
            assert.equal(res.headers.location, `${ctx.server.baseUrl}/v1/accounts/${account.guid}/blends/${hello.guid}/runs/${run.guid}`);
            const ended = await waitRun(A, account, hello, run.guid);
            assert.equal(ended.status, 'finished');
            assert.deepEqual(ended.output, { hello: opts.json.inputs.name });
            // The Location answers.
            const loc = new URL(res.headers.location);
            assert.equal((await A.get(loc.pathname)).body.guid, run.guid);
        }
        // async=false in the query is a sync run.
        const sync = await A.post(`${blendPath(account, hello)}/run`, { json: { inputs: { name: 'z' } }, query: { async: 'false' } });
        assert.equal(sync.status, 200);
    });

    it('§7 bad async, inputs or Idempotency-Key: 400 validation_failed; nothing queued', async () => {
        const before = await countRuns(A, account, hello);
        for (const [opts, field] of [
            [{ json: { inputs: { name: 'x' } }, query: { async: 'maybe' } }, 'async'],
            [{ json: { async: 'yes', inputs: { name: 'x' } } }, 'async'],
            [{ json: { inputs: [1] } }, 'inputs'],
            [{ json: { inputs: 'x' } }, 'inputs'],
            [{ json: { inputs: { name: 'x' } }, headers: { 'Idempotency-Key': 'k'.repeat(256) } }, 'Idempotency-Key'],
        ]) {
            const res = await A.post(`${blendPath(account, hello)}/run`, opts);
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(res.body.errors[field], res.text);
        }
        expectError(assert, await A.post(`${blendPath(account, hello)}/run`, { body: '[]', headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_request');
        expectError(assert, await A.post(`${blendPath(account, hello)}/run`, { body: 'x', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
        assert.equal(await countRuns(A, account, hello), before);
    });

    it('§7 missing required input or wrong input type: 400 errors["inputs.<field>"] before anything is queued', async () => {
        const typed = await createAutomation(A, account, {
            schema: 1,
            inputs: [
                { block_id: 'in', flow: 'start', field_name: 'i', type: 'integer', required: true },
                { block_id: 'in', flow: 'start', field_name: 'b', type: 'boolean' },
                { block_id: 'in', flow: 'start', field_name: 'o', type: 'object' },
                { block_id: 'in', flow: 'start', field_name: 'l', type: 'list' },
                { block_id: 'in', flow: 'start', field_name: 's', type: 'string' },
            ],
            flows: { start: [{ id: 'o1', type: 'output', value: '{$.inputs}' }] },
        });
        for (const [inputs, field] of [
            [{}, 'inputs.i'], [{ i: null }, 'inputs.i'], [{ i: 'abc' }, 'inputs.i'], [{ i: 1.5 }, 'inputs.i'],
            [{ i: 1, b: 'yes' }, 'inputs.b'], [{ i: 1, o: [1] }, 'inputs.o'], [{ i: 1, l: { a: 1 } }, 'inputs.l'],
            [{ i: 1, s: { a: 1 } }, 'inputs.s'],
        ]) {
            for (const async of [false, true]) {
                const res = await A.post(`${blendPath(account, typed)}/run`, { json: { async, inputs } });
                expectError(assert, res, 400, 'validation_failed');
                assert.ok(res.body.errors[field], `${JSON.stringify(inputs)} -> ${field}: ${res.text}`);
            }
        }
        expectError(assert, await A.post(`${blendPath(account, hello)}/run`, {}), 400, 'validation_failed');
        assert.equal(await countRuns(A, account, typed), 0, 'nothing was queued');
        assert.equal((await A.get(`${blendPath(account, typed)}/lastrun`)).status, 404);
        const ok = await A.post(`${blendPath(account, typed)}/run`, { json: { inputs: { i: 3, b: true, o: { a: 1 }, l: [1], s: 'x' } } });
        assert.equal(ok.status, 200, ok.text);
        assert.deepEqual(ok.body, { i: 3, b: true, o: { a: 1 }, l: [1], s: 'x' });
    });

    it('§7 a failing sync run: 422 run_failed with the detailed run (status failed, error {message, block_id})', async () => {
        const res = await A.post(`${blendPath(account, failing)}/run`, { json: {} });
        expectError(assert, res, 422, 'run_failed');
        const run = res.body.run;
        assert.equal(run.status, 'failed');
        assert.deepEqual(run.error, { message: 'boom', block_id: 'e' });
        assert.equal(run.context, 'api_sync');
        assert.deepEqual(run.inputs, {});
        assert.ok('output' in run);
        assert.deepEqual((await A.get(`${blendPath(account, failing)}/runs/${run.guid}`)).body, run);
        // The log says which block failed.
        const logs = await A.get(`${blendPath(account, failing)}/runs/${run.guid}/logs`);
        assert.equal(logs.status, 200);
        assert.deepEqual(logs.body.data.map((e) => [e.block_id, e.type, e.status, e.error]), [['e', 'error', 'failed', 'boom']]);
    });

    it('§7 a sync run stopped while the caller waits: 422 run_failed with status stopped', async () => {
        const pending = A.post(`${blendPath(account, slow)}/run`, { json: {} });
        const running = await until(async () => {
            const last = await A.get(`${blendPath(account, slow)}/lastrun`);
            return last.status === 200 && last.body.status === 'running' && last.body.context === 'api_sync' ? last.body : null;
        }, { what: 'the sync run to be running' });
        const stop = await A.post(`${blendPath(account, slow)}/runs/${running.guid}/stop`);
        assert.equal(stop.status, 200, stop.text);
        const res = await pending;
        expectError(assert, res, 422, 'run_failed');
        assert.equal(res.body.run.guid, running.guid);
        assert.equal(res.body.run.status, 'stopped');
    });

    it('§9 stop of a running sleep run takes effect promptly (must stop, then stopped); stop of an ended run changes nothing', async () => {
        const run = await runAsync(A, account, slow);
        await waitRun(A, account, slow, run.guid, (r) => r.status === 'running');
        const t0 = Date.now();
        const stop = await A.post(`${blendPath(account, slow, 'automations')}/runs/${run.guid}/stop`);
        assert.equal(stop.status, 200, stop.text);
        assert.ok(['must stop', 'stopped'].includes(stop.body.status), stop.body.status);
        assert.ok('output' in stop.body && 'inputs' in stop.body, 'the detailed run');
        const ended = await waitRun(A, account, slow, run.guid, (r) => FINAL.has(r.status), { timeoutMs: 5000 });
        assert.equal(ended.status, 'stopped');
        assert.ok(Date.now() - t0 < 3000, `stopped after ${Date.now() - t0} ms`);
        assert.match(ended.stoptime, TS_RE);
        // The output block after the sleep never ran.
        const logs = (await A.get(`${blendPath(account, slow)}/runs/${run.guid}/logs`)).body.data;
        assert.ok(!logs.some((e) => e.block_id === 'out'), JSON.stringify(logs));
        const again = await A.post(`${blendPath(account, slow)}/runs/${run.guid}/stop`);
        assert.equal(again.status, 200);
        assert.deepEqual(again.body, ended);
        // Stopping a finished run leaves it finished.
        const fin = await A.post(`${blendPath(account, hello)}/run`, { json: { inputs: { name: 'q' } } });
        const st = await A.post(`${blendPath(account, hello)}/runs/${fin.headers['x-run-guid']}/stop`);
        assert.equal(st.status, 200);
        assert.equal(st.body.status, 'finished');
    });

    it('§9 retry: 202 + a new queued run with context retry, the same inputs, and Location; it runs again', async () => {
        const first = await runAsync(A, account, hello, { name: 'again' });
        const ended = await waitRun(A, account, hello, first.guid);
        const res = await A.post(`${blendPath(account, hello)}/runs/${first.guid}/retry`);
        assert.equal(res.status, 202, res.text);
        assert.notEqual(res.body.guid, first.guid);
        assert.equal(res.body.context, 'retry');
        assert.equal(res.body.status, 'queued');
        assert.equal(res.headers.location, `${ctx.server.baseUrl}/v1/accounts/${account.guid}/blends/${hello.guid}/runs/${res.body.guid}`);
        const second = await waitRun(A, account, hello, res.body.guid);
        assert.equal(second.status, 'finished');
        assert.deepEqual(second.inputs, ended.inputs);
        assert.deepEqual(second.output, { hello: 'again' });
        // A failed run can be retried too (and fails again).
        const f = await A.post(`${blendPath(account, failing)}/run`, { json: {} });
        const r = await A.post(`${blendPath(account, failing, 'automations')}/runs/${f.body.run.guid}/retry`);
        assert.equal(r.status, 202);
        assert.equal((await waitRun(A, account, failing, r.body.guid)).status, 'failed');
    });

    it('§9 GET runs/{run} and lastrun are detailed; lastrun is the newest; 404 when none', async () => {
        const b = await createAutomation(A, account, defs.hello());
        expectError(assert, await A.get(`${blendPath(account, b)}/lastrun`), 404, 'not_found');
        const r1 = await runAsync(A, account, b, { name: 'one' });
        await waitRun(A, account, b, r1.guid);
        const r2 = await runAsync(A, account, b, { name: 'two' });
        const ended2 = await waitRun(A, account, b, r2.guid);
        const last = await A.get(`${blendPath(account, b, 'automations')}/lastrun`);
        assert.equal(last.status, 200);
        assert.deepEqual(last.body, ended2);
        assert.deepEqual(ended2.output, { hello: 'two' });
        expectError(assert, await A.get(`${blendPath(account, b)}/runs/${hello.guid}`), 404, 'not_found');
        // A run of another automation is not found under this one.
        expectError(assert, await A.get(`${blendPath(account, hello)}/runs/${r1.guid}`), 404, 'not_found');
    });

    it('§9 logs: one entry per executed block, in order, with templated input, output, status, attempt, iteration', async () => {
        const b = await createAutomation(A, account, {
            schema: 1,
            inputs: [{ block_id: 'in', flow: 'start', field_name: 'who', type: 'string', required: true }],
            variables: [{ name: 'acc', type: 'list' }],
            flows: {
                start: [
                    { id: 'lp', type: 'loop', over: ['a', 'b'], do: [{ id: 'add', type: 'variable', variable: 'acc', operations: [{ op: 'append', value: '{$.lp.item}' }] }] },
                    { id: 'w', type: 'error', message: 'soft {$.inputs.who}', on_error: 'warning' },
                    { id: 'out', type: 'output', value: { who: '{$.inputs.who}', acc: '{$.variables.acc}' } },
                ],
            },
        });
        const res = await A.post(`${blendPath(account, b)}/run`, { json: { inputs: { who: 'Ann' } } });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { who: 'Ann', acc: ['a', 'b'] });
        const run = (await A.get(`${blendPath(account, b)}/runs/${res.headers['x-run-guid']}`)).body;
        assert.equal(run.status, 'finished with warnings');
        const logs = await A.get(`${blendPath(account, b)}/runs/${run.guid}/logs`);
        assert.equal(logs.status, 200);
        const entries = logs.body.data;
        const addEntries = entries.filter((e) => e.block_id === 'add');
        assert.deepEqual(addEntries.map((e) => e.iteration), [0, 1]);
        assert.deepEqual(addEntries.map((e) => e.output), [['a'], ['a', 'b']]);
        const w = entries.find((e) => e.block_id === 'w');
        assert.equal(w.status, 'warning');
        assert.equal(w.error, 'soft Ann');
        const out = entries.at(-1);
        assert.equal(out.block_id, 'out');
        assert.equal(out.type, 'output');
        assert.equal(out.status, 'ok');
        assert.deepEqual(out.input.value, { who: 'Ann', acc: ['a', 'b'] });
        assert.deepEqual(out.output, { who: 'Ann', acc: ['a', 'b'] });
        assert.equal(out.error, null);
        assert.equal(out.attempt, 1);
        assert.equal(out.iteration, null);
        for (const e of entries) {
            assert.match(e.started_at, TS_RE);
            assert.ok(e.duration_ms >= 0);
            assert.equal(Math.floor(e.started_at_us / 1e6), Math.floor(Date.parse(e.started_at) / 1000));
        }
        for (let i = 1; i < entries.length; i++) assert.ok(entries[i - 1].started_at_us <= entries[i].started_at_us, 'in execution order');
        // Paged.
        const p = await A.get(`${blendPath(account, b)}/runs/${run.guid}/logs`, { query: { per_page: 1, page: 2 } });
        assert.equal(p.body.meta.total, entries.length);
        assert.deepEqual(p.body.data, [entries[1]]);
        expectError(assert, await A.get(`${blendPath(account, b)}/runs/${run.guid}/logs`, { query: { per_page: 0 } }), 400, 'validation_failed');
    });

    it('§9 runs list: newest first, paged, filters finishedOnly, status and created_at[gt|gte|lt|lte]', async () => {
        const b = await createAutomation(A, account, defs.hello());
        const made = [];
        for (let i = 0; i < 3; i++) {
            const r = await A.post(`${blendPath(account, b)}/run`, { json: { inputs: { name: `n${i}` } } });
            made.push((await A.get(`${blendPath(account, b)}/runs/${r.headers['x-run-guid']}`)).body);
            await ctx.server.advanceClock(10);
        }
        const f = await A.post(`${blendPath(account, b)}/run`, { json: { inputs: { name: 'x' } } });
        assert.equal(f.status, 200);
        const list = await allRuns(A, account, b);
        assert.equal(list.length, 4);
        assert.deepEqual(list.slice(1).map((r) => r.guid), made.map((r) => r.guid).reverse(), 'newest first');
        assert.ok(!('output' in list[0]) && !('inputs' in list[0]), 'list form');
        const p2 = await A.get(`${blendPath(account, b)}/runs`, { query: { per_page: 3, page: 2 } });
        assert.deepEqual(p2.body.data.map((r) => r.guid), [made[0].guid]);
        assert.equal(p2.body.links.prev, `${ctx.server.baseUrl}${blendPath(account, b)}/runs?per_page=3&page=1`);

        // status and finishedOnly
        assert.equal(await countRuns(A, account, b, { status: 'finished' }), 4);
        assert.equal(await countRuns(A, account, b, { status: 'queued' }), 0);
        assert.equal(await countRuns(A, account, b, { finishedOnly: 'true' }), 4);
        assert.equal(await countRuns(A, account, b, { finishedOnly: '1', status: 'failed' }), 0);
        const q = await runAsync(A, account, slow);
        await waitRun(A, account, slow, q.guid, (r) => r.status === 'running');
        assert.equal(await countRuns(A, account, slow, { status: 'running' }) >= 1, true);
        const unfinished = (await allRuns(A, account, slow, { finishedOnly: 'true' })).map((r) => r.guid);
        assert.ok(!unfinished.includes(q.guid), 'finishedOnly leaves out a running run');
        assert.ok((await allRuns(A, account, slow, { finishedOnly: 'false' })).some((r) => r.guid === q.guid));
        await A.post(`${blendPath(account, slow)}/runs/${q.guid}/stop`);
    });

    it('§9 runs list filter created_at[gt|gte|lt|lte] (UTC, combinable); the page links keep the filters and work', async () => {
        const b = await createAutomation(A, account, defs.hello());
        const made = [];
        for (let i = 0; i < 3; i++) {
            const r = await A.post(`${blendPath(account, b)}/run`, { json: { inputs: { name: `n${i}` } } });
            made.push((await A.get(`${blendPath(account, b)}/runs/${r.headers['x-run-guid']}`)).body);
            await ctx.server.advanceClock(10);
        }
        // created_at bounds, in UTC "YYYY-MM-DD HH:MM:SS" (second precision: runs are 10 s apart).
        const t1 = utc(made[1].created_at);
        const guids = (rs) => rs.map((r) => r.guid);
        assert.deepEqual(guids(await allRuns(A, account, b, { 'created_at[gte]': t1, 'created_at[lt]': utc(made[2].created_at) })), [made[1].guid]);
        assert.deepEqual(guids(await allRuns(A, account, b, { 'created_at[lte]': t1 })), [made[1].guid, made[0].guid]);
        assert.deepEqual(guids(await allRuns(A, account, b, { 'created_at[lt]': t1 })), [made[0].guid]);
        // Whole-second bounds: made[1]'s second belongs to `lte t1`, so `gt t1` starts after it.
        assert.deepEqual(guids(await allRuns(A, account, b, { 'created_at[gt]': t1 })), [made[2].guid]);
        assert.equal((await allRuns(A, account, b, { 'created_at[gt]': '2000-01-01 00:00:00', 'created_at[lt]': '2000-01-02 00:00:00' })).length, 0);
        // Following a link of a filtered page keeps the filter.
        const p1 = await A.get(`${blendPath(account, b)}/runs`, { query: { 'created_at[lte]': t1, per_page: 1 } });
        assert.equal(p1.body.meta.total, 2);
        const next = new URL(p1.body.links.next);
        const p2 = await A.get(next.pathname + next.search);
        assert.equal(p2.body.meta.total, 2, `the next link ${p1.body.links.next} keeps the filter`);
        assert.deepEqual(p2.body.data.map((r) => r.guid), [made[0].guid]);
    });

    it('§9 created_at filters work with the brackets unencoded in the query string (as PHP-style clients send them)', async () => {
        const b = await createAutomation(A, account, defs.empty());
        await A.post(`${blendPath(account, b)}/run`);
        const res = await A.get(`${blendPath(account, b)}/runs?created_at[lt]=2000-01-01%2000:00:00`);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.meta.total, 0, 'the filter applies: no run was created before 2000');
        const bad = await A.get(`${blendPath(account, b)}/runs?created_at[gt]=garbage`);
        expectError(assert, bad, 400, 'validation_failed');
    });

    it('§9 bad filter values: 400 validation_failed naming the parameter', async () => {
        for (const [query, field] of [
            [{ finishedOnly: 'maybe' }, 'finishedOnly'],
            [{ status: 'weird' }, 'status'],
            [{ 'created_at[gt]': 'garbage' }, 'created_at[gt]'],
            [{ 'created_at[gte]': '2026-01-01' }, 'created_at[gte]'],
            [{ 'created_at[lt]': '2026-01-01T00:00:00Z' }, 'created_at[lt]'],
            [{ 'created_at[lte]': '2026-13-01 00:00:00' }, 'created_at[lte]'],
            [{ page: 'x' }, 'page'],
        ]) {
            const res = await A.get(`${blendPath(account, hello)}/runs`, { query });
            expectError(assert, res, 400, 'validation_failed');
            assert.ok(res.body.errors[field], `${JSON.stringify(query)}: ${res.text}`);
        }
    });

    it('§7 Idempotency-Key: a repeat on the same automation returns the first run (async and sync); 24 h later it is new', async () => {
        const b = await createAutomation(A, account, defs.hello());
        const key = uniq('idem');
        const first = await A.post(`${blendPath(account, b)}/run`, { json: { async: true, inputs: { name: 'one' } }, headers: { 'Idempotency-Key': key } });
        assert.equal(first.status, 202);
        const again = await A.post(`${blendPath(account, b, 'automations')}/run`, { json: { async: true, inputs: { name: 'two' } }, headers: { 'Idempotency-Key': key } });
        assert.equal(again.status, 202);
        assert.equal(again.body.guid, first.body.guid);
        assert.equal(again.headers.location, first.headers.location);
        assert.equal(await countRuns(A, account, b), 1);
        await waitRun(A, account, b, first.body.guid);
        // Concurrent repeats still make one run.
        const key2 = uniq('idem');
        const burst = await Promise.all(Array.from({ length: 8 }, () =>
            A.post(`${blendPath(account, b)}/run`, { json: { async: true, inputs: { name: 'burst' } }, headers: { 'Idempotency-Key': key2 }, agent: false })));
        assert.equal(new Set(burst.map((r) => r.body.guid)).size, 1);
        assert.equal(await countRuns(A, account, b), 2);

        // Sync: same output and X-Run-Guid.
        const key3 = uniq('idem');
        const s1 = await A.post(`${blendPath(account, b)}/run`, { json: { inputs: { name: 'sync' } }, headers: { 'Idempotency-Key': key3 } });
        const s2 = await A.post(`${blendPath(account, b)}/run`, { json: { inputs: { name: 'other' } }, headers: { 'Idempotency-Key': key3 } });
        assert.equal(s1.status, 200);
        assert.equal(s2.status, 200);
        assert.deepEqual(s2.body, { hello: 'sync' });
        assert.equal(s2.headers['x-run-guid'], s1.headers['x-run-guid']);
        assert.equal(await countRuns(A, account, b), 3);
        // A sync repeat of a failed run repeats the 422.
        const fk = uniq('idem');
        const f1 = await A.post(`${blendPath(account, failing)}/run`, { json: {}, headers: { 'Idempotency-Key': fk } });
        const f2 = await A.post(`${blendPath(account, failing)}/run`, { json: {}, headers: { 'Idempotency-Key': fk } });
        expectError(assert, f2, 422, 'run_failed');
        assert.equal(f2.body.run.guid, f1.body.run.guid);

        // The same key on another automation is another run.
        const other = await A.post(`${blendPath(account, hello)}/run`, { json: { async: true, inputs: { name: 'x' } }, headers: { 'Idempotency-Key': key } });
        assert.equal(other.status, 202);
        assert.notEqual(other.body.guid, first.body.guid);

        // After 24 h the key is fresh.
        await ctx.server.advanceClock(24 * 3600 + 5);
        const later = await A.post(`${blendPath(account, b)}/run`, { json: { async: true, inputs: { name: 'later' } }, headers: { 'Idempotency-Key': key } });
        assert.equal(later.status, 202);
        assert.notEqual(later.body.guid, first.body.guid);
        assert.equal(await countRuns(A, account, b), 4);
    });

    it('§6/§7 an expired account: run and retry are 400 account_expired and create nothing; re-activated it runs', async () => {
        const acc = await createAccount(A);
        const b = await createAutomation(A, acc, defs.empty());
        const r = await A.post(`${blendPath(acc, b)}/run`);
        assert.equal(r.status, 200);
        const runGuid = r.headers['x-run-guid'];
        assert.equal((await A.put(`/v1/accounts/${acc.guid}/expire`)).status, 200);
        expectError(assert, await A.post(`${blendPath(acc, b)}/run`), 400, 'account_expired');
        expectError(assert, await A.post(`${blendPath(acc, b)}/run`, { json: { async: true } }), 400, 'account_expired');
        expectError(assert, await A.post(`${blendPath(acc, b)}/runs/${runGuid}/retry`), 400, 'account_expired');
        assert.equal(await countRuns(A, acc, b), 1);
        // Reading still works.
        assert.equal((await A.get(`${blendPath(acc, b)}/runs/${runGuid}`)).status, 200);
        assert.equal((await A.put(`/v1/accounts/${acc.guid}`, { json: { expired: false } })).status, 200);
        assert.equal((await A.post(`${blendPath(acc, b)}/run`)).status, 200);
    });

    it('§4 run calls and run reads count against the account\'s rate limit', async () => {
        const s = ctx.server;
        const P = s.client(await s.createPartner({ name: 'runs-limited', rateLimit: 6 }));
        const acc = await createAccount(P);
        const b = await createAutomation(P, acc, defs.empty()); // call 1
        const r = await P.post(`${blendPath(acc, b)}/run`); // 2
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-ratelimit-limit'], '6');
        assert.equal(r.headers['x-ratelimit-remaining'], '4');
        const a = await P.post(`${blendPath(acc, b, 'automations')}/run`, { json: { async: true } }); // 3
        assert.equal(a.headers['x-ratelimit-remaining'], '3');
        assert.equal((await P.get(`${blendPath(acc, b)}/runs`)).headers['x-ratelimit-remaining'], '2'); // 4
        assert.equal((await P.get(`${blendPath(acc, b)}/runs/${a.body.guid}`)).headers['x-ratelimit-remaining'], '1'); // 5
        assert.equal((await P.post(`${blendPath(acc, b)}/runs/${a.body.guid}/stop`)).headers['x-ratelimit-remaining'], '0'); // 6
        const limited = await P.post(`${blendPath(acc, b)}/run`);
        expectError(assert, limited, 429, 'rate_limited');
        assert.ok(Number(limited.headers['retry-after']) >= 1);
        await s.advanceClock(61);
        assert.equal((await P.post(`${blendPath(acc, b)}/run`)).status, 200);
        assert.equal(await countRuns(P, acc, b), 3, 'the limited call created nothing');
    });
});

describe('API.md §7 sync timeout (--sync-timeout 1)', () => {
    let server;
    let C;
    let acc;
    before(async () => {
        server = await WeftServer.start({ args: ['--sync-timeout', '1'] });
        C = server.client(await server.createPartner({ name: 'sync-timeout' }));
        acc = await createAccount(C);
    });
    after(async () => {
        if (!server) return;
        const exit = await server.stop();
        assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}:\n${server.log()}`);
        server.cleanup();
    });

    it('§7 a sync run still going after the sync timeout answers 202 + the run + Location; the run goes on', async () => {
        const b = await createAutomation(C, acc, defs.sleep(3, { late: true }));
        const t0 = Date.now();
        const res = await C.post(`${blendPath(acc, b)}/run`, { json: {} });
        const waited = Date.now() - t0;
        assert.equal(res.status, 202, res.text);
        assert.ok(waited >= 900 && waited < 2900, `answered after ${waited} ms`);
        assert.equal(res.body.context, 'api_sync');
        assert.ok(['queued', 'running'].includes(res.body.status), res.body.status);
        assert.equal(res.headers.location, `${server.baseUrl}/v1/accounts/${acc.guid}/blends/${b.guid}/runs/${res.body.guid}`);
        const ended = await waitRun(C, acc, b, res.body.guid, undefined, { timeoutMs: 10000 });
        assert.equal(ended.status, 'finished');
        assert.deepEqual(ended.output, { late: true });
        // A quick run still answers 200 within the timeout.
        const quick = await createAutomation(C, acc, defs.empty());
        assert.equal((await C.post(`${blendPath(acc, quick)}/run`)).status, 200);
    });
});
