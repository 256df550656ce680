import sys,re
def load(p):
    s=open(p).read().split('\n'); out=set()
    for i,l in enumerate(s):
        if l.startswith(('MISS','FA')): out.add((l.split(' ')[0], l.split(' ')[1], s[i+1]))
    return out
a,b=load(sys.argv[1]),load(sys.argv[2])
print('fixed:',len(a-b)); 
for x in sorted(a-b): print('  +',x[0],x[1],x[2][:150])
print('new problems:',len(b-a))
for x in sorted(b-a): print('  -',x[0],x[1],x[2][:200])
