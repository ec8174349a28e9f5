#!/usr/bin/env python3
"""wal_pages.py DB WAL [SKIP]: the pages each transaction in a SQLite WAL wrote, by B-tree.

Reads the WAL file's frames (only those of its current generation, by salt),
groups them into committed transactions (a commit frame has a nonzero database
size), skips the first SKIP of them, and names each page's table or index with
dbstat on a copy of DB opened with the WAL beside it. DB and WAL are copies taken
while the store runs, e.g. with the writer stopped for the copy:

    store_bench --dir D --skip-history --skip-baseline --writer-cost 400000 --runs 1 &
    sleep 5; kill -STOP $!; cp D/writer.db w.db; cp D/writer.db-wal w.db-wal; kill -CONT $!
    python3 bench/wal_pages.py w.db w.db-wal 1

Each commit writes each page its transaction dirtied once, so the figures are the
pages a group-commit batch dirtied, per B-tree."""
import collections, shutil, sqlite3, struct, sys, tempfile, os

db, wal = sys.argv[1], sys.argv[2]
skip = int(sys.argv[3]) if len(sys.argv) > 3 else 0
data = open(wal, 'rb').read()
magic, ver, psize, seq, s1, s2, c1, c2 = struct.unpack('>8I', data[:32])
frames, commits, cur = 0, [], []
off = 32
while off + 24 + psize <= len(data):
    pg, ncommit, fs1, fs2 = struct.unpack('>4I', data[off:off + 16])
    if (fs1, fs2) != (s1, s2):
        break
    cur.append(pg)
    frames += 1
    if ncommit:
        commits.append(cur)
        cur = []
    off += 24 + psize
tmp = tempfile.mkdtemp()
shutil.copy(db, tmp + '/d.db')
shutil.copy(wal, tmp + '/d.db-wal')
c = sqlite3.connect(tmp + '/d.db')
owner = dict((p, n) for n, p in c.execute('SELECT name, pageno FROM dbstat'))
commits = commits[skip:]
per = collections.Counter()
for pages in commits:
    for p in set(pages):
        per[owner.get(p, '(free/other)')] += 1
n = len(commits)
print(f'page size {psize}; {n} commits; {sum(len(set(p)) for p in commits) / max(n, 1):.1f} pages per commit')
for name, k in per.most_common():
    print(f'  {name:28s} {k / max(n, 1):7.2f} pages per commit')
shutil.rmtree(tmp)
