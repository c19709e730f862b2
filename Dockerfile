# syntax=docker/dockerfile:1
# Build a static binary, then run it as a non-root user in a scratch-like image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/brokersync ./cmd/brokersync

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/brokersync /usr/local/bin/brokersync
ENV BROKERSYNC_HTTP_ADDR=0.0.0.0:8080 \
    BROKERSYNC_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/brokersync"]
CMD ["serve"]
