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
		t.i("run", ["apt-get update && apt-get install -y --no-install-recommends curl"]),
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
	installs := t.staged([t.i("from", ["fedora:40"]), t.i("run", ["dnf install -y jq"])])
	t.ids(packages.warn) == {"DF-005"} with input as installs
	upgrades := t.staged([t.i("from", ["fedora:40"]), t.i("run", ["dnf upgrade -y && dnf install -y jq"])])
	count(packages.warn) == 0 with input as upgrades
}

# DF-013
test_df_013_recommends if {
	list := t.with_final([t.i("run", ["apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -y install curl && apt-get upgrade -y"])])
	r := packages.warn with input as list
	t.msgs(r, "DF-013") == {"[DF-013] 'DEBIAN_FRONTEND=noninteractive apt-get -y install curl' installs recommended packages too; add --no-install-recommends"}
	t.ids(r) == {"DF-013"}
}

test_df_013_apt_option_passes if {
	list := t.with_final([t.i("run", ["apt-get update && apt-get upgrade -y && apt-get install -y -o APT::Install-Recommends=false curl"])])
	count(packages.warn) == 0 with input as list
}

# DF-014
test_df_014_apk_cache if {
	list := t.with_final([t.i("run", ["apk upgrade --no-cache && apk add curl"])])
	r := packages.warn with input as list
	t.msgs(r, "DF-014") == {"[DF-014] 'apk add curl' leaves the package index in the image; add --no-cache"}
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
