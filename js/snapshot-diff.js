'use strict';
// What grew between two heap snapshots, by constructor: the summary written beside the
// snapshots a heap leak takes (index.js, the `snapshot` option), so the user opens the right
// class in DevTools first. Runs in a child process of its own, never in the app:
//
//   node snapshot-diff.js <first.heapsnapshot> <second.heapsnapshot> <summary.txt>
//
// A snapshot is one JSON object, as large as the heap or more. It is read in chunks, never
// parsed whole: the node list is counted as it streams by (objects, closures and native
// objects by name: their count and self size; strings all together), and of the string table
// only the names those nodes use are kept. Memory: the distinct names, not the snapshot.

const fs = require('node:fs');
const { StringDecoder } = require('node:string_decoder');

const CHUNK = 1 << 20;
const COUNTED_TYPES = new Set(['object', 'closure', 'native']);
// Strings are named by their contents: counted together, as one row.
const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string']);
const STRINGS = -1; // the name index of that row
const ROWS = 15;

/** Counts of one snapshot: Map of "type\0name" -> {type, name, count, bytes}, and its node count. */
function countSnapshot(file) {
  const reader = chunks(file);
  const { meta, rest } = readHead(reader);
  const fields = meta.node_fields;
  const types = meta.node_types[fields.indexOf('type')];
  const at = { type: fields.indexOf('type'), name: fields.indexOf('name'), size: fields.indexOf('self_size') };
  const byName = new Map(); // "typeIndex:nameIndex" -> {type, nameIndex, count, bytes}
  let field = 0;
  const node = new Array(fields.length).fill(0);
  let pending = rest;
  let nodes = 0;
  // The node list: integers, fields.length per node, up to the closing bracket.
  outer: for (;;) {
    let number = '';
    for (let i = 0; i < pending.length; i++) {
      const c = pending.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        number += pending[i];
        continue;
      }
      if (number !== '') {
        node[field] = Number(number);
        number = '';
        if (++field === fields.length) {
          field = 0;
          nodes++;
          const type = types[node[at.type]];
          const strings = STRING_TYPES.has(type);
          if (strings || COUNTED_TYPES.has(type)) {
            const key = strings ? 'strings' : `${node[at.type]}:${node[at.name]}`;
            let row = byName.get(key);
            if (!row)
              byName.set(
                key,
                (row = {
                  type: strings ? 'string' : type,
                  nameIndex: strings ? STRINGS : node[at.name],
                  count: 0,
                  bytes: 0,
                })
              );
            row.count++;
            row.bytes += node[at.size];
          }
        }
      }
      if (c === 93) {
        // ']': the end of the node list
        pending = pending.slice(i + 1);
        break outer;
      }
    }
    const next = reader.next();
    if (next === null) throw new Error(`${file}: the node list does not end`);
    pending = number + next; // a number cut by the chunk boundary continues
  }
  const names = readStrings(reader, pending, new Set([...byName.values()].map((r) => r.nameIndex)), file);
  const counts = new Map();
  for (const row of byName.values()) {
    const name = row.nameIndex === STRINGS ? '(strings)' : (names.get(row.nameIndex) ?? '(unknown)');
    const key = `${row.type}\0${name}`;
    const sum = counts.get(key) ?? { type: row.type, name, count: 0, bytes: 0 };
    sum.count += row.count;
    sum.bytes += row.bytes;
    counts.set(key, sum);
  }
  reader.close();
  return { counts, nodes };
}

/** A file read in UTF-8 chunks: next() gives the next one, or null at the end. */
function chunks(file) {
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.alloc(CHUNK);
  const decoder = new StringDecoder('utf8');
  return {
    next() {
      const n = fs.readSync(fd, buffer, 0, CHUNK, null);
      return n === 0 ? null : decoder.write(buffer.subarray(0, n));
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

/** The snapshot's meta (everything before the node list) and the text after `"nodes":[`. */
function readHead(reader) {
  let text = '';
  for (;;) {
    const at = text.indexOf('"nodes":[');
    if (at >= 0) {
      const head = text.slice(0, at).replace(/,\s*$/, '');
      return { meta: JSON.parse(`${head}}`).snapshot.meta, rest: text.slice(at + '"nodes":['.length) };
    }
    const next = reader.next();
    if (next === null || text.length > 1 << 20) throw new Error('not a V8 heap snapshot: no node list');
    text += next;
  }
}

/** The strings at `wanted` indexes of the snapshot's string table, the last thing in the file. */
function readStrings(reader, pending, wanted, file) {
  const MARK = '"strings":[';
  let text = pending;
  let at;
  while ((at = text.indexOf(MARK)) < 0) {
    const next = reader.next();
    if (next === null) throw new Error(`${file}: no string table`);
    text = text.slice(-MARK.length) + next; // the mark may straddle two chunks
  }
  text = text.slice(at + MARK.length);
  const names = new Map();
  let index = 0;
  for (;;) {
    let i = 0;
    let consumed = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === ']') return names;
      if (c !== '"') {
        i++;
        consumed = i;
        continue;
      }
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) break; // the string goes on in the next chunk
      if (wanted.has(index)) names.set(index, JSON.parse(text.slice(i, j + 1)));
      index++;
      i = j + 1;
      consumed = i;
    }
    const next = reader.next();
    if (next === null) return names;
    text = text.slice(consumed) + next;
  }
}

/** The rows that grew from `a` to `b` by 1 % of the growth or more, largest growth of bytes first. */
function grown(a, b) {
  let rows = [];
  for (const [key, after] of b.counts) {
    const before = a.counts.get(key) ?? { count: 0, bytes: 0 };
    const count = after.count - before.count;
    const bytes = after.bytes - before.bytes;
    if (count > 0 && bytes > 0)
      rows.push({ type: after.type, name: after.name, count, bytes, before: before.count, after: after.count });
  }
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  rows = rows.filter((r) => r.bytes >= total / 100);
  return rows.sort((x, y) => y.bytes - x.bytes);
}

function summaryText(firstFile, secondFile, rows) {
  const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;
  const label = (r) =>
    r.type === 'closure' ? `${r.name || '(anonymous)'} (closure)` : r.type === 'native' ? `${r.name} (native)` : r.name;
  const lines = [
    'leakwatch: what grew between two heap snapshots of a leaking heap, by constructor (self size; objects, closures, native objects; strings as one row)',
    `first:  ${firstFile}`,
    `second: ${secondFile}`,
    '',
  ];
  if (rows.length === 0) lines.push('No constructor grew in count and size between the two.');
  const width = Math.max(0, ...rows.slice(0, ROWS).map((r) => label(r).length));
  for (const r of rows.slice(0, ROWS)) {
    lines.push(
      `  ${label(r).padEnd(width)}  +${r.count.toLocaleString('en-US')} objects (${r.before.toLocaleString('en-US')} -> ${r.after.toLocaleString('en-US')}), +${mb(r.bytes)}`
    );
  }
  lines.push(
    '',
    'Open the second snapshot in Chrome DevTools (Memory, Load), pick "Comparison" against the first,',
    'and start with the constructors above: their retainers show what keeps them.'
  );
  return `${lines.join('\n')}\n`;
}

/** Writes the summary of `second` against `first` to `out` (owner-only); returns its rows. */
function diffSnapshots(first, second, out) {
  const rows = grown(countSnapshot(first), countSnapshot(second));
  fs.writeFileSync(out, summaryText(first, second, rows), { mode: 0o600 });
  return rows;
}

if (require.main === module) {
  const [first, second, out] = process.argv.slice(2);
  try {
    const rows = diffSnapshots(first, second, out);
    // The parent reads this one line: the top rows, for its log line.
    process.stdout.write(`${JSON.stringify(rows.slice(0, 5))}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}

module.exports = { diffSnapshots, countSnapshot };
