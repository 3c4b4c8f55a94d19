package dockerfile.packages_test

import data.dockerfile.packages
import data.portcullis_lib.testing as t

test_good_dockerfile_passes if {
	count(packages.deny) == 0 with input as t.dockerfile
	count(packages.warn) == 0 with input as t.dockerfile
}

# DF-005
test_df_005_installs_without_upgrade if {
	list := t.staged([
		t.i("from", ["debian:12"]),
		t.i("run", ["apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*"]),
		t.i("user", ["10001"]),
	])
	r := packages.warn with input as list
	t.ids(r) == {"DF-005"}
}

test_df_005_upgrade_in_another_run_of_the_final_image if {
	list := t.staged([
		t.i("from", ["alpine:3.20", "AS", "base"]),
		t.i("run", ["apk upgrade --no-cache"]),
		t.i("from", ["base"]),
		t.i("run", ["apk add --no-cache curl"]),
	])
	count(packages.warn) == 0 with input as list
}

test_df_005_only_the_final_image_counts if {
	list := t.staged([
		t.i("from", ["debian:12", "AS", "build"]),
		t.i("run", ["apt-get update && apt-get install -y --no-install-recommends gcc"]),
		t.i("from", ["gcr.io/distroless/cc-debian12:1"]),
	])
	count(packages.warn) == 0 with input as list
}

test_df_005_dnf if {
	installs := t.staged([t.i("from", ["fedora:40"]), t.i("run", ["dnf install -y jq && dnf clean all"])])
	t.ids(packages.warn) == {"DF-005"} with input as installs
	upgrades := t.staged([t.i("from", ["fedora:40"]), t.i("run", ["dnf upgrade -y && dnf install -y jq && dnf clean all"])])
	count(packages.warn) == 0 with input as upgrades
}

# DF-013
test_df_013_recommends if {
	list := t.with_final([t.i("run", ["apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -y install curl && apt-get upgrade -y && rm -rf /var/lib/apt/lists/*"])])
	r := packages.warn with input as list
	t.msgs(r, "DF-013") == {"[DF-013] 'DEBIAN_FRONTEND=noninteractive apt-get -y install curl' installs recommended packages too; add --no-install-recommends"}
	t.ids(r) == {"DF-013"}
}

test_df_013_apt_option_passes if {
	list := t.with_final([t.i("run", ["apt-get update && apt-get upgrade -y && apt-get install -y -o APT::Install-Recommends=false curl && rm -rf /var/lib/apt/lists/*"])])
	count(packages.warn) == 0 with input as list
}

# DF-014
test_df_014_apk_cache if {
	list := t.with_final([t.i("run", ["apk upgrade --no-cache && apk add curl"])])
	r := packages.warn with input as list
	t.msgs(r, "DF-014") == {"[DF-014] 'apk add curl' leaves the package index in the image; add --no-cache"}
}

test_df_014_cache_mount_passes if {
	list := t.with_final([t.f("run", ["--mount=type=cache,target=/var/cache/apk"], ["apk upgrade && apk add curl"])])
	count(packages.warn) == 0 with input as list
}

test_df_014_no_cache_passes if {
	count(packages.warn) == 0 with input as t.with_final([t.i("run", ["apk upgrade --no-cache && apk add --no-cache curl"])])
}

# DF-020
test_df_020_update_alone if {
	r := packages.warn with input as t.with_final([t.i("run", ["apt-get update"])])
	t.msgs(r, "DF-020") == {"[DF-020] 'apt-get update' runs without an install in the same RUN, so a cached layer can serve a stale index; use RUN apt-get update && apt-get install -y ..."}
}

test_df_020_update_with_upgrade_passes if {
	count(packages.warn) == 0 with input as t.with_final([t.i("run", ["apt-get update && apt-get upgrade -y"])])
}

test_df_005_promoted_to_deny if {
	list := t.staged([t.i("from", ["debian:12"]), t.i("run", ["apt-get update && apt-get install -y --no-install-recommends curl"])])
	t.ids(packages.deny) == {"DF-005"} with input as list with data.portcullis.severity as {"DF-005": "deny"}
}

# DF-032
test_df_032_prompts if {
	list := t.with_final([t.i("run", ["apt-get update && apt-get upgrade -y && apt-get install --no-install-recommends curl && rm -rf /var/lib/apt/lists/*"])])
	t.msgs(packages.warn, "DF-032") == {"[DF-032] 'apt-get install --no-install-recommends curl' can stop at a confirmation prompt; add -y"} with input as list
	t.ids(packages.warn) == {"DF-005", "DF-032", "DF-035"} with input as t.with_final([t.i("run", ["dnf install jq"])])
	t.ids(packages.warn) == {"DF-005", "DF-032"} with input as t.with_final([t.i("run", ["microdnf install jq && microdnf clean all"])])
	t.msgs(packages.warn, "DF-032") == {"[DF-032] 'zypper install jq' can stop at a confirmation prompt; add -n (zypper -n install)"} with input as t.with_final([t.i("run", ["zypper install jq && zypper clean"])])
}

test_df_032_yes_flags_pass if {
	ok := [
		"apt-get update && apt-get upgrade -y && apt-get -qq install --no-install-recommends curl && rm -rf /var/lib/apt/lists/*",
		"apt-get update && apt-get upgrade -y && apt-get install -qy --no-install-recommends curl && rm -rf /var/lib/apt/lists/*",
		"apt-get update && apt-get upgrade -y && apt-get install --assume-yes --no-install-recommends curl && rm -rf /var/lib/apt/lists/*",
		"yum install --assumeyes jq && yum clean all",
		"zypper -n install jq && zypper clean",
		"zypper --non-interactive in jq && zypper cc -a",
	]
	every cmd in ok {
		count(t.msgs(packages.warn, "DF-032")) == 0 with input as t.with_final([t.i("run", [cmd])])
	}
}

# DF-033
test_df_033_apt_lists_kept if {
	list := t.staged([
		t.i("from", ["debian:12"]),
		t.i("run", ["apt-get update && apt-get upgrade -y && apt-get install -y --no-install-recommends curl"]),
	])
	t.msgs(packages.warn, "DF-033") == {"[DF-033] RUN installs apt packages but keeps /var/lib/apt/lists in the layer ('apt-get update && apt-get upgrade -y && apt-get install -y --no-install-recommends curl'); end it with && rm -rf /var/lib/apt/lists/*"} with input as list
}

test_df_033_build_stage_and_cache_mounts_pass if {
	build := t.staged([
		t.i("from", ["debian:12", "AS", "build"]),
		t.i("run", ["apt-get update && apt-get install -y --no-install-recommends gcc"]),
		t.i("from", ["gcr.io/distroless/cc-debian12:1"]),
	])
	count(packages.warn) == 0 with input as build
	cached := t.staged([
		t.i("from", ["debian:12"]),
		t.f("run", ["--mount=type=cache,target=/var/lib/apt,sharing=locked"], ["apt-get update && apt-get upgrade -y && apt-get install -y --no-install-recommends curl"]),
	])
	count(packages.warn) == 0 with input as cached
}

# DF-034
test_df_034_apt if {
	list := t.with_final([t.i("run", ["apt update && apt upgrade -y && apt install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*"])])
	r := packages.warn with input as list
	t.ids(r) == {"DF-034"}
	count(t.msgs(r, "DF-034")) == 3
}

# DF-035
test_df_035_yum_cache if {
	list := t.with_final([t.i("run", ["yum install -y httpd"])])
	t.msgs(packages.warn, "DF-035") == {"[DF-035] 'yum install -y httpd' leaves the yum cache in the layer; add && yum clean all in the same RUN"} with input as list
	t.msgs(packages.warn, "DF-035") == {"[DF-035] 'zypper -n in jq' leaves the zypper cache in the layer; add && zypper clean in the same RUN"} with input as t.with_final([t.i("run", ["zypper -n in jq"])])
}

test_df_035_cleaned_passes if {
	count(packages.warn) == 0 with input as t.with_final([t.i("run", ["dnf upgrade -y && dnf install -y jq && dnf clean all"])])
	count(packages.warn) == 0 with input as t.with_final([t.i("run", ["microdnf upgrade -y && microdnf install -y jq && rm -rf /var/cache/yum"])])
	count(packages.warn) == 0 with input as t.with_final([t.f("run", ["--mount=type=cache,target=/var/cache/dnf"], ["dnf upgrade -y && dnf install -y jq"])])
}

# DF-036, DF-037
test_df_036_pip_cache if {
	list := t.with_final([t.i("run", ["pip install flask==3.0.3"])])
	t.msgs(packages.warn, "DF-036") == {"[DF-036] 'pip install flask==3.0.3' keeps pip's cache in the layer; add --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1)"} with input as list
	count(packages.warn) == 0 with input as t.with_final([t.i("env", ["PIP_NO_CACHE_DIR", "1", "="]), t.i("run", ["python3 -m pip install flask==3.0.3"])])
}

test_df_037_pip_unpinned if {
	list := t.with_final([t.i("run", ["pip3 install --no-cache-dir -r requirements.txt flask requests>=2.31 ./local gunicorn==22.0.0 -i https://pypi.example/simple"])])
	t.msgs(packages.warn, "DF-037") == {"[DF-037] pip installs 'flask' without a version; pin it (flask==<version>) or use a requirements file with pinned versions"} with input as list
}

test_df_038_npm_unpinned if {
	list := t.with_final([t.i("run", ["npm install -g typescript @angular/cli@17.3.0 left-pad@1.3.0 @types/node"])])
	t.msgs(packages.warn, "DF-038") == {
		"[DF-038] npm installs 'typescript' without a version; pin it (typescript@<version>) or install from package-lock.json with npm ci",
		"[DF-038] npm installs '@types/node' without a version; pin it (@types/node@<version>) or install from package-lock.json with npm ci",
	} with input as list
	count(packages.warn) == 0 with input as t.with_final([t.i("run", ["npm ci --omit=dev && npm install && npm i ./vendor/pkg.tgz"])])
}

# DF-039
test_df_039_zypper_dist_upgrade if {
	list := t.with_final([t.i("run", ["zypper -n dup && zypper clean"])])
	t.msgs(packages.warn, "DF-039") == {"[DF-039] 'zypper -n dup' upgrades to a new distribution release during the build; use zypper patch or zypper update, and a newer base image for a new release"} with input as list
	count(packages.warn) == 0 with input as t.with_final([t.i("run", ["zypper -n patch && zypper clean"])])
}

test_df_032_repeated_quiet_passes if {
	count(t.msgs(packages.warn, "DF-032")) == 0 with input as t.with_final([t.i("run", ["apt-get install -q -q python"])])
	count(t.msgs(packages.warn, "DF-032")) == 0 with input as t.with_final([t.i("run", ["apt-get install --quiet --quiet python"])])
}

test_df_037_pins_constraints_and_vcs if {
	ok := [
		"pip install --no-cache-dir pykafka -c constraints.txt",
		"pip install --no-cache-dir --constraint=c.txt pykafka",
		"pip install --no-cache-dir foo/bar",
		"pip install --no-cache-dir --root-user-action ignore poetry==1.8.5",
		"pip install --no-cache-dir git+https://github.com/acme/x.git@v1.2#egg=x",
		"pip install --no-cache-dir x@git+https://example.com/x",
		"pip install --no-cache-dir https://example.com/archive/main",
	]
	every cmd in ok {
		count(t.msgs(packages.warn, "DF-037")) == 0 with input as t.with_final([t.i("run", [cmd])])
	}
	r := packages.warn with input as t.with_final([t.i("run", ["pip install --no-cache-dir git+https://github.com/acme/x.git#egg=x"])])
	t.ids(r) == {"DF-037"}
}

test_df_038_git_and_tarballs if {
	every cmd in ["npm install package-v1.2.3.tar", "npm install package-v1.2.3.tar.gz", "npm install git+https://github.com/npm/npm.git#v1.0.27", "npm install --loglevel verbose sax@0.1.1"] {
		count(packages.warn) == 0 with input as t.with_final([t.i("run", [cmd])])
	}
	t.ids(packages.warn) == {"DF-038"} with input as t.with_final([t.i("run", ["npm install git+ssh://git@github.com:npm/npm.git"])])
}

test_df_036_pip_no_cache_dir_variable if {
	every cmd in ["PIP_NO_CACHE_DIR=1 pip install flask==3.0.3", "export PIP_NO_CACHE_DIR=true && pip install flask==3.0.3"] {
		count(packages.warn) == 0 with input as t.with_final([t.i("run", [cmd])])
	}
	off := t.with_final([t.i("env", ["PIP_NO_CACHE_DIR", "off", "="]), t.i("run", ["pip install flask==3.0.3"])])
	t.ids(packages.warn) == {"DF-036"} with input as off
}

test_df_035_dnf_upgrade_downloads_too if {
	t.ids(packages.warn) == {"DF-035"} with input as t.with_final([t.i("run", ["dnf -y upgrade"])])
	t.ids(packages.warn) == {"DF-035"} with input as t.with_final([t.i("run", ["dnf -y reinstall jq"])])
}
