local lib = import 'lib/lib.libsonnet';
local base = {
  name: 'base',
  replicas: 1,
  hidden:: 'h',
  nested: { a: 1, b: 2 },
  greeting: 'hello ' + self.name,
};
local Deploy(name, replicas=2) = base {
  name: name,
  replicas: replicas,
  nested+: { c: 3 },
  labels: lib.labels(name),
  port: lib.port,
  super_name: super.name,
};
{
  deployments: [Deploy('web'), Deploy('api', replicas=3)],
  fmt: 'port %d of %s (%05.2f) %-4s|' % [8080, 'x', 3.14159, 'ab'],
  named: '%(a)s-%(b)03d' % { a: 'x', b: 7 },
  comp: { [k]: std.length(k) for k in ['a', 'bb', 'ccc'] if k != 'bb' },
  arr: [x * y for x in [1, 2] for y in [10, 20]],
  text: |||
    line one
      indented
  |||,
  verbatim: @'C:\path',
  slice: [1, 2, 3, 4, 5][1:4],
  sslice: 'hello'[1:3],
  std_things: {
    join: std.join(',', ['a', 'b']),
    split: std.split('a/b/c', '/'),
    upper: std.asciiUpper('abc'),
    fields: std.objectFields({ b: 1, a: 2, h:: 3 }),
    range: std.range(1, 4),
    map: std.map(function(x) x + 1, [1, 2]),
    filter: std.filter(function(x) x > 1, [1, 2, 3]),
    foldl: std.foldl(function(a, b) a + b, [1, 2, 3], 0),
    sort: std.sort([3, 1, 2]),
    uniq: std.uniq([1, 1, 2]),
    str: std.toString({ a: 1, b: [1, 2] }),
    mp: std.mergePatch({ a: 1, b: { c: 2 } }, { b: { c: null, d: 3 } }),
    len: std.length('héllo'),
    tostr: std.toString(1.5) + std.toString(10),
    in_test: 'a' in { a: 1 },
    bits: (5 & 3) + (1 << 4),
    div: 7 / 2,
    mod: 7 % 3,
    cond: if 1 > 2 then 'yes' else 'no',
    cmp: [1, 2] < [1, 3],
    manifest: std.manifestJsonEx({ a: [1, { b: 2 }] }, '  '),
    parse: std.parseJson('{"x": [1, true, null]}'),
  },
  forced:: { visible::: 1 },
  obj_plus: { a: 1 } + { a+: 2, b: 3 },
  dollar: { inner: { ref: $.top } },
  top: 'T',
}
