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
	t.ids(r) == {"DF-008", "DF-021"}
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
	r := instructions.warn with input as t.with_final([t.i("healthcheck", ["NONE"])]) with data.portcullis.disabled_rules as ["DF-008", "DF-021"]
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
	t.ids(instructions.warn) == {"DF-021"} with input as list with data.portcullis.severity as {"DF-008": "deny"}
}

# DF-021, DF-022, DF-023
test_df_021_two_healthchecks if {
	r := instructions.warn with input as t.with_final([t.i("healthcheck", ["CMD", "true"])])
	t.msgs(r, "DF-021") == {"[DF-021] stage 1 has more than one HEALTHCHECK; only the last one takes effect, keep a single HEALTHCHECK"}
	t.ids(r) == {"DF-021"}
}

test_df_022_two_cmds if {
	list := t.with_final([t.j("cmd", ["--serve"]), t.j("cmd", ["--debug"])])
	t.ids(instructions.warn) == {"DF-022"} with input as list
}

test_df_022_one_cmd_per_stage_passes if {
	list := t.staged([
		t.i("from", ["golang:1.22", "AS", "build"]),
		t.j("cmd", ["go", "test"]),
		t.i("from", ["alpine:3.20"]),
		t.i("healthcheck", ["CMD", "true"]),
		t.j("cmd", ["/app"]),
	])
	count(instructions.warn) == 0 with input as list
}

test_df_023_two_entrypoints if {
	r := instructions.warn with input as t.with_final([t.j("entrypoint", ["/bin/sh"])])
	t.msgs(r, "DF-023") == {"[DF-023] stage 1 has more than one ENTRYPOINT; only the last one takes effect, keep a single ENTRYPOINT"}
}

# DF-024, DF-025
test_df_024_unknown_stage if {
	r := instructions.deny with input as t.with_final([t.f("copy", ["--from=builder"], ["/out", "/out"])])
	t.msgs(r, "DF-024") == {"[DF-024] COPY --from=builder does not name an earlier stage; define FROM <image> AS builder before it, or use an image reference (name:tag)"}
}

test_df_024_stage_defined_later if {
	list := t.staged([
		t.i("from", ["alpine:3.20"]),
		t.f("copy", ["--from=build"], ["/out", "/out"]),
		t.i("from", ["golang:1.22", "AS", "build"]),
	])
	t.ids(instructions.deny) == {"DF-024"} with input as list
}

test_df_024_index_images_and_aliases_pass if {
	ok := t.with_final([
		t.f("copy", ["--from=0"], ["/out", "/out"]),
		t.f("copy", ["--from=BUILD"], ["/out", "/out"]),
		t.f("copy", ["--from=nginx:1.27"], ["/etc/nginx", "/etc/nginx"]),
		t.f("copy", ["--from=ghcr.io/acme/tools"], ["/bin/x", "/bin/x"]),
		t.f("copy", ["--from=${STAGE}"], ["/x", "/x"]),
	])
	count(instructions.deny) == 0 with input as ok
	t.ids(instructions.deny) == {"DF-024"} with input as t.with_final([t.f("copy", ["--from=1"], ["/x", "/x"])])
}

test_df_025_copy_from_itself if {
	list := t.staged([t.i("from", ["alpine:3.20", "AS", "app"]), t.f("copy", ["--from=app"], ["/a", "/b"])])
	r := instructions.deny with input as list
	t.msgs(r, "DF-025") == {"[DF-025] COPY --from=app copies from the stage it is in; copy from an earlier stage or use a plain COPY"}
	t.ids(r) == {"DF-025"}
}

# DF-026
test_df_026_duplicate_alias if {
	list := t.staged([
		t.i("from", ["golang:1.22", "AS", "build"]),
		t.i("from", ["node:20", "as", "Build"]),
		t.i("from", ["alpine:3.20"]),
	])
	t.msgs(instructions.deny, "DF-026") == {"[DF-026] stage alias 'build' is defined more than once; give every FROM ... AS a unique name"} with input as list
}

# DF-027
test_df_027_invalid_ports if {
	list := t.with_final([t.i("expose", ["8080", "80/tcp", "8000-8010/udp", "${PORT}", "70000", "80/http", "abc"])])
	t.msgs(instructions.deny, "DF-027") == {
		"[DF-027] EXPOSE 70000 is not a valid port; use a number from 0 to 65535, optionally /tcp or /udp",
		"[DF-027] EXPOSE 80/http is not a valid port; use a number from 0 to 65535, optionally /tcp or /udp",
		"[DF-027] EXPOSE abc is not a valid port; use a number from 0 to 65535, optionally /tcp or /udp",
	} with input as list
}

# DF-028
test_df_028_several_sources_need_a_directory if {
	r := instructions.deny with input as t.with_final([t.i("copy", ["a.txt", "b.txt", "/opt/app"])])
	t.msgs(r, "DF-028") == {"[DF-028] COPY copies 2 sources into '/opt/app'; a destination for several sources must be a directory ending in /"}
	count(instructions.deny) == 0 with input as t.with_final([t.i("copy", ["a.txt", "b.txt", "/opt/app/"])])
	count(instructions.deny) == 0 with input as t.with_final([t.i("copy", ["a.txt", "b.txt", "$DEST"])])
}

# DF-029
test_df_029_cd_in_run if {
	r := instructions.warn with input as t.with_final([t.i("run", ["cd /usr/src/app && make install"])])
	t.msgs(r, "DF-029") == {"[DF-029] RUN changes directory with 'cd /usr/src/app'; use WORKDIR to set the directory of later instructions"}
	count(instructions.warn) == 0 with input as t.with_final([t.i("run", ["make -C /usr/src/app install"])])
}

# DF-030
test_df_030_pipe_without_pipefail if {
	r := instructions.warn with input as t.with_final([t.i("run", ["wget -qO- https://example.com/key.asc | gpg --dearmor > /k.gpg"])])
	t.ids(r) == {"DF-030"}
}

test_df_030_pipefail_passes if {
	count(instructions.warn) == 0 with input as t.with_final([t.i("run", ["set -o pipefail && wget -qO- https://x | gpg --dearmor > /k.gpg"])])
	count(instructions.warn) == 0 with input as t.with_final([t.i("run", ["set -eux -o pipefail; a | b"])])
	count(instructions.warn) == 0 with input as t.with_final([t.i("run", ["test -f /x || touch /x"])])
	count(instructions.warn) == 0 with input as t.with_final([t.j("shell", ["/bin/bash", "-o", "pipefail", "-c"]), t.i("run", ["a | b"])])
	count(instructions.warn) == 0 with input as t.with_final([t.j("shell", ["pwsh", "-Command"]), t.i("run", ["Get-Item x | Select y"])])
	t.ids(instructions.warn) == {"DF-030"} with input as t.with_final([t.j("shell", ["/bin/bash", "-c"]), t.i("run", ["a | b"])])
}

# DF-031
test_df_031_wget_and_curl if {
	list := t.with_final([t.i("run", ["curl -fsSLo /a https://x/a"]), t.i("run", ["wget -q https://x/b"])])
	t.msgs(instructions.warn, "DF-031") == {"[DF-031] the image uses both wget and curl; use one download tool"} with input as list
	count(instructions.warn) == 0 with input as t.with_final([t.i("run", ["curl -fsSLo /a https://x/a && curl -fsSLo /b https://x/b"])])
}

test_df_018_quoted_absolute_workdirs_pass if {
	count(instructions.warn) == 0 with input as t.with_final([t.i("workdir", [`"/usr/local"`])])
	count(instructions.warn) == 0 with input as t.with_final([t.i("workdir", [`'C:\'`])])
	t.ids(instructions.warn) == {"DF-018"} with input as t.with_final([t.i("workdir", [`"app"`])])
}

test_df_010_compressed_and_quoted_sources if {
	count(instructions.warn) == 0 with input as t.with_final([t.i("add", ["file.gz", "/usr/src/app/"])])
	count(instructions.warn) == 0 with input as t.with_final([t.i("add", [`"file.tgz"`, "/usr/src/app/"])])
	t.ids(instructions.warn) == {"DF-010"} with input as t.with_final([t.i("add", [`"file.txt"`, "/usr/src/app/"])])
}

test_df_028_quoted_directory_passes if {
	count(instructions.deny) == 0 with input as t.with_final([t.i("copy", ["foo", "bar", `"baz/"`])])
}
