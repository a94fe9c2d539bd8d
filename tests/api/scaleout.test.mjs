// Issue 6 (docs/scale-out.md): two `weft serve` processes and one `weft worker` on one PostgreSQL database
// behave as one system. Needs a PostgreSQL server (WEFT_TEST_PG_URL; tests/api/run.sh runs this file only in
// the PostgreSQL pass, api_blackbox_pg, which always has one).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WeftServer, createPgDatabase, dropPgDatabase, pgUrl, createAccount, expectError } from './lib/harness.mjs';
import { defs, createAutomation, runAsync, waitRun, allRuns, countRuns, until, FINAL } from './lib/automations.mjs';

const HOUR = 3600;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const havePg = Boolean(process.env.WEFT_TEST_PG_URL);

describe('scale-out: two servers and a worker on one PostgreSQL database', { skip: havePg ? false : 'no PostgreSQL (set WEFT_TEST_PG_URL)' }, () => {
    let db;
    const procs = {};
    const args = () => ['--database', pgUrl(db), '--run-lease', '3', '--scheduler-tick-ms', '100', '--allow-private-network'];

    before(async () => {
        db = createPgDatabase('weft_scale');
        procs.A = await WeftServer.start({ args: args() });
        procs.B = await WeftServer.start({ args: args() });
        procs.W = await WeftServer.start({ args: args(), command: 'worker' });
    });
    after(async () => {
        for (const p of Object.values(procs)) {
            await p.kill();
            p.cleanup();
        }
        dropPgDatabase(db);
    });

    it('the worker serves health, readiness and metrics but not the API', async () => {
        assert.equal((await procs.W.request('GET', '/readyz')).status, 200);
        assert.equal((await procs.W.request('GET', '/v1/accounts', { validate: false })).status, 404);
    });

    it('§4 300 calls spread over both servers are admitted and the 301st is refused (one shared window)', async () => {
        const { A, B } = procs;
        const partner = await A.createPartner({ rateLimit: 300 });
        const PA = A.client(partner);
        const PB = B.client(partner);
        const account = await createAccount(PA); // counts against the partner's own window, not the account's
        for (let i = 0; i < 300; i += 30) {
            const batch = [];
            for (let j = i; j < i + 30; j++) batch.push((j % 2 ? PB : PA).get(`/v1/accounts/${account.guid}`));
            for (const res of await Promise.all(batch)) assert.equal(res.status, 200, res.text);
        }
        expectError(assert, await PB.get(`/v1/accounts/${account.guid}`), 429, 'rate_limited');
        expectError(assert, await PA.get(`/v1/accounts/${account.guid}`), 429, 'rate_limited');
    });

    it('§4 queue cap 200, concurrency 5: 205 accepted over both servers in parallel, the next queue_full; never more than 5 running', async () => {
        const { A, B } = procs;
        const partner = await A.createPartner({ rateLimit: 100000, queueCap: 200, concurrency: 5 });
        const PA = A.client(partner);
        const PB = B.client(partner);
        const account = await createAccount(PA);
        const slow = await createAutomation(PA, account, defs.sleep(600));
        for (let i = 0; i < 5; i++) await runAsync(i % 2 ? PB : PA, account, slow);
        await until(async () => (await countRuns(PA, account, slow, { status: 'running' })) === 5, { what: '5 running' });
        const path = `/v1/accounts/${account.guid}/blends/${slow.guid}/run`;
        const results = await Promise.all(
            Array.from({ length: 201 }, (_, i) => (i % 2 ? PB : PA).post(path, { json: { async: true } })),
        );
        const accepted = results.filter((r) => r.status === 202).length;
        const refused = results.filter((r) => r.status === 400 && r.body?.code === 'queue_full').length;
        assert.equal(accepted, 200, 'queued up to the cap');
        assert.equal(refused, 1, 'the 206th run is refused');
        assert.equal(await countRuns(PA, account, slow, { status: 'queued' }), 200);
        await sleep(1000); // claim passes of all three processes go by
        assert.equal(await countRuns(PB, account, slow, { status: 'running' }), 5, 'the concurrency holds across processes');
    });

    it('no run is executed twice: each run of 60, submitted to both servers, calls out exactly once', async () => {
        const { A, B } = procs;
        const hits = new Map();
        const recorder = http.createServer((req, res) => {
            hits.set(req.url, (hits.get(req.url) ?? 0) + 1);
            res.end('ok');
        });
        await new Promise((r) => recorder.listen(0, '127.0.0.1', r));
        try {
            const partner = await A.createPartner({ rateLimit: 100000, concurrency: 10 });
            const PA = A.client(partner);
            const PB = B.client(partner);
            const account = await createAccount(PA);
            const b = await createAutomation(PA, account, {
                schema: 1,
                inputs: [{ block_id: 'in', flow: 'start', field_name: 'n', type: 'integer', required: true }],
                flows: {
                    start: [
                        { id: 'h', type: 'http', method: 'GET', url: `http://127.0.0.1:${recorder.address().port}/hit/{$.inputs.n}` },
                        { id: 'out', type: 'output', value: 'ok' },
                    ],
                },
            });
            await Promise.all(Array.from({ length: 60 }, (_, n) => runAsync(n % 2 ? PB : PA, account, b, { n })));
            await until(async () => (await allRuns(PA, account, b)).every((r) => FINAL.has(r.status)), { what: 'every run ended', timeoutMs: 60000 });
            const runs = await allRuns(PA, account, b);
            assert.deepEqual(runs.filter((r) => r.status !== 'finished').map((r) => r.status), []);
            assert.equal(hits.size, 60, 'every run called out');
            assert.deepEqual([...hits].filter(([, count]) => count !== 1), [], 'none twice');
        } finally {
            recorder.close();
        }
    });

    it('SIGKILL of processes running runs: the remaining one finishes them', async () => {
        const { A } = procs;
        const partner = await A.createPartner({ rateLimit: 100000, concurrency: 30 });
        const PA = A.client(partner);
        const account = await createAccount(PA);
        const b = await createAutomation(PA, account, defs.sleep(2));
        const runs = [];
        for (let i = 0; i < 24; i++) runs.push(await runAsync(PA, account, b));
        await until(async () => (await countRuns(PA, account, b, { status: 'queued' })) === 0, { what: 'every run claimed' });
        await procs.B.kill();
        await procs.W.kill();
        await until(async () => (await allRuns(PA, account, b)).every((r) => FINAL.has(r.status)), { what: 'every run ended', timeoutMs: 60000 });
        const ended = await allRuns(PA, account, b);
        assert.equal(ended.length, 24);
        assert.deepEqual(ended.filter((r) => r.status !== 'finished').map((r) => r.status), [], 'all finished');
        // Fresh processes in the killed ones' places for the next test.
        for (const [name, command] of [['B', 'serve'], ['W', 'worker']]) {
            procs[name].cleanup();
            procs[name] = await WeftServer.start({ args: args(), command });
        }
    });

    it('SIGKILL of a scheduler process: another takes over within seconds and no tick fires twice', async () => {
        const partner = await procs.A.createPartner({ rateLimit: 100000 });
        const PA = procs.A.client(partner);
        const account = await createAccount(PA);
        const offset = await procs.A.advanceClock(0);
        const start = new Date(Date.now() + offset * 1000 + HOUR * 1000).toISOString().slice(0, 19).replace('T', ' ');
        const b = await createAutomation(PA, account, { schema: 1, run_mode: 'scheduled', flows: { start: [{ id: 'o', type: 'output', value: 'tick' }] } }, {
            schedule_interval: HOUR,
            schedule_start_at: start,
        });
        // Each process has its own test clock: the tick is due only where the clock moved, so the first tick
        // fires on the process that holds the scheduler lock. Move the clocks one at a time to find it.
        let leader = null;
        for (const name of ['A', 'B', 'W']) {
            await procs[name].advanceClock(HOUR + 1);
            await sleep(1500);
            if ((await allRuns(PA, account, b)).length > 0) {
                leader = name;
                break;
            }
        }
        assert.ok(leader, 'one process fired the first tick');
        assert.equal((await allRuns(PA, account, b)).length, 1);
        await procs[leader].kill();
        const survivors = ['A', 'B', 'W'].filter((n) => n !== leader);
        // Both survivors' clocks now past the second tick (and before the third).
        for (const name of survivors) {
            const now = await procs[name].advanceClock(0);
            await procs[name].advanceClock(2 * HOUR + 1 - now);
        }
        const api = procs[survivors.find((n) => n !== 'W')].client(partner);
        await until(async () => (await allRuns(api, account, b)).length === 2, { what: 'the second tick, fired by a survivor', timeoutMs: 15000 });
        await sleep(1500);
        const runs = await allRuns(api, account, b);
        assert.equal(runs.length, 2, 'no tick fired twice');
        assert.equal(new Set(runs.map((r) => r.schedule_starttime)).size, 2);
    });
});

// A `serve` with `--max-runs-in-flight 0` only answers the API: the runs its calls queue are executed by the
// worker, and a sync call still gets the run's outcome, woken by the worker's NOTIFY when the run ends.
describe('scale-out: an API-only server (max_runs_in_flight 0) and a worker', { skip: havePg ? false : 'no PostgreSQL (set WEFT_TEST_PG_URL)' }, () => {
    let db;
    let S;
    let W;
    let P;
    let account;
    const SYNC_TIMEOUT = 3;
    const args = () => ['--database', pgUrl(db), '--run-lease', '3', '--scheduler-tick-ms', '100'];
    const runsStarted = async (proc) => {
        const text = (await proc.request('GET', '/metrics')).text;
        const m = /^weft_runs_started_total (\d+)$/m.exec(text);
        return m ? Number(m[1]) : 0;
    };

    before(async () => {
        db = createPgDatabase('weft_apionly');
        S = await WeftServer.start({ args: [...args(), '--max-runs-in-flight', '0', '--sync-timeout', String(SYNC_TIMEOUT)] });
        W = await WeftServer.start({ args: args(), command: 'worker' });
        P = S.client(await S.createPartner({ rateLimit: 100000 }));
        account = await createAccount(P);
    });
    after(async () => {
        for (const p of [S, W]) {
            if (!p) continue;
            await p.kill();
            p.cleanup();
        }
        dropPgDatabase(db);
    });

    it('a sync call answers 200 with the output of the run the worker executed, moments after it ended', async () => {
        const b = await createAutomation(P, account, defs.sleep(1, { slept: true }));
        const workerBefore = await runsStarted(W);
        for (let i = 0; i < 3; i++) {
            const t0 = Date.now();
            const res = await P.post(`/v1/accounts/${account.guid}/blends/${b.guid}/run`, { json: {} });
            const answeredAt = Date.now();
            assert.equal(res.status, 200, res.text);
            assert.deepEqual(res.body, { slept: true }, 'the output itself, not a 202 with the run');
            assert.ok(answeredAt - t0 >= 1000, `the 1 s sleep ran before the answer (${answeredAt - t0} ms)`);
            const run = await P.get(`/v1/accounts/${account.guid}/blends/${b.guid}/runs/${res.headers['x-run-guid']}`);
            assert.equal(run.status, 200, run.text);
            assert.equal(run.body.status, 'finished');
            assert.equal(run.body.context, 'api_sync');
            assert.equal(run.body.attempt, 1);
            // The server polls for ended runs only once a second as a fallback: an answer this close to the
            // run's end (three times in a row) is the worker's NOTIFY waking the caller.
            const lag = answeredAt - Date.parse(run.body.stoptime);
            assert.ok(lag < 500, `answered ${lag} ms after the run ended on the worker`);
        }
        assert.equal(await runsStarted(S), 0, 'the API-only server started no run');
        assert.equal((await runsStarted(W)) - workerBefore, 3, 'the worker started all three');
    });

    it('a run on the worker outlasting sync_timeout: 202 + the run + Location, and the worker finishes it', async () => {
        const b = await createAutomation(P, account, defs.sleep(SYNC_TIMEOUT + 2, { late: true }));
        const t0 = Date.now();
        const res = await P.post(`/v1/accounts/${account.guid}/blends/${b.guid}/run`, { json: {} });
        const waited = Date.now() - t0;
        assert.equal(res.status, 202, res.text);
        assert.ok(waited >= SYNC_TIMEOUT * 1000 - 100 && waited < (SYNC_TIMEOUT + 2) * 1000, `answered after ${waited} ms`);
        assert.equal(res.body.context, 'api_sync');
        assert.equal(res.body.status, 'running', 'the worker had claimed it');
        assert.equal(res.headers.location, `${S.baseUrl}/v1/accounts/${account.guid}/blends/${b.guid}/runs/${res.body.guid}`);
        const ended = await waitRun(P, account, b, res.body.guid, undefined, { timeoutMs: 15000 });
        assert.equal(ended.status, 'finished');
        assert.deepEqual(ended.output, { late: true });
        assert.equal(await runsStarted(S), 0, 'the API-only server started no run');
    });
});
