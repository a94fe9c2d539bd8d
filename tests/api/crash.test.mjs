// AUTOMATIONS.md §5 / DESIGN.md "Runs and the queue": runs survive a crash (SIGKILL). Running runs are requeued
// (attempt + 1) once their lease lapses, at most 3 attempts, then failed "worker lost"; queued runs are kept.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { WeftServer, createAccount } from './lib/harness.mjs';
import { defs, createAutomation, blendPath, runAsync, waitRun, allRuns, countRuns, until, FINAL } from './lib/automations.mjs';

const ARGS = ['--run-lease', '2'];
let server = null;

async function restart() {
    const exit = await server.kill();
    assert.equal(exit.signal, 'SIGKILL');
    server = await WeftServer.start({ dataDir: server.dataDir, args: ARGS });
    return server;
}

describe('crash recovery (--run-lease 2)', () => {
    after(async () => {
        if (!server) return;
        const exit = await server.stop();
        assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}:\n${server.log()}`);
        server.cleanup();
    });

    it('40 runs (running and queued) all reach a final state with their output after SIGKILL and restart', async () => {
        server = await WeftServer.start({ args: ARGS });
        const partner = await server.createPartner({ name: 'crash', concurrency: 10, rateLimit: 100000 });
        let P = server.client(partner);
        const acc = await createAccount(P);
        const b = await createAutomation(P, acc, defs.sleepN());
        const runs = [];
        for (let i = 0; i < 40; i++) runs.push(await runAsync(P, acc, b, { n: i, s: 2 }));
        await until(async () => (await countRuns(P, acc, b, { status: 'running' })) === 10, { what: '10 running' });
        const before = await allRuns(P, acc, b);
        const wasRunning = new Set(before.filter((r) => r.status === 'running').map((r) => r.guid));
        assert.equal(wasRunning.size, 10);
        assert.equal(before.filter((r) => r.status === 'queued').length, 30);

        await restart();
        P = server.client(partner);
        // Nothing was lost.
        assert.equal(await countRuns(P, acc, b), 40);
        const deadline = { timeoutMs: 45000, intervalMs: 200 };
        await until(async () => (await countRuns(P, acc, b, { finishedOnly: 'true' })) === 40, { ...deadline, what: 'all 40 runs to end' });
        for (const [i, r] of runs.entries()) {
            const got = (await P.get(`${blendPath(acc, b)}/runs/${r.guid}`)).body;
            assert.equal(got.status, 'finished', JSON.stringify(got));
            assert.deepEqual(got.output, { n: i });
            assert.equal(got.attempt, wasRunning.has(r.guid) ? 2 : 1, `attempt of ${i} (${wasRunning.has(r.guid) ? 'was running' : 'was queued'})`);
            assert.equal(got.error, null);
        }
        // New runs work after the restart.
        const res = await P.post(`${blendPath(acc, b)}/run`, { json: { inputs: { n: 99 } } });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { n: 99 });
    });

    it('a run whose worker dies three times fails with "worker lost" after its third attempt', async () => {
        const partner = await server.createPartner({ name: 'crash-3' });
        let P = server.client(partner);
        const acc = await createAccount(P);
        const b = await createAutomation(P, acc, defs.sleep(60));
        const run = await runAsync(P, acc, b);
        for (let attempt = 1; attempt <= 3; attempt++) {
            await waitRun(P, acc, b, run.guid, (r) => r.status === 'running' && r.attempt === attempt, { timeoutMs: 15000, intervalMs: 100 });
            await restart();
            P = server.client(partner);
        }
        const ended = await waitRun(P, acc, b, run.guid, (r) => FINAL.has(r.status), { timeoutMs: 15000, intervalMs: 100 });
        assert.equal(ended.status, 'failed', JSON.stringify(ended));
        assert.equal(ended.attempt, 3);
        assert.match(ended.error?.message ?? '', /worker lost/);
        assert.match(ended.stoptime, /Z$/);
    });
});
