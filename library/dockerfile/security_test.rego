package dockerfile.security_test

import data.dockerfile.security
import data.portcullis_lib.testing as t

test_good_dockerfile_passes if {
	count(security.deny) == 0 with input as t.dockerfile
	count(security.warn) == 0 with input as t.dockerfile
}

# DF-004
test_df_004_no_user if {
	list := t.staged([t.i("from", ["python:3.12-slim"]), t.j("cmd", ["python", "app.py"])])
	r := security.deny with input as list
	t.msgs(r, "DF-004") == {"[DF-004] the final stage sets no USER and runs as root; add USER with a non-root user (e.g. USER 10001:10001) after the last FROM"}
}

test_df_004_user_only_in_build_stage if {
	list := t.staged([
		t.i("from", ["golang:1.22", "AS", "build"]),
		t.i("user", ["10001"]),
		t.i("from", ["gcr.io/distroless/static-debian12:1"]),
	])
	t.ids(security.deny) == {"DF-004"} with input as list
}

test_df_004_root_user if {
	r := security.deny with input as t.with_final([t.i("user", ["0:0"])])
	t.msgs(r, "DF-004") == {"[DF-004] the final stage runs as '0:0'; switch to a non-root user (e.g. USER 10001:10001) as the last USER instruction"}
}

test_df_004_user_inherited_from_stage if {
	list := t.staged([
		t.i("from", ["debian:12", "AS", "base"]),
		t.i("user", ["app"]),
		t.i("from", ["base"]),
		t.j("cmd", ["/app"]),
	])
	count(security.deny) == 0 with input as list
}

# DF-006
test_df_006_secret_env if {
	r := security.deny with input as t.with_final([t.i("env", ["APP_ENV", "prod", "=", "DB_PASSWORD", "x", "="])])
	t.msgs(r, "DF-006") == {"[DF-006] ENV DB_PASSWORD looks like a secret and would be stored in the image; provide it at run time (orchestrator secret or environment) instead"}
	t.ids(r) == {"DF-006"}
}

test_df_006_values_are_not_names if {
	count(security.deny) == 0 with input as t.with_final([t.i("env", ["HINT", "PASSWORD", ""])])
}

test_df_006_allowed_secret_names_from_data if {
	list := t.with_final([t.i("env", ["GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D", "="])])
	t.ids(security.deny) == {"DF-006"} with input as list
	count(security.deny) == 0 with input as list with data.portcullis.allowed_secret_names as ["GPG_KEY"]
}

# DF-007
test_df_007_secret_arg if {
	r := security.deny with input as t.with_final([t.i("arg", ["NPM_TOKEN"])])
	t.msgs(r, "DF-007") == {"[DF-007] ARG NPM_TOKEN looks like a secret and would be recorded in the image history; use a build secret (RUN --mount=type=secret,id=npm_token) instead"}
}

test_df_007_ordinary_arg_passes if {
	count(security.deny) == 0 with input as t.with_final([t.i("arg", ["VERSION=1.0"])])
}

# DF-009
test_df_009_remote_add if {
	r := security.deny with input as t.with_final([t.i("add", ["https://example.com/tool.tar.gz", "/opt/"])])
	t.msgs(r, "DF-009") == {"[DF-009] ADD downloads 'https://example.com/tool.tar.gz' without verifying it; add --checksum=sha256:<digest>, or download it in a RUN step that checks a checksum or signature"}
}

test_df_009_git_add if {
	t.ids(security.deny) == {"DF-009"} with input as t.with_final([t.i("add", ["git@github.com:acme/repo.git", "/src"])])
}

test_df_009_checksum_passes if {
	list := t.with_final([t.f("add", ["--checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d"], ["https://example.com/tool.tar.gz", "/opt/"])])
	count(security.deny) == 0 with input as list
}

# DF-011
test_df_011_sudo if {
	r := security.deny with input as t.with_final([t.i("run", ["sudo apt-get install -y curl"])])
	t.msgs(r, "DF-011") == {"[DF-011] RUN uses sudo ('sudo apt-get install -y curl'); run the step as root before the final USER instead — sudo in an image is an escalation path"}
}

test_df_011_installing_sudo_package_is_not_running_it if {
	count(security.deny) == 0 with input as t.with_final([t.i("run", ["apk add --no-cache sudo"])])
	count(security.deny) == 0 with input as t.with_final([t.i("run", ["echo pseudo"])])
}

# DF-012
test_df_012_curl_pipe_bash if {
	r := security.deny with input as t.with_final([t.i("run", ["curl -fsSL https://get.example.com | sudo -E bash -"])])
	"DF-012" in t.ids(r)
	t.ids(security.deny) == {"DF-012"} with input as t.with_final([t.i("run", ["wget -qO- https://x.sh | sh"])])
	t.ids(security.deny) == {"DF-012"} with input as t.with_final([t.i("run", [`sh -c "$(curl -fsSL https://x.sh)"`])])
}

test_df_012_download_then_verify_passes if {
	list := t.with_final([t.i("run", ["curl -fsSLo /tmp/i.sh https://x.sh && echo \"abc  /tmp/i.sh\" | sha256sum -c - && sh /tmp/i.sh"])])
	count(security.deny) == 0 with input as list
}

# DF-015
test_df_015_expose_ssh if {
	t.ids(security.deny) == {"DF-015"} with input as t.with_final([t.i("expose", ["8080", "22/tcp"])])
}

test_df_015_other_ports_pass if {
	count(security.deny) == 0 with input as t.with_final([t.i("expose", ["2222", "220"])])
}

# DF-019
test_df_019_chmod_777 if {
	r := security.deny with input as t.with_final([t.i("run", ["mkdir /data && chmod -R 0777 /data"])])
	t.msgs(r, "DF-019") == {"[DF-019] RUN makes files world-writable ('chmod -R 0777 /data'); grant only what is needed (e.g. chown to the runtime user, chmod 755/644)"}
	t.ids(security.deny) == {"DF-019"} with input as t.with_final([t.i("run", ["chmod a+rwx /data"])])
}

test_df_019_restrictive_modes_pass if {
	count(security.deny) == 0 with input as t.with_final([t.i("run", ["chmod 755 /app && chmod 1777 /tmp2"])])
}

test_df_004_demoted_to_warn if {
	list := t.with_final([t.i("user", ["root"])])
	t.ids(security.warn) == {"DF-004"} with input as list with data.portcullis.severity as {"DF-004": "warn"}
}

# DF-040
test_df_040_useradd_long_uid if {
	r := security.warn with input as t.with_final([t.i("run", ["useradd -u 1000000 app"])])
	t.msgs(r, "DF-040") == {"[DF-040] 'useradd -u 1000000 app' creates a user with a long UID without -l, which grows /var/log/lastlog and /var/log/faillog to gigabytes; add -l (--no-log-init)"}
	t.ids(security.warn) == {"DF-040"} with input as t.with_final([t.i("run", ["useradd --uid=123456 app"])])
}

test_df_040_short_uid_or_l_passes if {
	every cmd in ["useradd -u 10001 app", "useradd -l -u 1000000 app", "useradd --no-log-init --uid 1000000 app", "useradd -lu 1000000 app"] {
		count(security.warn) == 0 with input as t.with_final([t.i("run", [cmd])])
	}
}

# DF-041
test_df_041_tls_off_in_run if {
	cmds := [
		"curl -k https://x/a -o /a",
		"curl -fsSLk https://x/a -o /a",
		"wget --no-check-certificate https://x/a",
		"pip install --no-cache-dir --trusted-host pypi.example flask==3.0.3",
		"npm config set strict-ssl false",
		"git config --global http.sslVerify false",
		"apk add --no-cache --allow-untrusted /tmp/x.apk",
		"apt-get install -y --allow-unauthenticated x",
		"dnf install -y --nogpgcheck x",
		"rpm -i --nosignature x.rpm",
		"NODE_TLS_REJECT_UNAUTHORIZED=0 npm ci",
	]
	every cmd in cmds {
		"DF-041" in t.ids(security.deny) with input as t.with_final([t.i("run", [cmd])])
	}
	count(security.deny) == 0 with input as t.with_final([t.i("run", ["curl -fsSL https://x/a -o /a"])])
}

test_df_041_tls_off_in_env if {
	list := t.with_final([t.i("env", ["NODE_TLS_REJECT_UNAUTHORIZED", "0", "=", "GIT_SSL_NO_VERIFY", "\"true\"", "=", "PYTHONHTTPSVERIFY", "1", "="])])
	t.msgs(security.deny, "DF-041") == {
		"[DF-041] ENV NODE_TLS_REJECT_UNAUTHORIZED=0 switches off TLS verification for every process in the image; remove it and fix the trust store",
		"[DF-041] ENV GIT_SSL_NO_VERIFY=\"true\" switches off TLS verification for every process in the image; remove it and fix the trust store",
	} with input as list
}

# DF-042
test_df_042_credential_values if {
	list := t.with_final([
		t.i("env", ["AWS_ID", "AKIAIOSFODNN7EXAMPLE", "=", "HOME_DIR", "/home/app", "="]),
		t.i("arg", ["GH=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"]),
	])
	t.msgs(security.deny, "DF-042") == {
		"[DF-042] ENV AWS_ID holds a value shaped like a credential; remove it, rotate the credential, and pass it at run time or as a build secret",
		"[DF-042] ARG GH holds a value shaped like a credential; remove it, rotate the credential, and pass it at run time or as a build secret",
	} with input as list
	count(security.deny) == 0 with input as t.with_final([t.i("arg", ["VERSION=1.2.3"]), t.i("env", ["APP", "glpat-short", "="])])
}

# DF-043
test_df_043_chpasswd if {
	r := security.deny with input as t.with_final([t.i("run", ["echo 'root:toor' | chpasswd"])])
	t.msgs(r, "DF-043") == {"[DF-043] RUN sets a password with chpasswd ('echo 'root:toor' | chpasswd'); the password stays in the image history — use no password login and a non-root USER"}
}

# DF-044
test_df_044_chown_after_copy if {
	list := t.with_final([t.i("copy", ["dist/", "/srv/app/"]), t.i("run", ["chown -R 10001:10001 /srv/app/static"])])
	t.msgs(security.warn, "DF-044") == {"[DF-044] RUN 'chown -R 10001:10001 /srv/app/static' changes the owner of files COPY/ADD just wrote, which stores them twice; use COPY --chown=<user>:<group> instead"} with input as list
	t.ids(security.warn) == {"DF-044"} with input as t.with_final([t.i("add", ["app.tar.gz", "/srv/app"]), t.i("run", ["chown app /srv/app/"])])
}

test_df_044_other_paths_and_copy_chown_pass if {
	count(security.warn) == 0 with input as t.with_final([t.i("copy", ["dist/", "/srv/app/"]), t.i("run", ["mkdir /data && chown 10001 /data"])])
	count(security.warn) == 0 with input as t.with_final([t.f("copy", ["--chown=10001:10001"], ["dist/", "/srv/app/"]), t.i("run", ["chown 10001 /srv/app"])])
	count(security.warn) == 0 with input as t.with_final([t.i("run", ["chown 10001 /srv/app"]), t.i("copy", ["dist/", "/srv/app/"])])
}
