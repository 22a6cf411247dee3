# The single strata binary in a minimal image.
#
#   docker build -t strata .
#   docker run -p 8086:8086 -v strata-data:/var/lib/strata strata
#
# Build stage: a static binary (Strata needs no cgo), version stamped by
# --build-arg VERSION=...
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0-dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/strata ./cmd/strata \
 && mkdir -p /out/data

# Run stage: distroless (no shell, no package manager), as a non-root user. The
# data directory exists in the image owned by that user, so a fresh named volume
# mounted there is writable.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/strata /usr/local/bin/strata
COPY --from=build --chown=65532:65532 /out/data /var/lib/strata
USER 65532:65532
VOLUME /var/lib/strata
EXPOSE 8086
ENTRYPOINT ["/usr/local/bin/strata"]
# Listen on every interface inside the container; publish the port to choose who
# reaches it. GET /health answers 200 while the server can take writes.
CMD ["serve", "--data-dir", "/var/lib/strata", "--http-addr", "0.0.0.0:8086"]
