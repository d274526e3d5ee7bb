# bluegreen for CI pipelines and the controller: the complete build (every
# command, no companion needed), a static binary on a distroless base, run as
# a non-root user. Build: docker build --build-arg VERSION=$(git describe --tags --always) -t bluegreen .
# Run:   docker run --rm -v ~/.kube:/home/nonroot/.kube:ro bluegreen status shop -n prod

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=""
ARG DATE=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/bluegreen/bluegreen/internal/cli.Version=${VERSION} -X github.com/bluegreen/bluegreen/internal/cli.Commit=${COMMIT} -X github.com/bluegreen/bluegreen/internal/cli.Date=${DATE}" \
      -o /out/bluegreen ./cmd/bluegreen

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bluegreen /usr/local/bin/bluegreen
COPY LICENSE /usr/share/doc/bluegreen/LICENSE
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/bluegreen"]
