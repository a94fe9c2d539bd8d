// The `weft` command line (DESIGN.md process model).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runWeft, makeDataDir } from './lib/harness.mjs';

describe('weft CLI', () => {
    it('weft --help lists the commands', async () => {
        const r = await runWeft(['--help']);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout + r.stderr;
        // `worker` (scale-out with PostgreSQL) comes with a later milestone.
        for (const cmd of ['serve', 'partner', 'migrate']) assert.match(out, new RegExp(`\\b${cmd}\\b`), `--help mentions ${cmd}`);
    });

    it('weft serve --help lists its options', async () => {
        const r = await runWeft(['serve', '--help']);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout + r.stderr;
        for (const opt of ['--config', '--listen', '--data', '--database', '--port-file', '--read-timeout', '--test-clock']) {
            assert.ok(out.includes(opt), `serve --help lists ${opt}`);
        }
    });

    it('weft partner --help lists its subcommands', async () => {
        const r = await runWeft(['partner', '--help']);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout + r.stderr;
        for (const sub of ['create', 'update', 'key-add', 'key-revoke', 'list']) assert.ok(out.includes(sub), `partner --help lists ${sub}`);
    });

    it('an unknown command exits non-zero', async () => {
        const r = await runWeft(['no-such-command']);
        assert.notEqual(r.code, 0);
    });

    it('DESIGN.md: an unknown key in a --config file makes weft serve exit non-zero, naming the key', async () => {
        const dir = makeDataDir();
        try {
            const config = path.join(dir, 'weft.toml');
            writeFileSync(config, 'listen = "127.0.0.1:0"\nbogus_setting_xyz = 42\n');
            const r = await runWeft(['serve', '--config', config, '--data', dir, '--listen', '127.0.0.1:0'], { timeoutMs: 15000 });
            assert.notEqual(r.code, 0, 'exits non-zero');
            assert.notEqual(r.code, 'SIGTERM', 'exits by itself, not by the test timeout');
            assert.ok((r.stdout + r.stderr).includes('bogus_setting_xyz'), `message names the key: ${r.stderr}`);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it('docs/scale-out.md: --max-runs-in-flight 0 (API only) is refused on SQLite and on a worker, saying why', async () => {
        const dir = makeDataDir();
        try {
            const sqlite = `sqlite://${path.join(dir, 'weft.db')}`;
            const serve = await runWeft(['serve', '--database', sqlite, '--listen', '127.0.0.1:0', '--max-runs-in-flight', '0'], { timeoutMs: 15000 });
            assert.notEqual(serve.code, 0, 'exits non-zero');
            assert.notEqual(serve.code, 'SIGTERM', 'exits by itself, not by the test timeout');
            assert.match(serve.stdout + serve.stderr, /max_runs_in_flight 0.*PostgreSQL/);
            const worker = await runWeft(['worker', '--database', sqlite, '--listen', '127.0.0.1:0', '--max-runs-in-flight', '0'], { timeoutMs: 15000 });
            assert.notEqual(worker.code, 0, 'exits non-zero');
            assert.notEqual(worker.code, 'SIGTERM', 'exits by itself, not by the test timeout');
            assert.match(worker.stdout + worker.stderr, /max_runs_in_flight 0 makes a worker that runs nothing/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it('partner update / key-add on an unknown app id exit non-zero', async () => {
        const dir = makeDataDir();
        try {
            const create = await runWeft(['partner', 'create', '--data', dir, '--name', 'only', '--json']);
            assert.equal(create.code, 0, create.stderr);
            const r1 = await runWeft(['partner', 'update', '--data', dir, '--app-id', '424242', '--rate-limit', '5']);
            assert.notEqual(r1.code, 0);
            const r2 = await runWeft(['partner', 'key-add', '--data', dir, '--app-id', '424242', '--json']);
            assert.notEqual(r2.code, 0);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
