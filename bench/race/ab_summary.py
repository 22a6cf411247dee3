#!/usr/bin/env python3
# Summarises the reports of bench/race/ab.sh: per query type the median over rounds
# of each run's median and p99, before and after. Usage: ab_summary.py OUT
import json,glob,sys,statistics
d=sys.argv[1]
res={}
for f in sorted(glob.glob(d+'/*.json')):
    name=f.split('/')[-1].split('-')[0]
    j=json.load(open(f))
    for q in j['queries']:
        res.setdefault(q['type'],{}).setdefault(name,[]).append((q['median_ms'],q['p99_ms'],q['wrong'],q['failed']))
    res.setdefault('_ingest',{}).setdefault(name,[]).append((j['values_per_second'],j['peak_rss_bytes']/2**20,0,0))
print('| query type | before median ms | after median ms | after ÷ before | before p99 ms | after p99 ms | wrong |')
print('|---|---:|---:|---:|---:|---:|---:|')
for t,v in res.items():
    if t=='_ingest': continue
    b=v.get('before',[]); n=v.get('after',[])
    if not b or not n: continue
    bm=statistics.median([x[0] for x in b]); nm=statistics.median([x[0] for x in n])
    bp=statistics.median([x[1] for x in b]); np_=statistics.median([x[1] for x in n])
    w=sum(x[2]+x[3] for x in b+n)
    print(f'| {t} | {bm:.2f} | {nm:.2f} | {nm/bm:.2f} | {bp:.1f} | {np_:.1f} | {w} |')
for k,v in res['_ingest'].items():
    print(k, 'values/s', [round(x[0]) for x in v], 'peak RSS MiB', [round(x[1]) for x in v])
