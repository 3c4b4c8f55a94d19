/* block comment
   spanning */
locals {
  a = "x${1}y${true}z"
  b = "${~ "  spaced  " ~}"
  c = "a  ${~ x ~}  b"
  d = "%{ for k, v in m ~} ${k}=${v} %{~ endfor }"
  e = "%{if a}${b}%{endif}"
  f = "%{if a}x%{else}%{if b}y%{endif}%{endif}"
  g = "${a ? b : c}"
  h = "n${a ? b : "lit"}"
  i = a.0.b
  j = a[*].b[0]
  k = a.*.b
  l = [for x in y : x]
  m = {for k, v in y : k => v...}
  n = f(a...)
  o = provider::aws::arn_parse(x)
  p = a == b
  q = a != b && c >= d || e <= f
  r = -a.b
  s = !(a)
  t = [
    1,
    2,
  ]
  u = {
    a = 1
    b = 2,
    "c" = 3
  }
  v = <<-EOT
      x ${y}
        z
    EOT
  w = <<EOT
${a}
EOT
  x = <<EOT
  %{ for i in l }${i}
  %{ endfor }
EOT
  y = 1.5e-3
  z = "\u00e9\U0001F600\t"
  aa = -0
  ab = [for s in var.list : upper(s)
    if s != ""]
  ac = (
    1 +
    2
  )
  ad = { a = { b = [ { c = "d" } ] } }
  ae = null
  af = "%%{literal} $${literal}"
  ag = "${"${x}"}"
  ah = "${"a"}b"
  ai = 007
}
block "a" "b" { x = 1 }
block "a" "c" { x = 2 }
block "a" "b" { x = 3 }
nolabel {}
nolabel {
  nested "x" {}
}
