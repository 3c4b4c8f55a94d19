// The playground's examples, after the project's seeds: the ImageReview policy of
// examples/image-policy (eval), a change-window check with time zones (eval), required labels as
// a Gatekeeper ConstraintTemplate (gatekeeper) and golden base images for Dockerfiles (conftest).
// test/playground checks that each gives in the page what the portcullis command gives.

import type { State } from "./api.ts";

export interface Example {
  id: string;
  title: string;
  state: State;
}

export const EXAMPLES: readonly Example[] = [
  {
    "id": "image-policy",
    "title": "Image policy (ImageReview)",
    "state": {
      "mode": "eval",
      "policy": "# The image policy of Kubernetes' ImagePolicyWebhook admission plugin, served by\n# `portcullis run --server` (or `opa run --server`): the API server POSTs an ImageReview to\n# /v0/data/io/k8s/image_policy/verify and reads back the document `verify` \u2014 an ImageReview\n# whose status says whether the Pod's images are allowed, and why not.\n#\n# Rules: every image names a tag or a digest, and not `:latest`; each namespace pulls only from\n# its approved registries (data.image_policy.registries, \"*\" for the namespaces without their own\n# list); an image with a critical vulnerability (data.image_policy.vulnerabilities, pushed by a\n# scanner through PUT /v1/data/image_policy/vulnerabilities) is refused.\npackage io.k8s.image_policy\n\nverify := {\n\t\"apiVersion\": \"imagepolicy.k8s.io/v1alpha1\",\n\t\"kind\": \"ImageReview\",\n\t\"status\": status,\n}\n\nstatus := {\"allowed\": true} if count(deny) == 0\n\nstatus := {\"allowed\": false, \"reason\": concat(\"; \", sort(deny))} if count(deny) > 0\n\nnamespace := object.get(input, [\"spec\", \"namespace\"], \"\")\n\nimages contains c.image if some c in input.spec.containers\n\n# The image reference without its digest, then split into repository and tag.\nname_part(image) := split(image, \"@\")[0]\n\nhas_digest(image) if contains(image, \"@sha256:\")\n\n# The tag is what follows the last \":\" after the last \"/\" (a registry port is not a tag).\ntag(image) := t if {\n\tparts := split(name_part(image), \"/\")\n\tlast := parts[count(parts) - 1]\n\tcontains(last, \":\")\n\tsegs := split(last, \":\")\n\tt := segs[count(segs) - 1]\n}\n\nregistry(image) := r if {\n\tparts := split(name_part(image), \"/\")\n\tcount(parts) > 1\n\tfirst := parts[0]\n\tregex.match(`[.:]|^localhost$`, first)\n\tr := first\n} else := \"docker.io\"\n\napproved_registries := data.image_policy.registries[namespace] if {\n\tdata.image_policy.registries[namespace]\n} else := object.get(data.image_policy.registries, \"*\", [])\n\n# A review without a list of containers is malformed: refuse it rather than allow nothing-to-check.\ndeny contains \"malformed ImageReview: spec.containers is not a list\" if not has_containers\n\nhas_containers if is_array(input.spec.containers)\n\ndeny contains sprintf(\"%s: the :latest tag is not allowed\", [image]) if {\n\tsome image in images\n\ttag(image) == \"latest\"\n}\n\ndeny contains sprintf(\"%s: name a tag or a digest\", [image]) if {\n\tsome image in images\n\tnot tag(image)\n\tnot has_digest(image)\n}\n\ndeny contains sprintf(\"%s: registry %s is not approved for namespace %q\", [image, registry(image), namespace]) if {\n\tsome image in images\n\tnot registry(image) in approved_registries\n}\n\ndeny contains sprintf(\"%s: critical vulnerability %s\", [image, v.id]) if {\n\tsome image in images\n\tsome v in data.image_policy.vulnerabilities[name_part(image)]\n\tv.severity == \"critical\"\n}\n",
      "input": "{\n  \"apiVersion\": \"imagepolicy.k8s.io/v1alpha1\",\n  \"kind\": \"ImageReview\",\n  \"spec\": {\n    \"containers\": [{\"image\": \"nginx:latest\"}, {\"image\": \"registry.example.com/shop/cart:1.4.2\"}, {\"image\": \"ghcr.io/acme/tool:2.0\"}, {\"image\": \"registry.example.com:5000/shop/untagged\"}],\n    \"annotations\": {\"mycluster.image-policy.k8s.io/ticket-1234\": \"break-glass\"},\n    \"namespace\": \"shop\"\n  }\n}\n",
      "format": "auto",
      "filename": "input.json",
      "data": "{\n  \"image_policy\": {\n    \"registries\": {\n      \"*\": [\"registry.example.com\"],\n      \"payments\": [\"registry.example.com\", \"ghcr.io\"],\n      \"kube-system\": [\"registry.k8s.io\", \"registry.example.com\"]\n    },\n    \"vulnerabilities\": {\n      \"registry.example.com/shop/cart:1.4.2\": [\n        {\"id\": \"CVE-2024-0001\", \"severity\": \"critical\"},\n        {\"id\": \"CVE-2024-0002\", \"severity\": \"low\"}\n      ],\n      \"registry.example.com/shop/cart:1.4.3\": [\n        {\"id\": \"CVE-2024-0002\", \"severity\": \"low\"}\n      ]\n    }\n  }\n}\n",
      "query": "data.io.k8s.image_policy.verify"
    }
  },
  {
    "id": "time-window",
    "title": "Time-window check (change window)",
    "state": {
      "mode": "eval",
      "policy": "# A change window: deployments are allowed on working days between 08:00 and 18:00 in the\n# team's time zone, and never during a freeze. The request time comes with the input, so the\n# answer does not depend on when the policy is evaluated.\npackage deploy.window\n\ndefault allow := false\n\nallow if {\n\tin_window\n\tnot frozen\n}\n\nzone := object.get(data.window, \"zone\", \"UTC\")\n\nt := time.parse_rfc3339_ns(input.request.time)\n\nin_window if {\n\ttime.weekday([t, zone]) in data.window.days\n\t[hour, _, _] := time.clock([t, zone])\n\thour >= data.window.start_hour\n\thour < data.window.end_hour\n}\n\nfrozen if {\n\tsome f in data.window.freezes\n\tt >= time.parse_rfc3339_ns(f.from)\n\tt < time.parse_rfc3339_ns(f.until)\n}\n\nreasons contains sprintf(\"%s is outside the change window (%s %02d:00-%02d:00, %s)\", [input.request.time, concat(\"/\", data.window.days), data.window.start_hour, data.window.end_hour, zone]) if not in_window\n\nreasons contains sprintf(\"%s falls in the freeze %q\", [input.request.time, f.name]) if {\n\tsome f in data.window.freezes\n\tt >= time.parse_rfc3339_ns(f.from)\n\tt < time.parse_rfc3339_ns(f.until)\n}\n",
      "input": "{\n  \"request\": {\n    \"user\": \"alice\",\n    \"service\": \"checkout\",\n    \"time\": \"2026-12-21T17:30:00Z\"\n  }\n}\n",
      "format": "auto",
      "filename": "input.json",
      "data": "{\n  \"window\": {\n    \"zone\": \"Europe/Berlin\",\n    \"days\": [\n      \"Monday\",\n      \"Tuesday\",\n      \"Wednesday\",\n      \"Thursday\",\n      \"Friday\"\n    ],\n    \"start_hour\": 8,\n    \"end_hour\": 18,\n    \"freezes\": [\n      {\n        \"name\": \"year-end\",\n        \"from\": \"2026-12-20T00:00:00Z\",\n        \"until\": \"2027-01-04T00:00:00Z\"\n      }\n    ]\n  }\n}\n",
      "query": "data.deploy.window"
    }
  },
  {
    "id": "required-labels",
    "title": "Required labels (Gatekeeper)",
    "state": {
      "mode": "gatekeeper",
      "policy": "",
      "input": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n    team: Payments-EU\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: payments\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: payments\n  labels:\n    team: payments\nspec:\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n        - name: api\n          image: registry.example.com/api:3.1\n",
      "format": "yaml",
      "filename": "objects.yaml",
      "data": "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: k8srequiredlabels\nspec:\n  crd:\n    spec:\n      names:\n        kind: K8sRequiredLabels\n      validation:\n        openAPIV3Schema:\n          type: object\n          properties:\n            message:\n              type: string\n            labels:\n              type: array\n              items:\n                type: object\n                properties:\n                  key:\n                    type: string\n                  allowedRegex:\n                    type: string\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      code:\n        - engine: Rego\n          source:\n            version: v1\n            rego: |\n              package k8srequiredlabels\n\n              labels := object.get(input.review.object.metadata, \"labels\", {})\n\n              violation contains {\"msg\": msg, \"details\": {\"missing\": missing}} if {\n                required := {l.key | some l in input.parameters.labels}\n                missing := required - {k | some k, _ in labels}\n                count(missing) > 0\n                msg := sprintf(\"%s: missing label(s) %v\", [object.get(input.parameters, \"message\", \"labels required\"), sort(missing)])\n              }\n\n              violation contains {\"msg\": msg} if {\n                some l in input.parameters.labels\n                value := labels[l.key]\n                l.allowedRegex != \"\"\n                not regex.match(l.allowedRegex, value)\n                msg := sprintf(\"label %s=%q does not match %s\", [l.key, value, l.allowedRegex])\n              }\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata:\n  name: ns-and-deploy-need-team\nspec:\n  match:\n    kinds:\n      - apiGroups: [\"\"]\n        kinds: [\"Namespace\"]\n      - apiGroups: [\"apps\"]\n        kinds: [\"Deployment\"]\n  parameters:\n    message: \"needs a team label\"\n    labels:\n      - key: team\n        allowedRegex: \"^[a-z]+$\"\n",
      "query": ""
    }
  },
  {
    "id": "dockerfile-golden",
    "title": "Dockerfile golden images (conftest)",
    "state": {
      "mode": "test",
      "policy": "# Golden images: every stage of a Dockerfile builds on an approved base image, pinned to a\n# version (never :latest), and the final stage does not run as root.\npackage main\n\ngolden := {\n\t\"cgr.dev/chainguard/node\",\n\t\"cgr.dev/chainguard/python\",\n\t\"registry.example.com/base/alpine\",\n\t\"registry.example.com/base/distroless\",\n}\n\nstages := {instr.Stage: instr.Value[0] | some instr in input; instr.Cmd == \"from\"}\n\nrepository(image) := split(image, \":\")[0]\n\ndeny contains msg if {\n\tsome stage, image in stages\n\tnot repository(image) in golden\n\tnot image in aliases\n\tmsg := sprintf(\"stage %d: %s is not a golden image (use one of %s)\", [stage, image, concat(\", \", sort(golden))])\n}\n\ndeny contains msg if {\n\tsome stage, image in stages\n\tendswith(image, \":latest\")\n\tmsg := sprintf(\"stage %d: %s is not pinned (the :latest tag)\", [stage, image])\n}\n\n# Names given to earlier stages (FROM x AS name) may be built on.\naliases contains lower(instr.Value[2]) if {\n\tsome instr in input\n\tinstr.Cmd == \"from\"\n\tcount(instr.Value) == 3\n}\n\nfinal := max([instr.Stage | some instr in input])\n\nwarn contains \"the final stage runs as root (add a USER instruction)\" if not final_user\n\nfinal_user if {\n\tsome instr in input\n\tinstr.Stage == final\n\tinstr.Cmd == \"user\"\n}\n",
      "input": "FROM cgr.dev/chainguard/node:latest AS build\nWORKDIR /src\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n\nFROM node:20-alpine\nENV NODE_ENV=production\nWORKDIR /app\nCOPY --from=build /src/dist ./dist\nEXPOSE 8080\nCMD [\"node\", \"dist/server.js\"]\n",
      "format": "auto",
      "filename": "Dockerfile",
      "data": "",
      "query": ""
    }
  }
];
