// Starts the real `weft` binary on port 0 with a fresh data folder, and drives its CLI.
import { spawn, execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync, existsSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { after, before } from 'node:test';
import { WEFT_BIN } from './paths.mjs';
import { request } from './http.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function makeDataDir() {
    return mkdtempSync(path.join(os.tmpdir(), 'weft-api-'));
}

// ---- the store under test
// WEFT_API_STORE=postgres runs the suite on PostgreSQL: every data folder a test uses gets its own fresh
// database on the server WEFT_TEST_PG_URL names (created on first use, dropped when the folder is cleaned up
// or the test process exits), passed to every weft command on that folder as WEFT_DATABASE.
export const onPostgres = process.env.WEFT_API_STORE === 'postgres';

/**
 * Waits until a running server must see a change a CLI command just made to partners, keys, accounts or
 * automations. On SQLite the server reads the database's change counter at most every 100 ms
 * (SqlStore::kSqliteLookupRecheck) and answers from memory meanwhile; on PostgreSQL it reads it at every call.
 */
export async function cliChangeSeen() {
    if (!onPostgres) await sleep(150);
}
const pgServerUrl = process.env.WEFT_TEST_PG_URL ?? '';
if (onPostgres && !pgServerUrl) throw new Error('WEFT_API_STORE=postgres needs WEFT_TEST_PG_URL');
const pgDatabases = new Map(); // data folder -> database name

function psql(sql) {
    execFileSync('psql', [pgServerUrl, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The URL of database `name` on the test server. */
export function pgUrl(name) {
    const u = new URL(pgServerUrl);
    u.pathname = `/${name}`;
    return u.toString();
}

/** Creates a fresh PostgreSQL database (dropped when this process exits) and returns its name. */
export function createPgDatabase(prefix = 'weft_api') {
    const name = `${prefix}_${process.pid}_${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 12)}`;
    psql(`CREATE DATABASE ${name}`);
    pgDatabases.set(`#${name}`, name);
    return name;
}

export function dropPgDatabase(name) {
    try {
        psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } catch {
        // the cluster may already be gone
    }
}

function databaseFor(dataDir) {
    let name = pgDatabases.get(dataDir);
    if (!name) {
        name = `weft_api_${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 20)}`;
        psql(`CREATE DATABASE ${name}`);
        pgDatabases.set(dataDir, name);
    }
    return pgUrl(name);
}

/** On PostgreSQL, the URL of the database behind data folder `dataDir`; otherwise null. */
export function databaseUrlFor(dataDir) {
    return onPostgres ? databaseFor(dataDir) : null;
}

// Every weft process a test started and that has not exited yet. A test file whose process ends while some
// are still running (a server a test restarted and left, a hook that threw) must not leave them behind: they
// would keep polling, and skew whatever runs on the machine next.
const liveChildren = new Set();
process.on('exit', () => {
    for (const child of liveChildren) {
        process.stderr.write(`still running when the test file ended, killed: ${child.spawnargs.join(' ')}\n`);
        child.kill('SIGKILL');
    }
});

if (onPostgres) {
    process.on('exit', () => {
        for (const name of pgDatabases.values()) dropPgDatabase(name);
    });
}

/** The environment for a weft command on `args`: on PostgreSQL, WEFT_DATABASE for its --data folder. */
function weftEnv(args, env) {
    const base = env ?? process.env;
    if (!onPostgres || base.WEFT_DATABASE || args.includes('--database')) return base;
    const i = args.indexOf('--data');
    if (i < 0 || i + 1 >= args.length) return base;
    return { ...base, WEFT_DATABASE: databaseFor(args[i + 1]) };
}

/** Runs `weft ARGS...`; resolves {code, stdout, stderr} (never rejects on a non-zero exit). */
export function runWeft(args, { timeoutMs = 30000, env } = {}) {
    return new Promise((resolve) => {
        execFile(WEFT_BIN, args, { timeout: timeoutMs, env: weftEnv(args, env), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            let code = 0;
            if (err) code = typeof err.code === 'number' ? err.code : (err.signal ?? -1);
            resolve({ code, stdout, stderr });
        });
    });
}

async function runWeftOk(args) {
    const r = await runWeft(args);
    if (r.code !== 0) throw new Error(`weft ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
}

function parseJsonOutput(r, what) {
    try {
        return JSON.parse(r.stdout);
    } catch {
        throw new Error(`${what}: stdout is not JSON: ${r.stdout}\nstderr: ${r.stderr}`);
    }
}

export class WeftServer {
    constructor(dataDir, child, port, logPath) {
        this.dataDir = dataDir;
        this.child = child;
        this.port = port;
        this.logPath = logPath;
        this.baseUrl = `http://127.0.0.1:${port}`;
        this.exit = null;
        this.exited = new Promise((resolve) => {
            child.on('exit', (code, signal) => {
                this.exit = { code, signal };
                resolve(this.exit);
            });
        });
        this.agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
        this.partnerSeq = 0;
    }

    /** `command`: 'serve' or 'worker'. With `--database URL` in args, the CLI helpers use that database too. */
    static async start({ args = [], dataDir = makeDataDir(), testClock = true, command = 'serve' } = {}) {
        const portFile = path.join(dataDir, 'port');
        const logPath = path.join(dataDir, 'server.log');
        rmSync(portFile, { force: true }); // a restart on the same folder must not read the old port
        const logFd = openSync(logPath, 'a');
        const argv = [command, '--data', dataDir, '--listen', '127.0.0.1:0', '--port-file', portFile];
        if (testClock) argv.push('--test-clock');
        argv.push(...args);
        const child = spawn(WEFT_BIN, argv, { stdio: ['ignore', logFd, logFd], env: weftEnv(argv) });
        closeSync(logFd);
        liveChildren.add(child);
        child.on('exit', () => liveChildren.delete(child));
        let spawnError = null;
        child.on('error', (e) => {
            spawnError = e;
        });
        let exited = null;
        child.on('exit', (code, signal) => {
            exited = { code, signal };
        });
        const deadline = Date.now() + 20000;
        for (;;) {
            if (spawnError) throw new Error(`cannot start ${WEFT_BIN}: ${spawnError.message}`);
            if (exited) throw new Error(`weft serve exited early (${JSON.stringify(exited)}):\n${tail(logPath)}`);
            if (existsSync(portFile)) {
                const text = readFileSync(portFile, 'utf8').trim();
                if (/^\d+$/.test(text) && Number(text) > 0) {
                    const server = new WeftServer(dataDir, child, Number(text), logPath);
                    const i = args.indexOf('--database');
                    if (i >= 0) server.database = args[i + 1];
                    return server;
                }
            }
            if (Date.now() > deadline) {
                child.kill('SIGKILL');
                throw new Error(`no port file after 20 s:\n${tail(logPath)}`);
            }
            await sleep(25);
        }
    }

    /** SIGTERM, wait for exit; returns {code, signal}. */
    async stop({ timeoutMs = 20000 } = {}) {
        this.agent.destroy();
        if (!this.exit) {
            this.child.kill('SIGTERM');
            let timer;
            const timeout = new Promise((resolve) => {
                timer = setTimeout(() => resolve(null), timeoutMs);
            });
            const r = await Promise.race([this.exited, timeout]);
            clearTimeout(timer);
            if (!r) {
                this.child.kill('SIGKILL');
                await this.exited;
                throw new Error(`weft serve did not exit within ${timeoutMs} ms of SIGTERM`);
            }
        }
        return this.exit;
    }

    /** SIGKILL (a crash): no graceful shutdown. Resolves with {code, signal}. */
    async kill() {
        this.agent.destroy();
        if (!this.exit) this.child.kill('SIGKILL');
        return this.exited;
    }

    log() {
        return tail(this.logPath, 60);
    }

    cleanup() {
        if (process.env.WEFT_KEEP_DATA) return;
        rmSync(this.dataDir, { recursive: true, force: true });
        const db = pgDatabases.get(this.dataDir);
        if (db) {
            dropPgDatabase(db);
            pgDatabases.delete(this.dataDir);
        }
    }

    // ---- HTTP ----

    /** request(method, path, opts): see http.mjs; uses a keep-alive agent unless opts.agent is given. */
    request(method, target, opts = {}) {
        return request(this.port, method, target, { agent: this.agent, ...opts });
    }

    /** A client bound to one partner's credentials. */
    client(partner) {
        const r = (method) => (target, opts = {}) => this.request(method, target, { partner, ...opts });
        return { get: r('GET'), post: r('POST'), put: r('PUT'), delete: r('DELETE'), request: (m, t, o = {}) => this.request(m, t, { partner, ...o }) };
    }

    /** Moves the server's clock forward (needs --test-clock). Returns the total offset. */
    async advanceClock(seconds) {
        const res = await this.request('POST', '/_test/clock', { json: { advance_seconds: seconds } });
        if (res.status !== 200) throw new Error(`POST /_test/clock -> ${res.status}: ${res.text}`);
        return res.body.offset_seconds;
    }

    // ---- CLI (works while the server runs) ----

    dbArgs() {
        return this.database ? ['--data', this.dataDir, '--database', this.database] : ['--data', this.dataDir];
    }

    async createPartner({ name, rateLimit, queueCap, concurrency } = {}) {
        const args = ['partner', 'create', ...this.dbArgs(), '--name', name ?? `partner-${++this.partnerSeq}`, '--json'];
        if (rateLimit !== undefined) args.push('--rate-limit', String(rateLimit));
        if (queueCap !== undefined) args.push('--queue-cap', String(queueCap));
        if (concurrency !== undefined) args.push('--concurrency', String(concurrency));
        const p = parseJsonOutput(await runWeftOk(args), 'partner create');
        if (!Number.isInteger(p.app_id) || typeof p.api_key !== 'string' || typeof p.guid !== 'string') {
            throw new Error(`partner create printed ${JSON.stringify(p)}`);
        }
        return p;
    }

    async updatePartner(appId, { rateLimit }) {
        await runWeftOk(['partner', 'update', ...this.dbArgs(), '--app-id', String(appId), '--rate-limit', String(rateLimit)]);
    }

    async addKey(appId) {
        return parseJsonOutput(
            await runWeftOk(['partner', 'key-add', ...this.dbArgs(), '--app-id', String(appId), '--json']),
            'partner key-add',
        );
    }

    async revokeKey(appId, keyId) {
        await runWeftOk(['partner', 'key-revoke', ...this.dbArgs(), '--app-id', String(appId), '--key-id', String(keyId)]);
    }

    async listPartners() {
        const r = await runWeftOk(['partner', 'list', ...this.dbArgs(), '--json']);
        return { parsed: parseJsonOutput(r, 'partner list'), stdout: r.stdout };
    }
}

function tail(file, lines = 40) {
    try {
        return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
        return '(no log)';
    }
}

/**
 * Registers before/after hooks that run one server for the calling test file. The returned object's
 * `server` is set once the `before` hook ran. The `after` hook asserts that SIGTERM makes it exit 0.
 */
export function useServer(options = {}) {
    const holder = { server: null };
    before(async () => {
        holder.server = await WeftServer.start(options);
    });
    after(async () => {
        const s = holder.server;
        if (!s) return;
        const exit = await s.stop();
        if (exit.code !== 0) {
            throw new Error(`weft serve exited with ${JSON.stringify(exit)} after SIGTERM (want 0):\n${s.log()}`);
        }
        s.cleanup();
    });
    return holder;
}
