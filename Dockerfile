FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev
ENV HOST=0.0.0.0
EXPOSE 8000
# The same Node flags as `npm start` (see README, Benchmarks).
CMD ["node", "--max-semi-space-size=32", "dist/bin/aurora.js"]
