package dockerfile.instructions_test

import data.dockerfile.instructions
import data.portcullis_lib.testing as t

test_good_dockerfile_passes if {
	count(instructions.deny) == 0 with input as t.dockerfile
	count(instructions.warn) == 0 with input as t.dockerfile
}

# DF-008
test_df_008_no_healthcheck if {
	list := t.staged([t.i("from", ["alpine:3.20"]), t.i("user", ["10001"])])
	r := instructions.warn with input as list
	t.msgs(r, "DF-008") == {"[DF-008] the final image has no HEALTHCHECK; add one, e.g. HEALTHCHECK CMD wget -qO- http://localhost:8080/healthz || exit 1"}
}

test_df_008_healthcheck_none if {
	r := instructions.warn with input as t.with_final([t.i("healthcheck", ["NONE"])])
	t.ids(r) == {"DF-008"}
}

test_df_008_healthcheck_in_build_stage_only if {
	list := t.staged([
		t.i("from", ["golang:1.22", "AS", "build"]),
		t.i("healthcheck", ["CMD", "true"]),
		t.i("from", ["alpine:3.20"]),
	])
	t.ids(instructions.warn) == {"DF-008"} with input as list
}

test_df_008_disabled_by_data if {
	r := instructions.warn with input as t.with_final([t.i("healthcheck", ["NONE"])]) with data.portcullis.disabled_rules as ["DF-008"]
	count(r) == 0
}

# DF-010
test_df_010_add_local_file if {
	r := instructions.warn with input as t.with_final([t.i("add", ["config.yaml", "app.jar", "/opt/"])])
	t.msgs(r, "DF-010") == {
		"[DF-010] ADD copies the local path 'config.yaml'; use COPY (ADD is for tar archives to extract or verified remote files)",
		"[DF-010] ADD copies the local path 'app.jar'; use COPY (ADD is for tar archives to extract or verified remote files)",
	}
}

test_df_010_archives_and_urls_pass if {
	count(instructions.warn) == 0 with input as t.with_final([t.i("add", ["rootfs.tar.xz", "/"])])
	count(instructions.warn) == 0 with input as t.with_final([t.i("add", ["https://example.com/x.bin", "/x"])])
}

# DF-016
test_df_016_maintainer if {
	r := instructions.warn with input as t.with_final([t.i("maintainer", ["Jane <jane@example.com>"])])
	t.msgs(r, "DF-016") == {`[DF-016] MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors="Jane <jane@example.com>"`}
}

test_df_016_label_passes if {
	count(instructions.warn) == 0 with input as t.with_final([t.i("label", ["org.opencontainers.image.authors=jane@example.com"])])
}

# DF-017
test_df_017_shell_form if {
	r := instructions.warn with input as t.with_final([t.i("cmd", ["node server.js"])])
	t.msgs(r, "DF-017") == {`[DF-017] CMD uses the shell form ('node server.js'); use the exec form, e.g. CMD ["executable", "arg"], so the process gets signals as PID 1`}
}

test_df_017_build_stage_ignored if {
	list := t.staged([
		t.i("from", ["golang:1.22", "AS", "build"]),
		t.i("cmd", ["go test ./..."]),
		t.i("from", ["alpine:3.20"]),
		t.i("user", ["10001"]),
		t.i("healthcheck", ["CMD", "true"]),
		t.j("entrypoint", ["/app"]),
	])
	count(instructions.warn) == 0 with input as list
}

# DF-018
test_df_018_relative_workdir if {
	r := instructions.warn with input as t.with_final([t.i("workdir", ["app"])])
	t.ids(r) == {"DF-018"}
}

test_df_018_absolute_and_variable_workdirs_pass if {
	count(instructions.warn) == 0 with input as t.with_final([t.i("workdir", ["/srv/app"])])
	count(instructions.warn) == 0 with input as t.with_final([t.i("workdir", ["$APP_HOME"])])
	count(instructions.warn) == 0 with input as t.with_final([t.i("workdir", ["C:\\app"])])
}

test_df_010_git_sources_are_remote if {
	count(instructions.warn) == 0 with input as t.with_final([t.i("add", ["git@github.com:acme/tools.git", "/opt/tools"])])
}

test_df_008_promoted_to_deny if {
	list := t.with_final([t.i("healthcheck", ["NONE"])])
	t.ids(instructions.deny) == {"DF-008"} with input as list with data.portcullis.severity as {"DF-008": "deny"}
	count(instructions.warn) == 0 with input as list with data.portcullis.severity as {"DF-008": "deny"}
}
