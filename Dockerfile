FROM node:20.19.5-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev
# Aurora runs as the image's unprivileged `node` user; the only place it writes is /data (SQLite),
# created here so a fresh named volume mounted on it inherits this owner.
RUN mkdir -p /data && chown node:node /data
ENV HOST=0.0.0.0 DATABASE_PATH=/data/aurora.db
USER node
EXPOSE 8000
# The same Node flags as `npm start` (see README, Benchmarks).
CMD ["node", "--max-semi-space-size=32", "dist/bin/aurora.js"]
