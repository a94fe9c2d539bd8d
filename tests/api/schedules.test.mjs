// Issue 4 item 6 over HTTP: scheduled automations fire from the server's (test) clock, one run per tick,
// missed ticks once, overlapping ticks skipped and counted, expired accounts and disabled automations never.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, createAccount } from './lib/harness.mjs';
import { createAutomation, blendPath, allRuns, until } from './lib/automations.mjs';

const HOUR = 3600;
const ctx = useServer({ args: ['--scheduler-tick-ms', '50'] });
let A;

const scheduledDef = (value = 'tick') => ({ schema: 1, run_mode: 'scheduled', flows: { start: [{ id: 'o', type: 'output', value }] } });
const sleepyDef = () => ({
    schema: 1,
    run_mode: 'scheduled',
    flows: { start: [{ id: 'z', type: 'sleep', seconds: '600' }, { id: 'o', type: 'output', value: 'late' }] },
});

/** "YYYY-MM-DD HH:MM:SS" (UTC) of the server's clock plus `seconds` (its clock is ours plus the test offset). */
async function serverTime(plusSeconds = 0) {
    const offset = await ctx.server.advanceClock(0);
    const now = Date.now() + offset * 1000;
    return new Date(now + plusSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

async function metric(name, labels = '') {
    const text = (await ctx.server.request('GET', '/metrics')).text;
    const re = new RegExp(`^${name}${labels ? `\\{${labels.replace(/[{}"=]/g, (c) => `\\${c}`)}\\}` : ''} (\\d+)$`, 'm');
    const m = re.exec(text);
    return m ? Number(m[1]) : 0;
}

async function settle() {
    // A few scheduler passes (50 ms each) go by.
    await new Promise((r) => setTimeout(r, 400));
}

describe('scheduler over HTTP (issue 4 item 6)', () => {
    before(async () => {
        A = ctx.server.client(await ctx.server.createPartner({ name: 'sched-a', rateLimit: 100000 }));
    });

    it('fires once per tick with context scheduled and schedule_starttime = the tick; missed ticks after downtime fire once', async () => {
        const account = await createAccount(A);
        const start = await serverTime(HOUR);
        const b = await createAutomation(A, account, scheduledDef(), { schedule_interval: HOUR, schedule_start_at: start });
        await settle();
        assert.equal((await allRuns(A, account, b)).length, 0, 'nothing before the start');
        await ctx.server.advanceClock(HOUR + 1);
        await until(async () => (await allRuns(A, account, b)).length === 1, { what: 'the first tick' });
        const [first] = await allRuns(A, account, b);
        assert.equal(first.context, 'scheduled');
        assert.equal(first.schedule_starttime.slice(0, 19).replace('T', ' '), start);
        await settle();
        assert.equal((await allRuns(A, account, b)).length, 1, 'one run per tick');
        // Five ticks pass while nothing is looking: one run, not five.
        await ctx.server.advanceClock(5 * HOUR);
        await until(async () => (await allRuns(A, account, b)).length === 2, { what: 'the catch-up tick' });
        await settle();
        assert.equal((await allRuns(A, account, b)).length, 2, 'missed ticks collapse into one');
    });

    it('a tick whose previous scheduled run is still running is skipped and counted in /metrics', async () => {
        const account = await createAccount(A);
        const before = await metric('weft_schedule_skipped_total', 'reason="overlap"');
        const b = await createAutomation(A, account, sleepyDef(), { schedule_interval: HOUR, schedule_start_at: await serverTime(60) });
        await ctx.server.advanceClock(61);
        await until(async () => (await allRuns(A, account, b)).some((r) => r.status === 'running'), { what: 'the first scheduled run running' });
        await ctx.server.advanceClock(HOUR);
        await until(async () => (await metric('weft_schedule_skipped_total', 'reason="overlap"')) > before, { what: 'the overlap counted' });
        assert.equal((await allRuns(A, account, b)).length, 1, 'no second run while the first runs');
    });

    it('expired accounts and disabled automations never fire; re-enabling arms the schedule again', async () => {
        const expiredAcc = await createAccount(A);
        const e = await createAutomation(A, expiredAcc, scheduledDef(), { schedule_interval: HOUR, schedule_start_at: await serverTime(60) });
        assert.equal((await A.put(`/v1/accounts/${expiredAcc.guid}/expire`)).status, 200);
        const account = await createAccount(A);
        const d = await createAutomation(A, account, scheduledDef(), { schedule_interval: HOUR, schedule_start_at: await serverTime(60), state: 'disabled' });
        await ctx.server.advanceClock(2 * HOUR);
        await settle();
        assert.equal((await allRuns(A, expiredAcc, e)).length, 0, 'expired account: no run');
        assert.equal((await allRuns(A, account, d)).length, 0, 'disabled automation: no run');
        // Re-enabled with a start in the (server's) future, it fires.
        const res = await A.put(blendPath(account, d), { json: { state: 'available', schedule_start_at: await serverTime(60) } });
        assert.equal(res.status, 200, res.text);
        await ctx.server.advanceClock(61);
        await until(async () => (await allRuns(A, account, d)).length === 1, { what: 're-enabled automation fired' });
    });

    it('a one-off schedule (interval 0) fires once at its start and never again', async () => {
        const account = await createAccount(A);
        const b = await createAutomation(A, account, scheduledDef(), { schedule_interval: 0, schedule_start_at: await serverTime(30) });
        await ctx.server.advanceClock(31);
        await until(async () => (await allRuns(A, account, b)).length === 1, { what: 'the one-off run' });
        await ctx.server.advanceClock(10 * HOUR);
        await settle();
        assert.equal((await allRuns(A, account, b)).length, 1);
    });
});
