# Trust switched off and credentials baked in: curl -k and NODE_TLS_REJECT_UNAUTHORIZED=0
# (DF-041 twice), an AWS access key id as an ENV value (DF-042; its name is not secret-like)
# and a password set with chpasswd (DF-043).
FROM node:20.15-alpine
ENV NODE_TLS_REJECT_UNAUTHORIZED=0 AWS_ID=AKIAIOSFODNN7EXAMPLE
RUN apk upgrade --no-cache && apk add --no-cache curl \
 && curl -k -fsSL -o /tmp/bundle.tgz https://internal.example/bundle.tgz
RUN set -o pipefail && echo "node:changeme" | chpasswd
WORKDIR /app
COPY . /app/
USER node
HEALTHCHECK CMD ["node", "healthcheck.js"]
CMD ["node", "server.js"]
