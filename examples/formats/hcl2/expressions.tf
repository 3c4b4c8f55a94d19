a = "pre-${x ? "a" : "b"}"
b = "${x ? "a" : "b"}"
c = "%{if x}yes%{else}no%{endif}"
d = "%{for i in l}${i},%{endfor}"
e = "$${x} and %%{y}"
f = "$${x} ${y}"
g = (1)
h = [1, var.x, [2, {a = b}]]
i = { (var.k) = 1, "s" = 2, t: 3, 4 = 5, "${k}x" = 6 }
j = -var.x
k = !true
l = "\u00e9 \t"
m = <<EOT
  $${not} ${interp}
EOT
n = 0.1
o = 1.0
q = "a" # trailing comment
r = tomap({a = 1})
s = x.y.z
t = true && false
u = "${1}"
v = "a${"b"}c"
w = "${~ x ~}"
y = !x
z = -1.5
