# The build stage uses node:latest, the final stage an untagged image (DF-002 twice).
# FROM build is a stage reference, not an image: it is not checked.
FROM node:latest AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM deps AS build
COPY . .
RUN npm run build

FROM node
WORKDIR /app
COPY --from=build /app /app
USER node
HEALTHCHECK CMD ["node", "healthcheck.js"]
CMD ["node", "dist/server.js"]
