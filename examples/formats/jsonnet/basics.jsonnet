local x = 1;
{
  a: x + 1,
  b: 'str',
  c: [i * 2 for i in [1, 2]],
  d: std.length([1,2,3]),
  e:: 'hidden',
  f: self.e + '!',
  g: { h: 1 } + { i: 2 },
}
