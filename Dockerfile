# The Portcullis image (docs/deploy.md): the npm package built and packed in a build stage, then
# installed from its own tarball with `npm ci --omit=dev` on Node 20 slim. Runs as a numeric
# non-root user, writes nothing outside /tmp (read-only root file system friendly), and its
# entry point is the portcullis command:
#   docker build -t ghcr.io/portcullis/portcullis:0.1.0 .
#   docker run --rm ghcr.io/portcullis/portcullis:0.1.0 eval 1+1
# The base image is pinned by exact version tag; pin its digest too when you build
# (FROM node:20.20.2-bookworm-slim@sha256:…): this repository's build machine has no registry
# access to look it up.

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md LICENSE ./
COPY bin/ ./bin/
COPY scripts/ ./scripts/
COPY src/ ./src/
COPY library/ ./library/
RUN npm run build && mkdir /pkg && npm pack --pack-destination /pkg && mv /pkg/portcullis-*.tgz /pkg/portcullis.tgz

FROM node:20.20.2-bookworm-slim
LABEL org.opencontainers.image.title="portcullis" \
      org.opencontainers.image.description="Policy as code: Rego engine, conftest, Gatekeeper webhook and audit, OPA-compatible server" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HOME=/tmp \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /opt/portcullis
COPY --from=build /pkg/portcullis.tgz /tmp/portcullis.tgz
COPY package-lock.json /tmp/package-lock.json
RUN tar -xzf /tmp/portcullis.tgz --strip-components=1 -C /opt/portcullis \
    && cp /tmp/package-lock.json /opt/portcullis/package-lock.json \
    && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force \
    && ln -s /opt/portcullis/bin/portcullis.js /usr/local/bin/portcullis \
    && rm -rf /tmp/portcullis.tgz /tmp/package-lock.json /tmp/.npm
USER 10001:10001
EXPOSE 8443 8888 9090
# The controller's health endpoint (portcullis controller --health-addr=:9090); Kubernetes uses the
# chart's probes instead. One-shot commands (eval, test, …) do not serve it.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:9090/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
ENTRYPOINT ["portcullis"]
CMD ["--help"]
