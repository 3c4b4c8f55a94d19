# Credentials baked into ENV and passed as build ARGs (DF-006, DF-007).
# APP_ENV and NODE_VERSION are ordinary names and are not flagged.
FROM node:20.15-alpine
ARG NPM_TOKEN
ARG NODE_VERSION=20
ENV APP_ENV=production DATABASE_PASSWORD=s3cr3t
ENV AWS_SECRET_ACCESS_KEY wJalrXUtnFEMI
WORKDIR /app
COPY . .
RUN npm ci --omit=dev
USER node
HEALTHCHECK CMD ["node", "healthcheck.js"]
CMD ["node", "server.js"]
