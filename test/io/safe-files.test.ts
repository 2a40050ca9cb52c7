/**
 * The file writer, reader and run lock, through an injected file-system layer
 * (runs everywhere, no root needed): short writes, a disk that fills at each
 * point of a checkpoint save, links, FIFOs and devices, size caps, NaN weights,
 * deep manifests, a held or stale lock.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadCheckpoint, saveCheckpoint, type CheckpointContent } from '../../src/io/node/checkpoint-files.js';
import { errnoError, fsLayer, useFsLayer, withFailpoints, type FsLayer } from '../../src/io/node/fs-layer.js';
import { LOCK_FILE, lockRunFolder } from '../../src/io/node/run-lock.js';
import { appendFileSafe, readFileSafe, writeFileSafe } from '../../src/io/node/safe-files.js';
import { DataError, Tensor } from '../../src/tensor/index.js';

const root = fs.mkdtempSync(join(tmpdir(), 'bptt-safe-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(root, `d${n++}`);
  fs.mkdirSync(d);
  return d;
};

const rejects = (fn: () => unknown, ...patterns: RegExp[]): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `DataError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
};

/** Runs `fn` with `layer` in force. */
function using<T>(layer: FsLayer, fn: () => T): T {
  const restore = useFsLayer(layer);
  try {
    return fn();
  } finally {
    restore();
  }
}

function content(value: number): CheckpointContent {
  return {
    meta: { value },
    weights: new Map([['w', Tensor.from([value, 2, 3, 4], [2, 2])]]),
    state: new Map([['optimizer.w.exp_avg', Tensor.from([0, 0, 0, value], [2, 2])]]),
  };
}

describe('writeFileSafe', () => {
  test('a short write is continued: the file is whole', () => {
    const dir = fresh();
    const base = fsLayer();
    const bytes = Buffer.from('x'.repeat(1000));
    let calls = 0;
    using({ ...base, writeSync: (fd, b, o, l) => (calls++, base.writeSync(fd, b, o, Math.min(l, 7))) },
      () => writeFileSafe(join(dir, 'f'), bytes));
    assert.ok(calls >= 143);
    assert.deepEqual(fs.readFileSync(join(dir, 'f')), bytes);
  });

  test('a full disk: a DataError naming the file and the free space; the old file is kept, no temporary left', () => {
    const dir = fresh();
    const path = join(dir, 'f');
    fs.writeFileSync(path, 'old');
    const base = fsLayer();
    const writeSync = (fd: number, b: Uint8Array, o: number, l: number) =>
      (l > 10 ? base.writeSync(fd, b, o, 10) : ((): never => {
        throw errnoError('ENOSPC', 'write');
      })());
    const full = { ...base, writeSync };
    using(full, () => rejects(() => writeFileSafe(path, 'new contents, longer than ten bytes'),
      /^writing '.*\/f': expected room for 35 bytes, got ENOSPC: the disk is full \(\d+ bytes free\)/));
    assert.equal(fs.readFileSync(path, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(dir), ['f']);
  });

  test('a write that makes no progress is a full disk, not a loop', () => {
    const dir = fresh();
    using({ ...fsLayer(), writeSync: () => 0 }, () => rejects(() => writeFileSafe(join(dir, 'f'), 'abc'), /ENOSPC/));
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('a size that differs from the bytes written after fsync is refused before the rename', () => {
    const dir = fresh();
    const base = fsLayer();
    using({ ...base, fstatSync: (fd) => ({ ...base.fstatSync(fd), size: 1 }) as fs.Stats },
      () => rejects(() => writeFileSafe(join(dir, 'f'), 'abc'), /expected 3 bytes, got 1 on disk/));
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('EDQUOT and EROFS are DataErrors too', () => {
    const dir = fresh();
    for (const code of ['EDQUOT', 'EROFS']) {
      using({ ...fsLayer(), openSync: () => { throw errnoError(code, 'open'); } },
        () => rejects(() => writeFileSafe(join(dir, 'f'), 'abc'), new RegExp(code)));
    }
  });

  test('a symbolic link at the target is refused and what it points at is untouched', () => {
    const dir = fresh();
    const victim = join(dir, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.symlinkSync(victim, join(dir, 'best.json'));
    rejects(() => writeFileSafe(join(dir, 'best.json'), 'manifest'),
      /'.*best\.json': expected a file to write, got a symbolic link \(bptt never writes through/);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
    assert.ok(fs.lstatSync(join(dir, 'best.json')).isSymbolicLink());
    rejects(() => appendFileSafe(join(dir, 'best.json'), 'line\n'), /symbolic link/);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
  });

  test('an append that does not fit whole is cut off again: no torn line', () => {
    const dir = fresh();
    const path = join(dir, 'log.jsonl');
    appendFileSafe(path, '{"update":1}\n');
    using(withFailpoints(fsLayer(), 'enospc@1'), () => rejects(() => appendFileSafe(path, '{"update":2}\n'), /ENOSPC/));
    assert.equal(fs.readFileSync(path, 'utf8'), '{"update":1}\n');
  });

  test('temporary files a killed writer left are removed by the next write of that file, a live one\'s are not', () => {
    const dir = fresh();
    const dead = deadPid();
    const left = [`.model.onnx.${dead}-0123abcd.tmp`, `.model.onnx.${process.pid}-0123abcd.tmp`,
      `.other.${dead}-0123abcd.tmp`];
    for (const f of left) fs.writeFileSync(join(dir, f), 'partial');
    writeFileSafe(join(dir, 'model.onnx'), 'whole');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model.onnx', ...left.slice(1)].sort());
  });

  test('a directory at the target is refused', () => {
    const dir = fresh();
    fs.mkdirSync(join(dir, 'sub'));
    rejects(() => writeFileSafe(join(dir, 'sub'), 'x'), /got a directory/);
  });
});

describe('readFileSafe', () => {
  test('refuses a link (unless allowed), a FIFO (without hanging), a device, a directory, '
    + 'and a file over the cap', () => {
    const dir = fresh();
    fs.writeFileSync(join(dir, 'f'), 'abcdef');
    fs.symlinkSync(join(dir, 'f'), join(dir, 'link'));
    fs.symlinkSync('/dev/zero', join(dir, 'zero'));
    rejects(() => readFileSafe(join(dir, 'link'), { maxBytes: 100 }),
      /expected a readable regular file, got a symbolic link/);
    assert.equal(readFileSafe(join(dir, 'link'), { maxBytes: 100, followLinks: true }).toString(), 'abcdef');
    rejects(() => readFileSafe(join(dir, 'zero'), { maxBytes: 100, followLinks: true }),
      /expected a regular file, got a device/);
    rejects(() => readFileSafe(dir, { maxBytes: 100 }), /got a directory/);
    rejects(() => readFileSafe(join(dir, 'f'), { maxBytes: 5 }), /expected a file of at most 5 bytes, got 6 bytes/);
    if (spawnSync('mkfifo', [join(dir, 'fifo')]).status === 0) {
      rejects(() => readFileSafe(join(dir, 'fifo'), { maxBytes: 100, followLinks: true }),
        /expected a regular file, got a FIFO/);
    }
  });
});

describe('checkpoints on a failing disk', () => {
  test('the disk full at every point of a save: the error names the file, '
    + 'the previous checkpoint loads as it was', () => {
    const dir = fresh();
    saveCheckpoint(dir, 'last', content(1));
    const before = fs.readdirSync(dir).sort();
    let points = 0;
    const trace = withFailpoints(fsLayer(), 'trace');
    const write = process.stderr.write;
    const labels: string[] = [];
    const record = (line: string) => (points++, labels.push(line.split(' ').slice(2).join(' ')), true);
    process.stderr.write = record as typeof process.stderr.write;
    try {
      using(trace, () => saveCheckpoint(fresh(), 'last', content(2)));
    } finally {
      process.stderr.write = write;
    }
    assert.ok(points >= 12, `${points} points`);
    for (let at = 1; at <= points; at++) {
      let error: unknown = null;
      try {
        using(withFailpoints(fsLayer(), `enospc@${at}`), () => saveCheckpoint(dir, 'last', content(2)));
      } catch (e) {
        error = e;
      }
      const loaded = loadCheckpoint(join(dir, 'last.json'));
      if (error) {
        assert.ok(error instanceof DataError, String(error));
        assert.match(error.message, /^writing '.*': expected room for \d+ bytes, got ENOSPC/);
        if (loaded.meta.value === 1) {
          assert.deepEqual(fs.readdirSync(dir).sort(), before,
            `full at point ${at}: the old checkpoint, nothing left behind`);
        } else {
          // Full when the directory was flushed after the manifest's rename: the new checkpoint is complete, but the
          // rename may not survive a crash, which the error says; the old files go at the next save.
          assert.equal(loaded.meta.value, 2);
          assert.match(labels[at - 1]!, /^fsync /,
            `full at point ${at}: the new checkpoint only after the last rename`);
          saveCheckpoint(dir, 'last', content(1));
        }
      } else {
        assert.equal(loaded.meta.value, 2, `full at point ${at} (after the last write): the new checkpoint`);
        saveCheckpoint(dir, 'last', content(1));
      }
    }
  });

  test('weights that are not finite are never saved, and refused when loaded', () => {
    const dir = fresh();
    saveCheckpoint(dir, 'last', content(1));
    const before = fs.readdirSync(dir).sort();
    rejects(() => saveCheckpoint(dir, 'last', content(NaN)), /: w: expected finite weights, got NaN at index 0/);
    assert.deepEqual(fs.readdirSync(dir).sort(), before);
    assert.equal(loadCheckpoint(dir).meta.value, 1);
    // A NaN planted in a file (with its hash updated) is refused on load.
    const bad = fresh();
    const c = content(1);
    c.weights.get('w')!.data[3] = Infinity;
    const m = saveUnchecked(bad, c);
    rejects(() => loadCheckpoint(m), /expected finite weights, got Infinity at index 3/);
  });

  test('files a manifest names must be regular files beside it, read no further than the metadata implies', () => {
    const dir = fresh();
    const path = saveCheckpoint(dir, 'last', content(1));
    const manifest = JSON.parse(fs.readFileSync(path, 'utf8'));
    const weights = join(dir, manifest.weights);
    fs.renameSync(weights, `${weights}.real`);
    for (const [target, got] of [['/dev/zero', /symbolic link/], ['/etc/passwd', /symbolic link/]] as const) {
      fs.rmSync(weights, { force: true });
      fs.symlinkSync(target, weights);
      assert.throws(() => loadCheckpoint(path), (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.match(e.message, got);
        assert.doesNotMatch(e.message, /root:/, 'nothing of the target leaks');
        return true;
      });
    }
    fs.rmSync(weights);
    fs.renameSync(`${weights}.real`, weights);
    const big = saveCheckpoint(fresh(), 'last',
      { meta: {}, weights: new Map([['w', Tensor.zeros([300_000])]]), state: null });
    rejects(() => loadCheckpoint(big, { parameterCount: () => 4 }),
      /expected a file of at most 1048608 bytes, got 1200\d\d\d bytes/);
    assert.equal(loadCheckpoint(big, { parameterCount: () => 300_000 }).weights.get('w')!.data.length, 300_000);
  });

  test('a manifest nested too deep or too large is a DataError', () => {
    const dir = fresh();
    const path = saveCheckpoint(dir, 'last', content(1));
    const text = fs.readFileSync(path, 'utf8');
    fs.writeFileSync(path, text.replace('"meta": {', `"meta": {"deep": ${'['.repeat(100000)}${']'.repeat(100000)},`));
    rejects(() => loadCheckpoint(path), /expected JSON nested at most 32 deep, got 33 levels or more/);
    fs.writeFileSync(path, text.replace('"meta": {', `"meta": {"big": "${'x'.repeat(64 * 2 ** 20)}",`));
    rejects(() => loadCheckpoint(path), /expected a file of at most 67108864 bytes/);
  });
});

describe('lockRunFolder', () => {
  test('a live holder is refused, by name; this process gets its own lock back; released, it goes', () => {
    const dir = fresh();
    const other = { pid: process.ppid, host: hostname(), command: 'bptt train lm --out x', started: 's', ticks: null };
    fs.writeFileSync(join(dir, LOCK_FILE), JSON.stringify(other));
    rejects(() => lockRunFolder(dir, 'another'),
      new RegExp(`expected no other run using it, got 'bptt train lm --out x' \\(pid ${process.ppid} `));
    fs.rmSync(join(dir, LOCK_FILE));
    const lock = lockRunFolder(dir, 'mine');
    assert.equal(lockRunFolder(dir, 'mine again'), lock);
    lock.release();
    assert.ok(!fs.existsSync(join(dir, LOCK_FILE)));
    lockRunFolder(dir, 'again').release();
  });

  test('a lock of another machine is refused with the way out', () => {
    const dir = fresh();
    const owner = { pid: 1, host: 'elsewhere', command: 'bptt', started: 's' };
    fs.writeFileSync(join(dir, LOCK_FILE), JSON.stringify(owner));
    rejects(() => lockRunFolder(dir, 'mine'), /if it is no longer running, delete .*\.bptt-lock\)$/);
  });

  test('a lock whose process is gone is taken over', () => {
    const dir = fresh();
    const pid = deadPid();
    const owner = { pid, host: hostname(), command: 'bptt train', started: 'x', ticks: null };
    fs.writeFileSync(join(dir, LOCK_FILE), JSON.stringify(owner));
    const lock = lockRunFolder(dir, 'mine');
    assert.equal(JSON.parse(fs.readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    lock.release();
  });

  test('an unreadable lock file is refused with a way out', () => {
    const dir = fresh();
    fs.writeFileSync(join(dir, LOCK_FILE), 'garbage');
    rejects(() => lockRunFolder(dir, 'mine'),
      /an unreadable \.bptt-lock \(if no bptt run is using the folder, delete the file\)/);
  });
});

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** Writes a checkpoint without the finiteness check (as a hand-edited or foreign file would be). */
function saveUnchecked(dir: string, c: CheckpointContent): string {
  const finite = new Map([...c.weights].map(([k, t]) =>
    [k, Tensor.from(Array.from(t.data, (x) => (Number.isFinite(x) ? x : 0)), t.shape)]));
  const path = saveCheckpoint(dir, 'last', { ...c, weights: finite });
  const m = JSON.parse(fs.readFileSync(path, 'utf8'));
  const file = join(dir, m.weights);
  const bytes = fs.readFileSync(file);
  const f32 = new Float32Array(bytes.buffer, bytes.byteOffset + bytes.length - 16, 4);
  f32.set(Float32Array.from(c.weights.get('w')!.data));
  fs.writeFileSync(file, bytes);
  m.sha256[m.weights] = createHash('sha256').update(bytes).digest('hex');
  fs.writeFileSync(path, JSON.stringify(m));
  return path;
}
